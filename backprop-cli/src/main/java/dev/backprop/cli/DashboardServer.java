package dev.backprop.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.backprop.io.Json;
import dev.backprop.train.RunReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The live dashboard of a run ({@code train --dashboard}, {@code backprop dashboard}): the JDK's
 * HTTP server, on the loopback interface unless {@code backprop dashboard --bind ADDRESS
 * --allow-remote} asks for another (then with a warning: no authentication, no TLS). The page is served once; its script
 * ({@code /dashboard.js}, served from the jar: nothing is fetched from elsewhere) polls
 * {@code /api/run} every two seconds and swaps in the charts, drawn on the server by the same
 * renderer as {@code report.html} ({@link RunReport.Live}), whenever the run has written
 * something new.
 *
 * <p>Routes (fixed; anything else is 404): {@code /} the page, {@code /dashboard.js},
 * {@code /api/run} (the report's data object plus {@code version}, {@code updated},
 * {@code bytes} and the rendered {@code html}; with {@code ?since=VERSION} only
 * {@code {"unchanged": true, ...status}} while nothing changed), {@code /report.html} (the
 * static report, for browsers without script), {@code /metrics.jsonl} and {@code /manifest.json}.
 * GET and HEAD only; requests naming another host than the loopback one are refused (DNS
 * rebinding); every answer says {@code Cache-Control: no-store} and
 * {@code X-Content-Type-Options: nosniff}. A failing request answers 500 and never reaches the
 * training it watches.
 */
final class DashboardServer implements AutoCloseable {
    /** Milliseconds between two polls of the page. */
    static final int POLL_MS = 2000;
    static final String SCRIPT_RESOURCE = "dashboard/dashboard.js";
    private static final String CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; "
            + "style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";

    private final HttpServer server;
    private final RunReport.Live run;
    private final byte[] script;
    private final Set<String> hosts;

    /** Serves the run folder {@code runDir} on 127.0.0.1:{@code port} (0: any free port). */
    DashboardServer(Path runDir, int port) throws IOException {
        this(runDir, port, "--port 0");
    }

    /**
     * Serves the run folder {@code runDir} on 127.0.0.1:{@code port}; {@code anyPortHint} is the
     * option that asks for a free port, named when {@code port} is taken.
     */
    DashboardServer(Path runDir, int port, String anyPortHint) throws IOException {
        this(runDir, port, anyPortHint, null);
    }

