"""Stepping stays responsive while a class trains: the server's p95 time per Explorer Step with no training and with
two Language trainings submitted (the server runs at most FWP_MAX_TRAININGS at a time, default 1: the second waits
in the queue), measured in one run on this machine. Target: ratio ≤ 2×.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_training_load.py        # or: make bench

Uses the load test's generator (tests/browser/loadgen.py): 3 Explorer sessions one after the other, 8 Steps each,
before and while the trainings run (two Language pages press Train on two configurations: delta and hebbian, 400
steps each). The clients run idle-class on the same cores, so the figures are the server's.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium, start_server, stop_server  # noqa: E402
from tests.browser.loadgen import drive, run_async, stepper_run_times  # noqa: E402

SESSIONS, STEPS = 3, 8
TRAININGS = ("delta", "hebbian")
TRAIN_STEPS = 400
TARGET = 2.0


def p95(xs: list[float]) -> float:
    return float(np.percentile(xs, 95))


async def press_train(base: str, rule: str):
    """Open the Language page for one model of ``rule`` and press Train; leave the page open (its training runs on)."""
    from playwright.async_api import async_playwright

    pw = await async_playwright().start()
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = await browser.new_page(viewport={"width": 1200, "height": 800})
    await page.goto(f"{base}/language?lang_rules={rule}&lang_softmax=false&lang_steps={TRAIN_STEPS}", timeout=180000)
    await page.get_by_role("button", name="Train 1 model").click(timeout=180000)
    await page.wait_for_selector("text=/Training|Waiting/", timeout=180000)  # its progress bar: it runs, or waits
    return pw, browser


def main() -> int:
    require_chromium()
    log = Path(tempfile.mkdtemp()) / "server.log"
    proc, base = start_server({"FWP_LOG_LEVEL": "DEBUG"}, log=log)
    try:
        quiet = run_async(drive(base, list(range(SESSIONS)), think=(0.2, 0.5), steps=STEPS, together=False))
        quiet_runs = [ms for k, ms in enumerate(stepper_run_times(log)) if k % (1 + STEPS)]  # the clicks, not the loads
        n_before = len(stepper_run_times(log))

        async def with_trainings():
            opened = [await press_train(base, rule) for rule in TRAININGS]
            t0 = time.monotonic()
            out = await drive(base, list(range(SESSIONS)), think=(0.2, 0.5), steps=STEPS, together=False)
            out["seconds"] = time.monotonic() - t0
            for pw, browser in opened:
                await browser.close()
                await pw.stop()
            return out

        busy = run_async(with_trainings())
        busy_runs = [ms for k, ms in enumerate(stepper_run_times(log)[n_before:]) if k % (1 + STEPS)]
        training_lines = [ln for ln in log.read_text().splitlines() if "training" in ln.lower()][-3:]
    finally:
        stop_server(proc)
    errors = quiet["errors"] + busy["errors"]
    ratio = p95(busy_runs) / p95(quiet_runs)
    med = statistics.median
    print("| measure | no training | two trainings submitted |\n|---|---:|---:|")
    print(f"| server time per Step, p95 | {p95(quiet_runs):.0f} ms | {p95(busy_runs):.0f} ms |")
    print(f"| server time per Step, median | {med(quiet_runs):.0f} ms | {med(busy_runs):.0f} ms |")
    print(f"| click → new step drawn, p95 | {p95(quiet['latency']):.0f} ms | {p95(busy['latency']):.0f} ms |")
    if errors:
        print(f"errors on the pages: {errors[:3]}")
    if training_lines:
        print("server log:", *training_lines, sep="\n  ")
    ok = ratio <= TARGET and not errors
    print(f"\n{'PASS' if ok else 'FAIL'}: server p95 step time with two trainings submitted = {ratio:.2f}× without (target ≤ {TARGET:g}×)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
