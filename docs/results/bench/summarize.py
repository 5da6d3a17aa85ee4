#!/usr/bin/env python3
"""Median tables over several `./backprop bench --torch --json runN.json` files.

    python3 docs/results/bench/summarize.py docs/results/bench/run*.json

Per workload and thread count: the median over runs of each run's median step / forward time,
for backprop and PyTorch (timed in the same run), and the median of the per-run ratios.
Per GEMM shape: the median GFLOP/s of each side and of the per-run ratios.
"""
import json
import statistics
import sys

runs = [json.load(open(p)) for p in sys.argv[1:]]
med = statistics.median


def fmt(v):
    return f'{v:.0f}' if v >= 100 else f'{v:.1f}' if v >= 10 else f'{v:.2f}'


rows = {}
for run in runs:
    for w in run['workloads']:
        rows.setdefault((w['id'], w['threads']), []).append(w)
print(f'{len(runs)} runs\n')
print('| workload | threads | step ms | PyTorch step ms | step ratio (per run) | forward ms | PyTorch fwd ms '
      '| fwd ratio (per run) | samples/s | alloc/step | first step ms |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
for (wid, t), ws in sorted(rows.items()):
    step = med(w['step_ms']['median'] for w in ws)
    fwd = med(w['forward_ms']['median'] for w in ws)
    line = f'| {wid} | {t} | {fmt(step)} | '
    if all('torch_step_ms' in w for w in ws):
        sr = [w['step_ratio'] for w in ws]
        fr = [w['forward_ratio'] for w in ws]
        line += (f'{fmt(med(w["torch_step_ms"] for w in ws))} | **{med(sr):.2f}** ({" / ".join(f"{r:.2f}" for r in sr)}) | '
                 f'{fmt(fwd)} | {fmt(med(w["torch_forward_ms"] for w in ws))} | '
                 f'**{med(fr):.2f}** ({" / ".join(f"{r:.2f}" for r in fr)}) | ')
    else:
        line += f'- | - | {fmt(fwd)} | - | - | '
    line += (f'{med(w["samples_per_s"] for w in ws):.0f} | {med(w["allocated_bytes_per_step"] for w in ws) / 1e6:.1f} MB | '
             f'{med(w["first_step_ms"] for w in ws):.0f} |')
    print(line)

gemm = {}
for run in runs:
    for g in run['gemm']:
        gemm.setdefault((g['threads'], g['spec'], g['label']), []).append(g)
if gemm:
    print('\n| GEMM | shape | threads | GFLOP/s | OpenBLAS GFLOP/s | % of OpenBLAS (per run) |')
    print('|---|---|---|---|---|---|')
    for (t, spec, label), gs in gemm.items():
        ours = med(g['gflops'] for g in gs)
        if all('openblas_gflops' in g for g in gs):
            pct = [100 * g['gflops'] / g['openblas_gflops'] for g in gs]
            print(f'| {label} | {spec} | {t} | {ours:.0f} | {med(g["openblas_gflops"] for g in gs):.0f} | '
                  f'**{med(pct):.0f}%** ({" / ".join(f"{p:.0f}" for p in pct)}) |')
        else:
            print(f'| {label} | {spec} | {t} | {ours:.0f} | - | - |')