    /**
     * Serves the run folder on {@code address}:{@code port}; {@code address} null means the loopback
     * interface. Any other address must have been confirmed by the user ({@code --allow-remote}):
     * the server then answers requests for any host name, since it cannot know the names others
     * use to reach it.
     */
    DashboardServer(Path runDir, int port, String anyPortHint, InetAddress address) throws IOException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("dashboard port " + port + " is not a TCP port (0 to 65535; 0 picks "
                    + "any free one)");
        }
        this.run = new RunReport.Live(runDir);
        try (InputStream in = DashboardServer.class.getResourceAsStream(SCRIPT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's script " + SCRIPT_RESOURCE + " is missing from the "
                        + "jar (a broken build?)");
            }
            this.script = in.readAllBytes();
        }
        InetAddress bind = address == null ? InetAddress.getLoopbackAddress() : address;
        try {
            this.server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        } catch (BindException e) {
            throw new IOException("port " + port + " on " + bind.getHostAddress() + " is already in use (another "
                    + "dashboard still running?), or the address is not one of this machine's: choose another port, "
                    + "or " + anyPortHint + " for any free one", e);
        }
        int bound = server.getAddress().getPort();
        if (bind.isLoopbackAddress()) {
            this.hosts = new java.util.HashSet<>(Set.of("127.0.0.1:" + bound, "localhost:" + bound, "[::1]:" + bound));
            hosts.add(url().substring("http://".length(), url().length() - 1).toLowerCase(Locale.ROOT));
        } else {
            this.hosts = null; // reached from elsewhere under names it cannot know: confirmed by --allow-remote
        }
        server.createContext("/", this::handle);
        server.setExecutor(null); // the server's own thread: requests are rare and small
        server.start();
    }

    /** The port the server listens on (the one asked for, or the one the system chose for 0). */
    int port() {
        return server.getAddress().getPort();
    }

    /** The page's address, {@code http://127.0.0.1:PORT/}. */
    String url() {
        InetAddress a = server.getAddress().getAddress();
        String host = a instanceof java.net.Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
        return "http://" + host + ":" + port() + "/";
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            if (!"GET".equals(method) && !"HEAD".equals(method)) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                send(ex, 405, "text/plain; charset=utf-8", "only GET and HEAD".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String host = ex.getRequestHeaders().getFirst("Host");
            if (host != null && hosts != null && !hosts.contains(host.toLowerCase(Locale.ROOT))) {
                send(ex, 403, "text/plain; charset=utf-8", ("the dashboard answers only to " + url()
                        + ", not to host " + host).getBytes(StandardCharsets.UTF_8));
                return;
            }
            String path = ex.getRequestURI().getRawPath();
            switch (path) {
                case "/", "/index.html" -> send(ex, 200, "text/html; charset=utf-8", page());
                case "/dashboard.js" -> send(ex, 200, "text/javascript; charset=utf-8", script);
                case "/api/run" -> send(ex, 200, "application/json; charset=utf-8",
                        api(query(ex.getRequestURI().getRawQuery(), "since")).getBytes(StandardCharsets.UTF_8));
                case "/report.html" -> {
                    String html;
                    synchronized (run) {
                        run.refresh();
                        html = run.html();
                    }
                    send(ex, 200, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
                }
                case "/metrics.jsonl" -> file(ex, "metrics.jsonl", "application/x-ndjson; charset=utf-8");
                case "/manifest.json" -> file(ex, "manifest.json", "application/json; charset=utf-8");
                default -> send(ex, 404, "text/plain; charset=utf-8", ("not found: " + path + " (the dashboard serves "
                        + "/, /api/run, /report.html, /metrics.jsonl and /manifest.json)")
                        .getBytes(StandardCharsets.UTF_8));
            }
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            // a request must never stop the training it watches
            try {
                send(ex, 500, "text/plain; charset=utf-8", ("dashboard error: " + e.getMessage())
                        .getBytes(StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException ignored) {
                // the client has gone, or the answer was already under way
            }
        }
    }

    private byte[] page() {
        String body = "<div id=\"run\" data-api=\"/api/run\" data-poll-ms=\"" + POLL_MS + "\">"
                + "<p id=\"status\" class=\"status\">loading the run\u2026</p></div>\n"
                + "<noscript><p>This live page needs JavaScript; <a href=\"/report.html\">the static report</a> "
                + "does not.</p></noscript>\n<script src=\"/dashboard.js\"></script>\n";
        return RunReport.page("backprop dashboard", "", body).getBytes(StandardCharsets.UTF_8);
    }

    /** The {@code /api/run} answer: everything, or only the status when {@code since} is still current. */
    private String api(String since) throws IOException {
        synchronized (run) {
            run.refresh();
            Map<String, Object> data = run.data();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("version", run.version());
            out.put("status", data.get("status"));
            out.put("step", data.get("step"));
            out.put("records", data.get("records"));
            out.put("bytes", run.bytesRead());
            out.put("updated", run.updated());
            if (run.version().equals(since)) {
                out.put("unchanged", true);
                return Json.write(out);
            }
            out.putAll(data);
            out.put("html", run.body());
            return Json.write(out);
        }
    }

    private static String query(String raw, String name) {
        if (raw == null) {
            return null;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private void file(HttpExchange ex, String name, String type) throws IOException {
        Path f = run.dir().resolve(name);
        send(ex, 200, type, Files.isRegularFile(f) ? Files.readAllBytes(f) : new byte[0]);
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        var headers = ex.getResponseHeaders();
        headers.set("Content-Type", type);
        headers.set("Cache-Control", "no-store");
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("Referrer-Policy", "no-referrer");
        headers.set("X-Frame-Options", "DENY");
        headers.set("Content-Security-Policy", CSP);
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Stops serving (at once: the page's script then says the dashboard stopped). */
    @Override
    public void close() {
        server.stop(0);
    }
}
