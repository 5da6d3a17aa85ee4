#!/usr/bin/python3
"""PyTorch (CPU) anchor timings for W1-W5 of WORKLOADS.md (in ../shared).

backprop's copy, run by `./backprop bench --torch` (extracted from the jar). Changes from the
shared original: --fresh-batches (cycle through 16 batches drawn up front instead of one fixed
batch, as backprop's --fresh-batches does) and --narrow (time numpy.matmul on the narrow GEMM
shapes of W1-W4 given as MxNxK:TT,...; T/N says whether A/B is read transposed).

Needs Debian's python3-torch (apt-get install python3-torch python3-numpy); run with Debian's
python, not a pyenv/venv one:
    /usr/bin/python3 ../shared/bench/torch/bench.py --out /tmp/torch-bench.json

The driver starts one worker process per configuration ("1", "2", "2p"; p = the
OpenMP wait policy PASSIVE, i.e. env OMP_WAIT_POLICY=PASSIVE). Each worker fixes BOTH
thread pools torch uses on this build before timing anything:
  * OpenMP (ATen kernels, oneDNN convolutions): torch.set_num_threads(n), OMP_NUM_THREADS=n
  * OpenBLAS (Debian's torch calls sgemm_ from libblas.so.3 -> OpenBLAS pthread build for
    every Linear/matmul): OPENBLAS_NUM_THREADS=n and openblas_set_num_threads(n).
torch.set_num_threads() alone does NOT limit OpenBLAS (see --torch-threads-only).

One step = zero_grad + forward + loss + backward (+ grad-norm clip for W3/W4) + optimizer step.
Per workload: 5 warm-up steps, then `--blocks` blocks of `--steps` timed steps each; the
reported step time is the median over all timed steps; the per-block medians show the
drift. Forward-only = model(x) + loss under torch.no_grad(), same protocol.
W5: C = A.B with torch.mm(out=) and numpy.matmul(out=), median over >= 10 calls and >= 1 s.
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def openblas():
    try:
        lib = ctypes.CDLL('libopenblas.so.0')
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib
    except OSError:
        return None


# ------------------------------------------------------------------ worker
def busy_s():
    """(CPU seconds used by the whole machine, CPU seconds used by this process)."""
    with open('/proc/stat') as fh:
        f = fh.readline().split()
    hz = os.sysconf('SC_CLK_TCK')
    busy = sum(int(v) for i, v in enumerate(f[1:9]) if i not in (3, 4)) / hz  # all but idle, iowait
    t = os.times()
    return busy, t.user + t.system


def foreign_load(fn):
    """Run fn(); also return the average number of cores other processes kept busy meanwhile."""
    b0, s0, w0 = *busy_s(), time.perf_counter()
    r = fn()
    b1, s1, w1 = *busy_s(), time.perf_counter()
    r['foreign_cores'] = max(0.0, ((b1 - b0) - (s1 - s0)) / (w1 - w0))
    return r


def time_fn(fn, warmup, steps, blocks):
    for _ in range(warmup):
        fn()
    per_block = []
    for _ in range(blocks):
        ts = []
        for _ in range(steps):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        per_block.append(ts)
    allts = [t for b in per_block for t in b]
    return {
        'median_ms': 1e3 * statistics.median(allts),
        'min_ms': 1e3 * min(allts),
        'mean_ms': 1e3 * statistics.fmean(allts),
        'block_medians_ms': [1e3 * statistics.median(b) for b in per_block],
        'n': len(allts),
    }


def make_workload(name, torch, M, fresh=False):
    g = torch.Generator().manual_seed(0)
    pool = 16 if fresh else 1
    if name == 'W1':
        B = 128
        model, opt = None, None
        model = M.w1_model()
        opt = M.w1_optimizer(model)
        xs = [(torch.randn(B, 784, generator=g), torch.randint(0, 10, (B,), generator=g)) for _ in range(pool)]
        loss_fn = torch.nn.functional.cross_entropy
        clip = False
    elif name == 'W2':
        B = 64
        model = M.w2_model()
        opt = M.w2_optimizer(model)
        xs = [(torch.randn(B, 1, 28, 28, generator=g), torch.randint(0, 10, (B,), generator=g)) for _ in range(pool)]
        loss_fn = torch.nn.functional.cross_entropy
        clip = False
    elif name == 'W3':
        B = 12
        model = M.w3_model()
        opt = M.w3_optimizer(model)
        xs = [(torch.randint(0, M.VOCAB, (B, M.CTX), generator=g), torch.randint(0, M.VOCAB, (B, M.CTX), generator=g)) for _ in range(pool)]
        loss_fn = M.seq_loss
        clip = True
    elif name == 'W4':
        B = 32
        model = M.w4_model()
        opt = M.w4_optimizer(model)
        xs = [(torch.randint(0, M.VOCAB, (B, 64), generator=g), torch.randint(0, M.VOCAB, (B, 64), generator=g)) for _ in range(pool)]
        loss_fn = M.seq_loss
        clip = True
    else:
        raise ValueError(name)
    model.train()
    params = list(model.parameters())

    counter = [0, 0]

    def step():
        x, y = xs[counter[0] % pool]
        counter[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss

    def forward():
        x, y = xs[counter[1] % pool]
        counter[1] += 1
        with torch.no_grad():
            return loss_fn(model(x), y)

    return B, M.n_params(model), step, forward


def gemm(n, lib, torch, np, min_reps=10, min_time=1.0):
    if lib == 'torch':
        g = torch.Generator().manual_seed(n)
        a = torch.randn(n, n, generator=g)
        b = torch.randn(n, n, generator=g)
        c = torch.empty(n, n)
        fn = lambda: torch.mm(a, b, out=c)
    else:
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        fn = lambda: np.matmul(a, b, out=c)
    return {'n': n, 'lib': lib, **time_gemm(fn, 2.0 * n ** 3, min_reps, min_time)}


def time_gemm(fn, flop, min_reps, min_time):
    """Median of >= min_reps calls lasting >= min_time s together, after 3 untimed calls."""
    for _ in range(3):
        fn()
    ts = []
    t_start = time.perf_counter()
    while len(ts) < min_reps or time.perf_counter() - t_start < min_time:
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    med = statistics.median(ts)
    return {'median_ms': 1e3 * med, 'gflops': flop / med / 1e9, 'best_gflops': flop / min(ts) / 1e9,
            'reps': len(ts)}


def narrow_gemm(spec, np, min_reps=10, min_time=0.5):
    dims, trans = spec.split(':')
    m, n, k = (int(v) for v in dims.split('x'))
    rng = np.random.default_rng(m * 31 + n * 17 + k)
    a = rng.standard_normal((k, m) if trans[0] == 'T' else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans[1] == 'T' else (k, n), dtype=np.float32)
    a = a.T if trans[0] == 'T' else a  # transposed views: numpy hands BLAS the transpose flag, no copy
    b = b.T if trans[1] == 'T' else b
    c = np.empty((m, n), dtype=np.float32)
    return {'spec': spec, 'lib': 'numpy', **time_gemm(lambda: np.matmul(a, b, out=c), 2.0 * m * n * k, min_reps,
                                                      min_time)}


def parse_config(c):
    n = int(c.rstrip('p'))
    return n, c.endswith('p')


def worker(args):
    import numpy as np
    import torch
    sys.path.insert(0, HERE)
    import models as M

    n, passive = parse_config(args.config)
    torch.set_num_threads(n)
    ob = openblas()
    if ob is not None and not args.torch_threads_only:
        ob.openblas_set_num_threads(n)
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(0)
    info = {
        'config': args.config,
        'threads': n,
        'OMP_WAIT_POLICY': os.environ.get('OMP_WAIT_POLICY'),
        'torch_threads_only': args.torch_threads_only,
        'flush_denormal': args.flush_denormal,
        'torch.get_num_threads': torch.get_num_threads(),
        'openblas_threads': ob.openblas_get_num_threads() if ob else None,
        'loadavg_start': os.getloadavg(),
    }
    res = {'info': info, 'workloads': {}, 'gemm': [], 'narrow': []}
    for spec in (args.narrow.split(',') if args.narrow else []):
        r = narrow_gemm(spec, np)
        res['narrow'].append(r)
        print(f'  [{args.config}] narrow {spec}: {r["gflops"]:7.1f} GFLOP/s', file=sys.stderr)
    for w in args.workloads:
        if w == 'W5':
            for size in (256, 512, 1024, 2048):
                for lib in ('torch', 'numpy'):
                    r = foreign_load(lambda: gemm(size, lib, torch, np))
                    res['gemm'].append(r)
                    print(f'  [{args.config}] W5 {lib:5s} n={size:4d}: {r["gflops"]:7.1f} GFLOP/s '
                          f'(median {r["median_ms"]:.3f} ms, {r["reps"]} reps, '
                          f'other procs {r["foreign_cores"]:.2f} cores)', file=sys.stderr)
            continue
        B, npar, step, forward = make_workload(w, torch, M, args.fresh_batches)
        s = foreign_load(lambda: time_fn(step, args.warmup, args.steps, args.blocks))
        f = foreign_load(lambda: time_fn(forward, args.warmup, args.steps, args.blocks))
        r = {'batch': B, 'params': npar, 'step': s, 'forward': f,
             'samples_per_s': B / (s['median_ms'] / 1e3),
             'bwd_update_over_fwd': (s['median_ms'] - f['median_ms']) / f['median_ms']}
        res['workloads'][w] = r
        print(f'  [{args.config}] {w}: step {s["median_ms"]:8.3f} ms  fwd {f["median_ms"]:8.3f} ms  '
              f'{r["samples_per_s"]:9.1f} samples/s  blocks {["%.2f" % v for v in s["block_medians_ms"]]}  '
              f'other procs {s["foreign_cores"]:.2f} cores',
              file=sys.stderr)
    info['loadavg_end'] = os.getloadavg()
    print(json.dumps(res))


# ------------------------------------------------------------------ driver
def env_info():
    import numpy as np
    import torch
    ob = openblas()
    cpu = ''
    try:
        with open('/proc/cpuinfo') as fh:
            for line in fh:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    cfg = torch.__config__.show()
    cap = [l.strip() for l in cfg.splitlines() if 'CPU capability' in l]
    blas = [l.strip() for l in cfg.splitlines() if 'BLAS_INFO' in l]
    return {
        'python': platform.python_version(),
        'torch': torch.__version__,
        'numpy': np.__version__,
        'cpu': cpu,
        'nproc': os.cpu_count(),
        'aten_cpu_capability': cap[0] if cap else None,
        'torch_build_blas': blas[0].split(',')[1].strip() if blas else None,
        'openblas_config': ob.openblas_get_config().decode() if ob else None,
        'openblas_core': ob.openblas_get_corename().decode() if ob else None,
        'torch_default_threads': torch.get_num_threads(),
        'torch_config_show': cfg,
        'torch_parallel_info': torch.__config__.parallel_info(),
        'ATEN_CPU_CAPABILITY': os.environ.get('ATEN_CPU_CAPABILITY'),
    }


def label(info):
    t = f"{info['threads']}t"
    if info.get('OMP_WAIT_POLICY'):
        t += ' ' + info['OMP_WAIT_POLICY'].lower()
    if info.get('flush_denormal'):
        t += ' FTZ'
    if info['torch_threads_only']:
        t += ' (set_num_threads only, OpenBLAS %s)' % info['openblas_threads']
    return t


def fmt_tables(results):
    out = []
    wls = [w for w in ('W1', 'W2', 'W3', 'W4') if any(w in r['workloads'] for r in results)]
    for w in wls:
        r0 = next(r['workloads'][w] for r in results if w in r['workloads'])
        out.append(f'\n### {w} (batch {r0["batch"]}, {r0["params"]:,} parameters)\n')
        out.append('| config | step ms (median) | samples/s | forward ms (no_grad) | (step-fwd)/fwd | step block medians ms |')
        out.append('|---|---|---|---|---|---|')
        for r in results:
            if w not in r['workloads']:
                continue
            x = r['workloads'][w]
            tag = label(r['info'])
            out.append(f'| {tag} | {x["step"]["median_ms"]:.3f} | {x["samples_per_s"]:.0f} | '
                       f'{x["forward"]["median_ms"]:.3f} | {x["bwd_update_over_fwd"]:.2f} | '
                       f'{" / ".join("%.2f" % v for v in x["step"]["block_medians_ms"])} |')
    if any(r['gemm'] for r in results):
        out.append('\n### W5 GEMM GFLOP/s (median; best in parentheses)\n')
        cols = [(label(r['info']), r) for r in results if r['gemm']]
        hdr = '| n |'
        for t, _ in cols:
            for lib in ('torch', 'numpy'):
                hdr += f' {lib} {t} |'
        out.append(hdr)
        out.append('|---|' + '---|' * (2 * len(cols)))
        for n in (256, 512, 1024, 2048):
            row = f'| {n} |'
            for _, r in cols:
                for lib in ('torch', 'numpy'):
                    g = next(x for x in r['gemm'] if x['n'] == n and x['lib'] == lib)
                    row += f' {g["gflops"]:.1f} ({g["best_gflops"]:.1f}) |'
            out.append(row)
    return '\n'.join(out)


def summarize(paths, title_suffix=''):
    """Tables over several result files of the same configurations. Per workload and
    configuration: the median over runs of the per-run median step time (the anchor), the
    best run, and every run with the number of cores other processes kept busy meanwhile."""
    runs = [json.load(open(p)) for p in paths]
    med = statistics.median
    out = []
    for w in ('W1', 'W2', 'W3', 'W4'):
        rows = {}
        for run in runs:
            for r in run['results']:
                if w in r['workloads']:
                    rows.setdefault(label(r['info']), []).append(r['workloads'][w])
        if not rows:
            continue
        x0 = next(iter(rows.values()))[0]
        out.append(f'\n### {w} (batch {x0["batch"]}, {x0["params"]:,} parameters){title_suffix}\n')
        out.append('| config | step ms | samples/s | forward ms | (step-fwd)/fwd | best run: step ms / samples/s '
                   '| step ms per run | forward ms per run | other processes, cores (step runs) |')
        out.append('|---|---|---|---|---|---|---|---|---|')
        for tag, xs in rows.items():
            st = [x['step']['median_ms'] for x in xs]
            fw = [x['forward']['median_ms'] for x in xs]
            s_, f_ = med(st), med(fw)
            fc = ' / '.join('%.2f' % x['step']['foreign_cores'] if 'foreign_cores' in x['step'] else '-' for x in xs)
            out.append(f'| {tag} | {s_:.2f} | {x0["batch"] / s_ * 1e3:.0f} | {f_:.2f} | {(s_ - f_) / f_:.2f} | '
                       f'{min(st):.2f} / {x0["batch"] / min(st) * 1e3:.0f} | '
                       f'{" / ".join("%.2f" % v for v in st)} | {" / ".join("%.2f" % v for v in fw)} | {fc} |')
    cols = {}
    for run in runs:
        for r in run['results']:
            for g in r['gemm']:
                cols.setdefault((label(r['info']), g['lib']), {}).setdefault(g['n'], []).append(g['gflops'])
    if cols:
        out.append(f'\n### W5 GEMM GFLOP/s{title_suffix}: median over runs [best run] (every run)\n')
        out.append('| n | ' + ' | '.join(f'{lib} {tag}' for tag, lib in cols) + ' |')
        out.append('|---|' + '---|' * len(cols))
        for n in (256, 512, 1024, 2048):
            out.append(f'| {n} | ' + ' | '.join(
                f'{med(v[n]):.0f} [{max(v[n]):.0f}] ({" / ".join("%.0f" % g for g in v[n])})'
                for v in cols.values()) + ' |')
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--configs', nargs='*', default=['1', '2', '2p'],
                    help='thread configurations: N = N threads, Np = N threads with OMP_WAIT_POLICY=PASSIVE')
    ap.add_argument('--workloads', nargs='*', default=['W1', 'W2', 'W3', 'W4', 'W5'])
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--steps', type=int, default=30, help='timed steps per block')
    ap.add_argument('--blocks', type=int, default=3, help='blocks of timed steps')
    ap.add_argument('--torch-threads-only', action='store_true',
                    help='diagnostic: only call torch.set_num_threads(n); leave OpenBLAS at its default')
    ap.add_argument('--flush-denormal', action='store_true',
                    help='diagnostic: torch.set_flush_denormal(True) (FTZ/DAZ) in the workers')
    ap.add_argument('--fresh-batches', action='store_true',
                    help='cycle through 16 batches drawn up front instead of one fixed batch')
    ap.add_argument('--narrow', default='',
                    help='narrow GEMM shapes to time with numpy.matmul: MxNxK:TT,... (T/N: A/B transposed)')
    ap.add_argument('--out', default='torch-bench.json')
    ap.add_argument('--summarize', nargs='+', metavar='JSON',
                    help='print tables over result files written earlier (no timing)')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--config', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.summarize:
        return print(summarize(args.summarize))

    info = env_info()
    print(f'torch {info["torch"]}, numpy {info["numpy"]}, {info["cpu"]}, {info["aten_cpu_capability"]}, '
          f'{info["torch_build_blas"]}, OpenBLAS: {info["openblas_config"]} (core {info["openblas_core"]}), '
          f'torch default threads {info["torch_default_threads"]}', file=sys.stderr)
    results = []
    for c in args.configs:
        n, passive = parse_config(c)
        env = dict(os.environ)
        env.pop('OMP_WAIT_POLICY', None)
        if passive:
            env['OMP_WAIT_POLICY'] = 'PASSIVE'
        if not args.torch_threads_only:
            env.update(OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n))
        cmd = [sys.executable, os.path.abspath(__file__), '--worker', '--config', c,
               '--warmup', str(args.warmup), '--steps', str(args.steps), '--blocks', str(args.blocks),
               '--workloads', *args.workloads, '--narrow', args.narrow]
        if args.fresh_batches:
            cmd.append('--fresh-batches')
        if args.torch_threads_only:
            cmd.append('--torch-threads-only')
        if args.flush_denormal:
            cmd.append('--flush-denormal')
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True, text=True)
        results.append(json.loads(p.stdout.strip().splitlines()[-1]))
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as fh:
        json.dump({'env': info, 'args': {k: v for k, v in vars(args).items() if k != 'out'},
                   'date': time.strftime('%Y-%m-%d %H:%M:%S'), 'results': results}, fh, indent=1)
    print(fmt_tables(results))


if __name__ == '__main__':
    main()
