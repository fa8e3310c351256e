"""Benchmark: the Capacity page's sweep — 5 rules × 64 values of N × 16 seeds at d_k = 32 — must take under 2 s on CPU.

Each rule is one ``fwp_core.metrics.capacity_curve`` call (through ``fwp_core.experiments.capacity.sweep_raw``, which the page
uses): one batched run over all 16 seeds, every N = 1..64 read from the same run, no Python loop over seeds.
After one warm-up, the sweep is timed ``--repeats`` times; the best time decides PASS/FAIL (the others show the
noise of a shared machine).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_capacity.py [--threads N] [--repeats R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from fwp_core.experiments.capacity import sweep_raw as capacity_sweep_raw  # noqa: E402

RULES = ("hebbian", "decay", "delta", "gated_delta", "rls")
D_K, N_VALUES, SEEDS, BUDGET_S = 32, 64, 16, 2.0


def sweep() -> dict:
    return capacity_sweep_raw(RULES, d_k=D_K, d_v=D_K, n_max=N_VALUES, seeds=SEEDS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    curves = sweep()  # warm-up
    assert all(c.per_seed.shape == (SEEDS, N_VALUES) for c in curves.values())
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        sweep()
        times.append(time.perf_counter() - t0)
    best = min(times)
    ok = best < BUDGET_S
    print(f"capacity sweep: {len(RULES)} rules × {N_VALUES} N × {SEEDS} seeds at d_k = {D_K} "
          f"(torch threads: {torch.get_num_threads()})")
    print(f"  runs: {', '.join(f'{t:.3f}' for t in times)} s; median {statistics.median(times):.3f} s; best {best:.3f} s")
    print(f"  {'PASS' if ok else 'FAIL'}: best {best:.3f} s {'<' if ok else '≥'} {BUDGET_S:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
