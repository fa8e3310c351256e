"""The Explorer in real Chromium: deep link, Step, Back, keyboard, Play, plotly data, no error elements."""

from __future__ import annotations

from fwp_core.experiments import explorer

import re

import numpy as np
from playwright.sync_api import expect

import fwp_core

from tests.browser.conftest import ARTIFACTS, errors_on, plotly_traces, wait_idle

DEEP = "/explorer?rule=delta&sequence=overwrite&T=12&d_k=8&d_v=8&seed=3&beta=1&t=5"


def caption_t(page) -> tuple[int, int]:
    text = page.get_by_text(re.compile(r"^t = \d+ / \d+$")).first.inner_text()
    t, T = re.findall(r"\d+", text)
    return int(t), int(T)


def expected_weights(t: int) -> np.ndarray:
    cfg = explorer.ExplorerConfig(rule="delta", hparams=tuple(sorted(fwp_core.registry.resolve_hparams("delta").items())),
                                 sequence="overwrite", T=12, d_k=8, d_v=8, seed=3, beta=1.0)
    rule = fwp_core.make_rule("delta")
    inputs = explorer.run_inputs(cfg, explorer.build_episode(cfg), rule)
    return rule.run(inputs["q"], inputs["k"], inputs["v"], beta=inputs["beta"]).weights[t].numpy()


def wait_for_t(page, t: int, timeout_ms: int = 60000) -> None:
    page.get_by_text(re.compile(rf"^t = {t} / \d+$")).first.wait_for(timeout=timeout_ms)
    wait_idle(page)


def test_deep_link_reproduces_the_view(server, page) -> None:
    page.goto(server + DEEP)
    wait_for_t(page, 5)
    assert caption_t(page) == (5, 12)
    traces = {tr["name"]: tr for tr in plotly_traces(page, "weights")}
    assert {"W_t", "update", "W_t-1"} <= set(traces)
    np.testing.assert_allclose(traces["W_t"]["z"], expected_weights(5), atol=1e-5)
    assert errors_on(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)
    # the other views are one tab away; each tab is drawn when opened and goes into the URL
    page.get_by_role("tab", name="Attention form").click()
    assert {tr["name"] for tr in plotly_traces(page, "attention")} == {"attention", "correction", "pseudo_values", "contributions"}
    page.wait_for_function("() => location.search.includes('view=Attention')")
    page.get_by_role("tab", name="Retrieval error").click()
    errors = {tr["name"]: tr for tr in plotly_traces(page, "retrieval_error")}
    assert len(errors["delta"]["y"]) == 12
    wait_idle(page)
    assert caption_t(page) == (5, 12) and errors_on(page) == []


def test_step_back_keyboard_and_play(server, page) -> None:
    page.goto(server + DEEP)
    wait_for_t(page, 5)
    page.get_by_role("button", name="Step").click()
    wait_for_t(page, 6)
    np.testing.assert_allclose({tr["name"]: tr for tr in plotly_traces(page, "weights")}["W_t"]["z"],
                               expected_weights(6), atol=1e-5)
    page.get_by_role("button", name="Back").click()
    wait_for_t(page, 5)
    page.keyboard.press("ArrowRight")
    wait_for_t(page, 6)
    page.keyboard.press("ArrowLeft")
    wait_for_t(page, 5)
    assert "t=5" in page.url
    page.go_back()  # the browser's back button steps back through t (each step is a history entry)
    wait_for_t(page, 6)
    assert "t=6" in page.url
    page.go_forward()
    wait_for_t(page, 5)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(  # Play advances t by itself (server-side fragment timer)
        "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')].some(e => /^t = ([6-9]|1[0-2]) \\/ 12$/.test(e.innerText.trim()))",
        timeout=30000,
    )
    t_after, _ = caption_t(page)
    assert t_after > 5
    assert errors_on(page) == []


