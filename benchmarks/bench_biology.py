"""CPU time of each Biology-page simulation at its defaults (the page reruns them on every change).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_biology.py

Target: each under 0.3 s of CPU time, so that moving a slider on /biology feels immediate.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fwp_core import biology as bio  # noqa: E402

TARGET_S = 0.3


def cpu_seconds(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def main() -> int:
    print("| simulation | best CPU seconds of 3 |\n|---|---:|")
    worst = 0.0
    for fn in bio.SIMULATIONS:
        fn()  # warm-up
        best = min(cpu_seconds(fn) for _ in range(3))
        worst = max(worst, best)
        print(f"| {fn.__name__} | {best:.3f} |")
    ok = worst < TARGET_S
    print(f"\n{'PASS' if ok else 'FAIL'}  every simulation under {TARGET_S} s of CPU: slowest {worst:.3f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
