"""Run every benchmark and print one summary table (each script prints its own details first).

    make bench            # or: PYTHONPATH=. .venv/bin/python benchmarks/run_all.py [--quick]

The load benchmark (20 browser sessions against one user) runs last; --quick leaves it and the programmer
training out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(name: str, argv: list[str]) -> tuple[str, int, float, str]:
    print(f"\n===== {name}: {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(proc.stdout, flush=True)
    verdicts = [line for line in proc.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    return name, proc.returncode, time.perf_counter() - t0, "; ".join(verdicts)[:300]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller core sizes, skip the programmer training and the load test")
    a = ap.parse_args()
    py = sys.executable
    jobs = [
        ("core throughput", [py, "benchmarks/bench_core.py", *(["--quick"] if a.quick else [])]),
        ("capacity sweep", [py, "benchmarks/bench_capacity.py"]),
        ("biology simulations", [py, "benchmarks/bench_biology.py"]),
        ("UI latency", [py, "benchmarks/bench_ui.py"]),
    ]
    if not a.quick:
        jobs.append(("programmer training", [py, "benchmarks/bench_programmer.py"]))
        jobs.append(("language models: every rule", [py, "benchmarks/bench_language.py"]))
        jobs.append(("load: 20 sessions against one user", [py, "benchmarks/bench_load.py"]))
        jobs.append(("load: stepping while two trainings run", [py, "benchmarks/bench_training_load.py"]))
    rows = [run(name, argv) for name, argv in jobs]
    print("\n| benchmark | exit | seconds | verdicts |\n|---|---:|---:|---|")
    for name, rc, sec, verdicts in rows:
        print(f"| {name} | {rc} | {sec:.0f} | {verdicts} |")
    return max(rc for _, rc, _, _ in rows)


if __name__ == "__main__":
    raise SystemExit(main())