def test_scrubber_and_fast_play_only_move_t_forward(server, page) -> None:
    """The scrubber sends t only when it is moved (and ← / → on it do not also press Back / Step); Play at
    16 steps/s never shows an earlier step than the one before (a stale scrubber value used to pull t back)."""
    page.goto(server + "/explorer?rule=delta&sequence=overwrite&T=60&d_k=8&d_v=8&seed=3&beta=1&t=5")
    wait_for_t(page, 5)
    scrub = page.locator(".fwp-scrub input")
    expect(scrub).to_have_value("5")
    assert scrub.get_attribute("max") == "60"
    scrub.fill("20")
    wait_for_t(page, 20)
    page.wait_for_function("() => location.search.includes('t=20')")
    scrub.focus()
    page.keyboard.press("ArrowLeft")
    wait_for_t(page, 19)
    page.wait_for_timeout(300)
    assert caption_t(page) == (19, 60)
    expect(scrub).to_have_value("19")
    speed = page.locator(".st-key-speed input[type=range]")
    speed.focus()
    page.keyboard.press("End")  # the fastest speed
    expect(speed).to_have_attribute("aria-valuetext", "16 steps/s")
    wait_idle(page)
    page.get_by_role("button", name="Play").click()
    seen = []
    for _ in range(25):
        seen.append(caption_t(page)[0])
        page.wait_for_timeout(80)
    assert seen[-1] > 19 and all(b >= a for a, b in zip(seen, seen[1:])), seen
    if seen[-1] < 60:
        page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    assert errors_on(page) == []


def test_bad_url_shows_warnings_not_errors(server, page) -> None:
    page.goto(server + "/explorer?T=-5&rule=%3Cscript%3E&d_k=1e9")
    wait_for_t(page, 1)
    warnings = " ".join(w.inner_text() for w in page.query_selector_all("[data-testid='stAlertContentWarning']"))
    assert "is not known" in warnings and "out of range" in warnings
    assert errors_on(page) == []


def test_home_page_has_no_errors(server, page) -> None:
    page.goto(server + "/")
    wait_idle(page)
    page.get_by_text("A live example").wait_for()
    assert errors_on(page) == []
    assert plotly_traces(page, "home_example")


def test_smooth_playback_steps_and_plays_in_the_browser(server, page) -> None:
    """The player steps, scrubs and plays the chart's frames without a single script run on the server; ← / → inside
    it stay inside it (the page's server-side Back / Step shortcuts do not fire)."""
    page.goto(server + DEEP)
    wait_for_t(page, 5)
    page.get_by_text("Smooth playback in the browser", exact=False).click()
    page.wait_for_selector(".st-key-smooth_fig .js-plotly-plot", timeout=30000)
    player = page.locator(".st-key-smooth_player .fwp-player")
    player.locator(".label").wait_for()
    wait_idle(page)
    page.evaluate("""() => { window.__runs = 0; const app = document.querySelector('[data-testid=stApp]');
        new MutationObserver(() => { if (app.dataset.testScriptState === 'running') window.__runs += 1; })
          .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }""")
    assert player.get_attribute("data-t") == "1" and player.locator(".label").inner_text().startswith("t = 1 / 12")
    for _ in range(4):
        player.get_by_role("button", name="Step ▶").click()
    assert player.get_attribute("data-t") == "5"
    page.wait_for_timeout(300)
    traces = {tr["name"]: tr for tr in plotly_traces(page, "smooth_fig")}
    np.testing.assert_allclose(traces["W_t"]["z"], expected_weights(5), atol=1e-5)
    player.get_by_role("button", name="◀ Back").click()
    assert player.get_attribute("data-t") == "4"
    player.locator(".speed").select_option("60")
    drawn = int(player.get_attribute("data-drawn"))
    player.get_by_role("button", name="▶ Play").click()
    expect(player).to_have_attribute("data-t", "12", timeout=20000)
    player.locator(".play").filter(has_text="▶ Play").wait_for(timeout=20000)  # played to the end and stopped
    assert int(player.get_attribute("data-drawn")) - drawn >= 8  # every frame from 5 to 12 was drawn
    player.locator(".scrub").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(300)
    assert player.get_attribute("data-t") == "11"
    assert page.evaluate("() => window.__runs") == 0  # nothing went to the server
    assert caption_t(page) == (5, 12) and errors_on(page) == []
    t_input = page.get_by_role("spinbutton", name="T (tokens)")  # a new sequence length: a new chart, and its player starts at step 1
    t_input.fill("9")
    t_input.press("Enter")
    expect(player.locator(".label")).to_have_text(re.compile(r"^t = 1 / 9"), timeout=30000)
    assert errors_on(page) == []
