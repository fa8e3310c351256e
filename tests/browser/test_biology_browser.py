"""The Biology page in real Chromium: default view, a deep link to one simulation, switching simulations; no error elements."""

from __future__ import annotations

import numpy as np

from fwp_core import biology as bio
from tests.browser.conftest import ARTIFACTS, errors_on, plotly_traces, wait_idle


def test_biology_opens_with_a_plot_and_no_error(server, page) -> None:
    page.goto(server + "/biology")
    wait_idle(page)
    page.get_by_role("heading", name="Hebbian vs three-factor learning").wait_for(timeout=20000)
    traces = {tr["name"]: tr for tr in plotly_traces(page, "bio_stored")}
    res = bio.three_factor(n_items=6, d=8, rewarded=(1, 4), delay=2, trace_decay=0.7, interval=10)
    np.testing.assert_allclose(traces["three-factor"]["y"], res.stored, atol=1e-9)
    timeline = {tr["name"]: tr for tr in plotly_traces(page, "bio_three_factor")}
    np.testing.assert_allclose(timeline["two fast weights ‖W_t‖"]["y"], res.weight_norm, atol=1e-9)
    # the live statement: the three-factor rule equals the two-fast-weight FWP at every step
    page.get_by_text(f"max |W_t(three-factor) − W_t(two fast weights)| = {res.causal_error:.1e}", exact=False).wait_for(
        timeout=20000)
    assert errors_on(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "biology.png"), full_page=True)


def test_deep_link_opens_one_simulation(server, page) -> None:
    page.goto(server + "/biology?bio_sim=BTSP&bio_plateau=120")
    wait_idle(page)
    page.get_by_role("heading", name="One-shot place fields", exact=False).wait_for(timeout=20000)
    fields = {tr["name"]: tr for tr in plotly_traces(page, "bio_btsp_fields")}
    res = bio.btsp_place_field(plateau_position=120.0)
    y = fields["BTSP (1 lap)"]["y"]
    assert res.positions[int(np.argmax(y))] == res.peak_position_btsp
    assert plotly_traces(page, "bio_btsp_window") and plotly_traces(page, "bio_btsp_laps")
    assert page.locator(".st-key-bio_three_factor").count() == 0  # only the chosen simulation is drawn
    assert errors_on(page) == []


def test_switching_simulation_updates_the_url(server, page) -> None:
    page.goto(server + "/biology?bio_sim=Key-value")
    wait_idle(page)
    assert plotly_traces(page, "bio_kv_sweep")
    page.locator(".st-key-bio_sim").get_by_role("radio", name="Mapping").click()
    page.get_by_role("heading", name="Open questions", exact=True).wait_for(timeout=20000)
    page.wait_for_url("**bio_sim=Mapping**", timeout=20000)  # the URL follows the widget a moment later
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=20000)
    wait_idle(page)
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    page.get_by_text(bio.biology_map().primer_note[:60], exact=False).wait_for(timeout=20000)  # no row claims the primer
    assert errors_on(page) == []
