/*
 * backprop's live dashboard. Served from the jar by DashboardServer: polls /api/run every two
 * seconds and, when the run has written something new, swaps in the charts the server drew with
 * the same renderer as report.html. Keeps a status line: running or finished, the last step, when
 * the run last wrote, or that the dashboard stopped answering. No dependencies, nothing fetched
 * from elsewhere.
 */
(function () {
  'use strict';

  var root = document.getElementById('run');
  var api = root.getAttribute('data-api') || '/api/run';
  var interval = parseInt(root.getAttribute('data-poll-ms'), 10) || 2000;
  var version = null;
  var last = null;

  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }

  function clock(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return s < 120 ? s + ' s ago' : Math.round(s / 60) + ' min ago';
  }

  function setStatus(text, cls) {
    var el = document.getElementById('status');
    if (el) {
      el.textContent = text;
      el.className = 'status ' + cls;
    }
  }

  function describe(d) {
    var parts = [d.status === 'finished' ? 'finished' : 'running', 'step ' + d.step];
    if (d.updated > 0) {
      parts.push('last update ' + clock(d.updated) + ' (' + ago(d.updated) + ')');
    }
    if (d.status !== 'finished' && d.updated > 0 && Date.now() - d.updated > 5 * 60 * 1000) {
      parts.push('no new records for a while: stopped?');
    }
    return parts.join(' \u00b7 ');
  }

  function show(d) {
    if (!d.unchanged) {
      root.innerHTML = d.html;
      root.setAttribute('data-version', d.version);
      version = d.version;
      document.title = (d.status === 'finished' ? '' : '\u25cf ') + 'backprop run ' + d.id;
    }
    last = d;
    setStatus(describe(d), d.status);
  }

  function fail(e) {
    var why = e && e.message ? e.message : String(e);
    if (last && last.status === 'finished') {
      setStatus('finished \u00b7 step ' + last.step + ' \u00b7 the dashboard has stopped; report.html in the run '
          + 'folder holds the final report', 'lost');
    } else {
      setStatus('no answer from the dashboard (' + why + '); retrying\u2026', 'lost');
    }
  }

  function poll() {
    var url = api + (version === null ? '' : '?since=' + encodeURIComponent(version));
    fetch(url, {cache: 'no-store', headers: {Accept: 'application/json'}})
      .then(function (r) {
        if (!r.ok) {
          return r.text().then(function (t) {
            throw new Error(t || 'HTTP ' + r.status);
          });
        }
        return r.json();
      })
      .then(show)
      .catch(fail)
      .then(function () {
        setTimeout(poll, interval);
      });
  }

  poll();
})();
