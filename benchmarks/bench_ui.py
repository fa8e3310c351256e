"""UI latency in headless Chromium: server-side Step against a trivial one-button app (same run), the
first render of /explorer, and the in-browser smooth playback's frame rate.

The targets are relative to the floor page measured in the same run (``benchmarks/one_chart_app.py``: only a
Step button, the caption and the Explorer's weights chart, built and sent as the Explorer sends it), since
that is what any Streamlit page with that one plotly chart pays on the machine at hand:
first render of /explorer ≤ 1.5× the floor page's (both a later visitor: a new session on a warm server),
Step ≤ 1.6× the floor's Step, and smooth in-browser playback ≥ 30 frames/s.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_ui.py [--steps 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy  # noqa: E402

STEP_TARGET, RENDER_TARGET, FPS_TARGET = 1.6, 1.5, 30
IDLE = "() => document.querySelector('[data-testid=stApp]')?.dataset?.testScriptState === 'notRunning'"


def start(launcher: list[str]):
    """``launcher``: the module and arguments after ``python -m`` (the app starts as `make run` starts it)."""
    import os
    import subprocess

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", *launcher, "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    return proc, base


def click_latency(page, label: str, expect: str, n: int, start: int = 0, chart: str | None = None) -> list[float]:
    """ms from a click on ``label`` until the caption reads ``expect.format(i)`` and the script is idle; with
    ``chart`` (a CSS selector and a text containing ``{}``, joined by "|"), also until that chart draws the text
    of step i (so the view on screen is the new one, not only the caption)."""
    sel, _, text = (chart or "|").partition("|")
    out = []
    for i in range(1, n + 1):
        t0 = time.perf_counter()
        page.get_by_role("button", name=label).first.click()
        page.wait_for_function(
            f"""([txt, sel, drawn]) => [...document.querySelectorAll('[data-testid=stCaptionContainer]')].some(e => e.innerText.trim() === txt)
                 && (!sel || (document.querySelector(sel)?.textContent || '').includes(drawn)) && ({IDLE})()""",
            arg=[expect.format(start + i), sel, text.format(start + i)], polling=10, timeout=30000,
        )
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30, help="steps of each app (at most 60), in rounds of 5, interleaved")
    a = ap.parse_args()
    a.steps = max(5, min(a.steps, 60)) // 5 * 5
    trivial, tbase = start(["streamlit", "run", "benchmarks/trivial_app.py"])
    floor, fbase = start(["streamlit", "run", "benchmarks/one_chart_app.py"])
    app, abase = start(["app.serve"])
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(tbase)
            page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')].length > 0")
            page.wait_for_function(IDLE)
            trivial_render = time.perf_counter() - t0

            # the floor's server imports torch, plotly and the core on its first script run: one visit first, then
            # a second visitor (a new browser context) measures the warm path, as the Explorer's later visitor does
            for measured in (False, True):
                floor_page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                floor_page.goto(fbase)
                floor_page.wait_for_selector(".st-key-weights .js-plotly-plot", timeout=60000)
                floor_page.wait_for_function(IDLE)
                floor_render = time.perf_counter() - t0
                if not measured:
                    floor_page.close()

            explorer = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            explorer.goto(abase + "/explorer?rule=delta&sequence=random&T=64&d_k=16&d_v=16&t=1")
            explorer.wait_for_selector(".st-key-weights .js-plotly-plot", timeout=60000)
            explorer.wait_for_function(IDLE)
            first_render = time.perf_counter() - t0
            # the two apps stepped in alternating rounds of 5, so that a machine that slows down or speeds up
            # during the run weighs on both sides of the ratio alike
            base_ms, floor_ms, step_ms = [], [], []
            for r in range(a.steps // 5):
                base_ms += click_latency(page, "Step", "n = {}", 5, start=5 * r)
                floor_ms += click_latency(floor_page, "Step", "t = {} / 64", 5, start=1 + 5 * r,
                                          chart=".st-key-weights .js-plotly-plot|update at step {}")
                step_ms += click_latency(explorer, "Step", "t = {} / 64", 5, start=1 + 5 * r,
                                         chart=".st-key-weights .js-plotly-plot|update at step {}")
            explorer.close()
            floor_page.close()
            warm_page = browser.new_page(viewport={"width": 1400, "height": 1000})  # a second visitor: imports are warm
            t0 = time.perf_counter()
            warm_page.goto(abase + "/explorer?rule=delta&sequence=random&T=64&d_k=16&d_v=16&seed=7&t=1")
            warm_page.wait_for_selector(".st-key-weights .js-plotly-plot", timeout=60000)
            warm_page.wait_for_function(IDLE)
            warm_render = time.perf_counter() - t0
            # smooth playback: all frames in the page; the player (app/player.py) animates them with plotly.js
            page.goto(abase + "/explorer?rule=delta&sequence=random&T=256&d_k=32&d_v=32&t=1")
            page.wait_for_function(IDLE, timeout=60000)
            page.get_by_text("Smooth playback in the browser", exact=False).click()
            page.wait_for_selector(".st-key-smooth_fig .js-plotly-plot", timeout=60000)
            player = page.locator(".st-key-smooth_player .fwp-player")
            player.locator(".label").wait_for()
            page.wait_for_timeout(500)
            player.locator(".speed").select_option("60")  # the fastest setting: frames come as fast as they draw
            drawn0, t0 = int(player.get_attribute("data-drawn")), time.perf_counter()
            player.locator(".play").click()
            page.wait_for_timeout(4000)
            fps = (int(player.get_attribute("data-drawn")) - drawn0) / (time.perf_counter() - t0)
            player.locator(".play").click()
            raw_fps = page.evaluate(
                """() => new Promise(resolve => {
                    const div = document.querySelector('.st-key-smooth_fig .js-plotly-plot');
                    const names = div._transitionData._frames.map(f => f.name);
                    const t0 = performance.now();
                    window.Plotly.animate(div, names, {frame: {duration: 0, redraw: true}, transition: {duration: 0}, mode: 'immediate'})
                      .then(() => resolve(names.length / ((performance.now() - t0) / 1000)));
                })"""
            )
            browser.close()
    finally:
        trivial.terminate()
        floor.terminate()
        app.terminate()
    med = statistics.median
    step_ratio = med(step_ms) / med(floor_ms)
    render_ratio = warm_render / floor_render
    print("| measure | value |\n|---|---:|")
    print(f"| trivial app rerun, for scale (median of {len(base_ms)}) | {med(base_ms):.0f} ms |")
    print(f"| floor: the one-chart page's Step (median of {len(floor_ms)}) | {med(floor_ms):.0f} ms |")
    print(f"| Explorer Step, T = 64, d = 16, until the weights chart shows the new step (median of {len(step_ms)}) | {med(step_ms):.0f} ms |")
    print(f"| **Step / floor's Step** (target ≤ {STEP_TARGET}×) | {step_ratio:.2f}× |")
    print(f"| first render of the trivial app, for scale | {trivial_render:.2f} s |")
    print(f"| floor: first render of the one-chart page, a later visitor | {floor_render:.2f} s |")
    print(f"| first render of /explorer, a later visitor (new session, new sequence) | {warm_render:.2f} s |")
    print(f"| **first render / floor's** (target ≤ {RENDER_TARGET}×) | {render_ratio:.2f}× |")
    print(f"| first render of /explorer, first visitor (server healthy → page drawn, weights chart included) | {first_render:.2f} s |")
    print(f"| smooth playback, T = 256, d = 32: the player's Play at its fastest (frames drawn per second) | {fps:.0f} frames/s |")
    print(f"| (plotly.js alone animating every frame back to back) | {raw_fps:.0f} frames/s |")
    checks = [(step_ratio <= STEP_TARGET, f"Explorer Step = {step_ratio:.2f}× the floor's (target ≤ {STEP_TARGET}×)"),
              (render_ratio <= RENDER_TARGET, f"first render of /explorer = {render_ratio:.2f}× the floor's (target ≤ {RENDER_TARGET}×)"),
              (fps >= FPS_TARGET, f"smooth playback {fps:.0f} frames/s (target ≥ {FPS_TARGET})")]
    print()
    for passed, text in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {text}")
    ok = all(passed for passed, _ in checks)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
