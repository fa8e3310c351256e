"""The load generator shared by the load test (tests/browser/test_load.py: isolation, errors, exactly one run per
click, memory) and the load benchmark (benchmarks/bench_load.py: the server's p95 step time, 20 sessions against
one user).

Each session opens the Explorer with its own rule and sequence and steps it like a student, with a think time
between clicks, checking after every step that the weights chart shows its own W_t (computed by the core). The
server's step time is its own time per Step click: the app logs every run of the stepping fragment with
FWP_LOG_LEVEL=DEBUG (the run that is part of each page load is not a step). The clients (Chromium, Playwright's
driver and the asyncio loop) run in the SCHED_IDLE class on the server's own cores: in a classroom each browser
has its own machine, so here the server must win every contest for a core.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import fwp_core
from fwp_core.experiments.explorer import ExplorerConfig
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ERROR_SELECTOR
from tests.helpers import decode, expected_trace

N_SESSIONS = int(os.environ.get("FWP_LOAD_SESSIONS", "20"))
STEPS = 4
THINK_S = (3.0, 6.0)  # seconds between a student's clicks
RULES = [r for r in fwp_core.rule_names() if r != "oja"]  # Oja needs a small β on these values
IDLE = "() => document.querySelector('[data-testid=stApp]')?.dataset?.testScriptState === 'notRunning'"
CAPTION = ("(txt) => [...document.querySelectorAll('[data-testid=stCaptionContainer]')].some(e => e.innerText.trim() === txt)"
           f" && ({IDLE})()")


def config(i: int) -> ExplorerConfig:
    rule = RULES[i % len(RULES)]
    return ExplorerConfig(rule=rule, hparams=tuple(sorted(fwp_core.registry.resolve_hparams(rule).items())),
                          sequence="overwrite", T=10 + i, d_k=8, d_v=8, seed=i, beta=0.5)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def weights_z(page) -> np.ndarray:
    data = await page.evaluate(
        "() => { const d = document.querySelector('.st-key-weights .js-plotly-plot');"
        " const t = d.data.find(t => t.name === 'W_t'); return t.z; }")
    return decode(data)


async def open_session(browser, base: str, i: int):
    """Open the Explorer for session i and wait until it has drawn (the ramp-up, not measured)."""
    cfg = config(i)
    ctx = await browser.new_context(viewport={"width": 1200, "height": 800})
    page = await ctx.new_page()
    await page.goto(f"{base}/explorer?rule={cfg.rule}&sequence=overwrite&T={cfg.T}&d_k=8&d_v=8&seed={i}&beta=0.5&t=1",
                    timeout=180000)
    await page.wait_for_function(CAPTION, arg=f"t = 1 / {cfg.T}", timeout=180000, polling=100)
    await page.wait_for_selector(".st-key-weights .js-plotly-plot", state="attached", timeout=180000)
    return ctx, page


async def step_session(page, i: int, out: dict, think: tuple[float, float], trace, steps: int) -> None:
    """Step session i ``steps`` times with a student's think time, checking it sees its own state (``trace``)."""
    cfg = config(i)
    rng = random.Random(i)
    for t in range(2, 2 + steps):
        await asyncio.sleep(rng.uniform(*think))
        t0 = asyncio.get_running_loop().time()
        await page.get_by_role("button", name="Step").first.click()
        await page.wait_for_function(CAPTION, arg=f"t = {t} / {cfg.T}", timeout=120000, polling=10)
        out["latency"].append((asyncio.get_running_loop().time() - t0) * 1e3)
        await page.wait_for_function(
            "(t) => document.querySelector('.st-key-weights .js-plotly-plot')?.layout?.annotations?.some(a => a.text.includes(`step ${t}`))",
            arg=t, timeout=60000, polling=20)
        np.testing.assert_allclose(await weights_z(page), trace.weights[t].numpy(), atol=1e-5,
                                   err_msg=f"session {i} ({cfg.rule}) saw someone else's W_{t}")
    assert cfg.rule == "delta" or f"rule={cfg.rule}" in page.url
    out["errors"].extend(await page.eval_on_selector_all(ERROR_SELECTOR, "els => els.map(e => e.innerText)"))


async def drive(base: str, sessions: list[int], think: tuple[float, float] = THINK_S, steps: int = STEPS,
                together: bool = True) -> dict:
    """Ramp up every session (one per second), then let them all step concurrently, ``steps`` times each; or, not
    ``together``, one session after the other (the one-user baseline), in the same browser."""
    from playwright.async_api import async_playwright

    out = {"latency": [], "errors": []}
    traces = {i: expected_trace(config(i)) for i in sessions}  # before any clicking: the driver stays idle after
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        async def ramp(k: int, i: int):
            await asyncio.sleep(k * 1.0)
            return await open_session(browser, base, i)

        if together:
            opened = await asyncio.gather(*(ramp(k, i) for k, i in enumerate(sessions)))
            await asyncio.gather(*(step_session(page, i, out, think, traces[i], steps)
                                   for (_, page), i in zip(opened, sessions)))
            for ctx, _ in opened:
                await ctx.close()
        else:
            for i in sessions:
                ctx, page = await open_session(browser, base, i)
                await step_session(page, i, out, think, traces[i], steps)
                await ctx.close()
        await browser.close()
    return out


def stepper_run_times(log: Path) -> list[float]:
    """Server-side run times of the Explorer's stepping fragment (ms), in order, from the app's timing log: one
    as part of each page load, then one per Step click."""
    return [float(m) for m in re.findall(r"stepper ran in ([0-9.]+) ms", log.read_text())]


def run_async(coro) -> dict:
    """asyncio.run in a fresh thread (the sync Playwright of the other browser tests keeps a loop running here),
    in the SCHED_IDLE scheduling class: the load generator runs on the server's own 2 cores, and the server, not
    the 20 clients, is what this test measures (in a classroom every browser has its own machine). The class is
    inherited by everything the thread starts — Playwright's driver and Chromium — so the server wins every
    contest for a core; a plain ``nice`` would not hold, since Chromium resets its processes' nice values."""

    def idle_run():
        if hasattr(os, "SCHED_IDLE"):  # Linux (CI); elsewhere the clients compete with the server as they are
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # this thread only (Linux: per thread)
        return asyncio.run(coro)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(idle_run).result()
