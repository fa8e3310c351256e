"""Many users: 20 concurrent browser sessions (Playwright contexts), each stepping its own rule and sequence.

Asserted, all of it exact: every session sees only its own state (its rule, its T and its own W_t, checked
against the core at every step), no session shows an error, the server runs the Explorer's stepper exactly
once per page load and once per click (a redundant rerun would show), and the server's memory grows by at
most MAX_MB_PER_SESSION per session. Nothing here is timed: the server's p95 step time with 20 sessions
against one user is a benchmark (benchmarks/bench_load.py, `make bench`), since on a shared 2-core machine a
timing is noise at this scale and would make the suite a coin toss.
"""

from __future__ import annotations

from tests.browser.conftest import require_chromium, start_server, stop_server
from tests.browser.loadgen import N_SESSIONS, STEPS, drive, rss_mb, run_async, stepper_run_times

MAX_MB_PER_SESSION = 25.0
"""A session holds its page state and a few small figures; a session that kept whole traces or figures per step
would pass this bound within 20 sessions × 5 steps."""


def test_twenty_concurrent_sessions_are_isolated_and_error_free(tmp_path) -> None:
    require_chromium()
    log = tmp_path / "server.log"
    proc, base = start_server({"FWP_LOG_LEVEL": "DEBUG"}, log=log)
    try:
        warm = run_async(drive(base, [0], think=(0.2, 0.5), steps=2, together=False))  # imports and caches warm
        assert not warm["errors"], warm["errors"]
        assert len(stepper_run_times(log)) == 1 + 2
        baseline_mem = rss_mb(proc.pid)
        many = run_async(drive(base, list(range(N_SESSIONS))))
        assert not many["errors"], many["errors"][:3]
        assert len(many["latency"]) == N_SESSIONS * STEPS
        runs = stepper_run_times(log)[3:]
        assert len(runs) == N_SESSIONS * (1 + STEPS), f"{len(runs)} stepper runs for {N_SESSIONS} loads and {N_SESSIONS * STEPS} clicks"
        growth = (rss_mb(proc.pid) - baseline_mem) / N_SESSIONS
        assert growth <= MAX_MB_PER_SESSION, f"server memory grew {growth:.1f} MB per session (bound {MAX_MB_PER_SESSION})"
    finally:
        stop_server(proc)
