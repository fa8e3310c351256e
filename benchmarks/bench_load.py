"""A class on one server: the server's p95 time per Explorer Step with 20 concurrent browser sessions against
one user, measured in one run on this machine. Target: ratio ≤ 3×.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_load.py        # or: make bench

Uses the load test's generator (tests/browser/loadgen.py): the one-user baseline is 5 sessions one after the
other, 8 steps each (40 steps, so its p95 is not just its maximum); then 20 sessions ramp up, one a second,
and step 4 times each with a student's think time (3–6 s). The clients run idle-class on the same cores, so
the figures are the server's. Run it on an otherwise idle machine: it is a measurement, not a test.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import require_chromium, start_server, stop_server  # noqa: E402
from tests.browser.loadgen import N_SESSIONS, drive, rss_mb, run_async, stepper_run_times  # noqa: E402

SINGLE_RUNS, SINGLE_STEPS = 5, 8
TARGET = 3.0


def p95(xs: list[float]) -> float:
    return float(np.percentile(xs, 95))


def main() -> int:
    import tempfile

    require_chromium()
    log = Path(tempfile.mkdtemp()) / "server.log"
    proc, base = start_server({"FWP_LOG_LEVEL": "DEBUG"}, log=log)
    try:
        single = run_async(drive(base, list(range(SINGLE_RUNS)), think=(0.2, 0.5), steps=SINGLE_STEPS, together=False))
        runs = stepper_run_times(log)
        single_server = [ms for k, ms in enumerate(runs) if k % (1 + SINGLE_STEPS)]  # the clicks, not the loads
        mem0 = rss_mb(proc.pid)
        many = run_async(drive(base, list(range(N_SESSIONS))))
        many_server = stepper_run_times(log)[len(runs) + N_SESSIONS:]  # every session loads before any clicks
        mem = rss_mb(proc.pid)
    finally:
        stop_server(proc)
    errors = single["errors"] + many["errors"]
    ratio = p95(many_server) / p95(single_server)
    med = statistics.median
    print("| measure | one user | 20 sessions |\n|---|---:|---:|")
    print(f"| server time per Step, p95 | {p95(single_server):.0f} ms | {p95(many_server):.0f} ms |")
    print(f"| server time per Step, median | {med(single_server):.0f} ms | {med(many_server):.0f} ms |")
    print(f"| click → new step drawn in the (idle-class) browser, p95 | {p95(single['latency']):.0f} ms | {p95(many['latency']):.0f} ms |")
    print(f"| server memory | {mem0:.0f} MB | {mem:.0f} MB ({(mem - mem0) / N_SESSIONS:.1f} MB per session) |")
    if errors:
        print(f"errors on the pages: {errors[:3]}")
    ok = ratio <= TARGET and not errors
    print(f"\n{'PASS' if ok else 'FAIL'}: server p95 step time with {N_SESSIONS} sessions = {ratio:.2f}× one user's (target ≤ {TARGET:g}×)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
