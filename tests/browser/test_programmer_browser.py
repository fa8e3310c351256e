"""The Programmer page in Chromium: opens without error, trains a tiny programmer, draws what it writes."""

from __future__ import annotations

from tests.browser.conftest import ARTIFACTS, errors_on, plotly_traces, wait_idle


def test_programmer_page_trains_and_draws(server, page) -> None:
    page.goto(server + "/programmer?prog_steps=30")
    wait_idle(page)
    assert errors_on(page) == []
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_test_id("stMetricLabel").get_by_text("accuracy at length 64").wait_for(timeout=120000)
    wait_idle(page, 120000)
    traces = plotly_traces(page, "prog_emitted")
    assert {"k", "v", "q", "β"} <= {t["name"] for t in traces}
    assert errors_on(page) == []
    assert page.get_by_text("What expressivity costs").is_visible()  # the kinds side by side, from shipped programmers
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "programmer.png"), full_page=True)
