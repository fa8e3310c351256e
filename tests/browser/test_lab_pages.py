"""Compare, Capacity and Forms in real Chromium: deep links reproduce the view, no error elements, the charts' data."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from tests.browser.conftest import errors_on, plotly_traces, wait_idle

pytestmark = pytest.mark.browser


def wait_for_t(page, t: int, T: int, timeout_ms: int = 30000) -> None:
    page.get_by_text(re.compile(rf"^t = {t} / {T}$")).first.wait_for(timeout=timeout_ms)
    wait_idle(page)


def test_compare_deep_link_and_keyboard(server, page) -> None:
    page.goto(server + "/compare?cmp_n=3&cmp3_rule=rls&cmp_seq=random&cmp_T=12&cmp_t=5")
    wait_for_t(page, 5, 12)
    assert errors_on(page) == []
    names = [tr["name"] for tr in plotly_traces(page, "cmp_weights")]
    assert names == ["1·hebbian", "2·delta", "3·rls"]
    errors = {tr["name"] for tr in plotly_traces(page, "cmp_retrieval")}
    assert {"1·hebbian", "2·delta", "3·rls"} <= errors
    page.keyboard.press("ArrowRight")
    wait_for_t(page, 6, 12)
    page.keyboard.press("ArrowLeft")
    wait_for_t(page, 5, 12)
    page.keyboard.press("ArrowLeft")
    wait_for_t(page, 4, 12)
    assert "cmp_t=4" in page.url
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(  # Play advances every rule together (server-side fragment timer)
        "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')].some(e => /^t = ([6-9]|1[0-2]) \\/ 12$/.test(e.innerText.trim()))",
        timeout=30000,
    )
    assert errors_on(page) == []


def test_compare_preset_link_reproduces_the_view(server, page, browser) -> None:
    page.goto(server + "/compare")
    wait_for_t(page, 12, 12)
    page.get_by_role("button", name="Long recall").click()
    wait_for_t(page, 64, 128)
    page.wait_for_function("() => location.search.includes('cmp3_rule=gated_delta')", timeout=20000)
    query = parse_qs(urlsplit(page.url).query)
    assert query["cmp3_rule"] == ["gated_delta"] and query["cmp1_gamma"] == ["0.95"] and query["cmp_t"] == ["64"]
    link = page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(link)
    wait_for_t(other, 64, 128)
    assert [tr["name"] for tr in plotly_traces(other, "cmp_weights")] == ["1·decay", "2·delta", "3·gated_delta"]
    assert errors_on(other) == []
    other.context.close()


def test_capacity_deep_link(server, page) -> None:
    page.goto(server + "/capacity?cap_dk=8&cap_seeds=8&cap_rules=hebbian&cap_rules=delta")
    wait_idle(page, timeout_ms=60000)
    traces = {tr["name"]: tr for tr in plotly_traces(page, "capacity")}
    assert {"hebbian", "delta", "theory"} <= set(traces)
    heb, theory = traces["hebbian"]["y"], traces["theory"]["y"]
    assert len(heb) == 32 and np.isfinite(heb).all()
    assert heb[15] == pytest.approx(theory[15], rel=0.25)  # N = 2·d_k, 8 seeds
    for key in ("cap_features", "cap_recency", "cap_overwrite"):
        assert plotly_traces(page, key)
    assert errors_on(page) == []


def test_forms_deep_link(server, page) -> None:
    page.goto(server + "/forms?forms_rule=gated_delta&forms_T=20&forms_C=5")
    wait_idle(page, timeout_ms=60000)
    out = {tr["name"]: tr["z"] for tr in plotly_traces(page, "forms_outputs")}
    assert set(out) == {"recurrent", "parallel", "chunked"}
    assert out["recurrent"].shape == (20, 8)
    assert np.abs(out["recurrent"] - out["chunked"]).max() < 1e-9
    assert {tr["name"] for tr in plotly_traces(page, "forms_matrices")} == {"scores", "correction", "product"}
    assert page.get_by_text(re.compile(r"chunked with C = 5")).count() >= 1
    assert errors_on(page) == []
