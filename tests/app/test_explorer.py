"""AppTest: the Home and Explorer pages render for every rule, widgets drive the state, figures carry the core's numbers."""

from __future__ import annotations

from fwp_core.experiments import explorer as explorer_exp
from app import cache
from app import figures

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import fwp_core
from app import state
from app.page_tables import EXPLORER
from tests.helpers import chart, decode, expected_trace, figure_specs, figure_with_trace, no_errors, open_page, trace_named

TIMEOUT = 90
ROOT = Path(__file__).resolve().parents[2]


def explorer(**params: str) -> AppTest:
    return open_page("explorer", TIMEOUT, **params)


def caption_t(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("t = "))


def test_home_renders_live_example() -> None:
    at = AppTest.from_file(str(ROOT / "app/main.py"), default_timeout=TIMEOUT).run()  # Home is the default page
    no_errors(at)
    spec = figure_specs(at)[0]
    W = decode(trace_named(spec, "W")["z"])
    assert W.shape == (4, 8)
    vals = decode(trace_named(spec, "values")["z"])  # columns: v3 and W k3
    assert vals.shape == (4, 2)
    assert not np.allclose(vals[:, 0], vals[:, 1])  # crosstalk is visible
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["max |fast-weight read − linear attention|"]) < 1e-12


@pytest.mark.parametrize("rule", fwp_core.rule_names())
def test_every_rule_renders_without_error(rule: str) -> None:
    at = explorer(rule=rule, T="10", d_k="6", d_v="5", t="4", beta="0.1", view="All views")
    no_errors(at)
    assert caption_t(at) == "t = 4 / 10"
    weights = figure_with_trace(at, "W_t")
    for needed in ("W_t", "update", "W_t-1"):
        assert np.isfinite(decode(trace_named(weights, needed)["z"])).all()
    assert [c.key for c in at.get("plotly_chart")] == ["weights", "attention", "retrieval_error"]


VIEW_CHARTS = {"Fast weights": ["weights"], "Attention form": ["attention"], "Retrieval error": ["retrieval_error"],
               "Equations": []}


@pytest.mark.parametrize("view", VIEW_CHARTS)
def test_each_view_draws_only_its_own_chart(view: str) -> None:
    at = explorer(rule="delta", T="8", t="3", **({} if view == "Fast weights" else {"view": view}))
    no_errors(at)
    assert [c.key for c in at.get("plotly_chart")] == VIEW_CHARTS[view]
    assert caption_t(at) == "t = 3 / 8"
    {b.label: b for b in at.button}["Step"].click().run()  # the view stays open while stepping
    assert [c.key for c in at.get("plotly_chart")] == VIEW_CHARTS[view] and caption_t(at) == "t = 4 / 8"
    if view == "Equations":
        assert any(r"\phi(k_{4})" in x.value for x in at.latex)


def test_weights_chart_equals_core_trace() -> None:
    at = explorer(rule="delta", sequence="overwrite", T="12", d_k="8", d_v="8", seed="3", beta="1", t="7", view="All views")
    no_errors(at)
    spec = figure_with_trace(at, "W_t")
    W_chart = decode(trace_named(spec, "W_t")["z"])
    U_chart = decode(trace_named(spec, "update")["z"])
    cfg = explorer_exp.ExplorerConfig(rule="delta", hparams=tuple(sorted(fwp_core.registry.resolve_hparams("delta").items())),
                                 sequence="overwrite", T=12, d_k=8, d_v=8, seed=3, beta=1.0)
    rule = fwp_core.make_rule("delta")
    ep = explorer_exp.build_episode(cfg)
    inputs = explorer_exp.run_inputs(cfg, ep, rule)
    trace = rule.run(inputs["q"], inputs["k"], inputs["v"], beta=inputs["beta"])
    np.testing.assert_allclose(W_chart, trace.weights[7].numpy(), atol=1e-6)
    np.testing.assert_allclose(U_chart, (trace.weights[7] - trace.weights[6]).numpy(), atol=1e-6)
    # one diverging scale centred at 0, negative blue and positive red, symmetric range
    axis = spec["layout"]["coloraxis"]
    assert axis["colorscale"][0][1] == "rgb(5,48,97)" and axis["colorscale"][-1][1] == "rgb(103,0,31)"
    assert axis["cmid"] == 0 and axis["cmin"] == -axis["cmax"] > -np.inf
    assert spec["layout"]["yaxis"]["autorange"] == "reversed"  # row 0 at the top
    # the scale is drawn beside the chart in HTML (no plotly colorbar, redrawn at every step): the same ±zmax
    legends = [h.proto.body for h in at.get("html") if "fwp-legend" in h.proto.body]
    attention = json.loads(next(c for c in at.get("plotly_chart") if c.key == "attention").proto.spec)["layout"]["coloraxis"]
    assert len(legends) == 2  # the weights and the attention view, each above its chart
    for legend, ax in zip(legends, (axis, attention)):
        assert ax["showscale"] is False
        assert f"{-ax['cmax']:.3g}</span>" in legend and f"+{ax['cmax']:.3g}</span>" in legend
    # the retrieval error curve carries the core's errors
    err_spec = figure_with_trace(at, "delta")
    np.testing.assert_allclose(decode(trace_named(err_spec, "delta")["y"]), trace.retrieval_error.numpy(), atol=1e-5)


def test_weights_figure_at_step_t_sent_and_saved() -> None:
    """The one builder of the Explorer's weights figure: the stepper's spec (no colorbar, the scale is drawn in
    HTML) and the export's full figure (with its colorbar) carry the same W_t and update of step t; hover names
    the tokens that wrote each cell."""
    res = cache.explorer_result.__wrapped__(explorer_exp.ExplorerConfig(rule="delta", T=6, d_k=4, d_v=3, seed=2))
    W = res.trace.weights.numpy()
    spec = figures.weights_figure_at(res, 4, hover=True, as_spec=True).to_dict()
    full = figures.weights_figure_at(res, 4).to_dict()
    for fig in (spec, full):
        np.testing.assert_array_equal(decode(trace_named(fig, "W_t")["z"]), W[4])
        np.testing.assert_array_equal(decode(trace_named(fig, "update")["z"]), W[4] - W[3])
    assert spec["layout"]["coloraxis"]["showscale"] is False and full["layout"]["coloraxis"]["showscale"] is not False
    assert "largest writes to this cell" in trace_named(spec, "W_t")["hovertemplate"]
    assert "largest writes" not in trace_named(full, "W_t")["hovertemplate"]
    assert len(trace_named(spec, "W_t")["customdata"][0][0]) == 3 and len(trace_named(full, "W_t")["customdata"][0][0]) == 2


def scrubber_data(at) -> dict:
    (scrub,) = [json.loads(c.proto.json) for c in at.get("bidi_component") if "fwp_scrubber" in c.proto.component_name]
    return scrub


def test_step_back_reset_and_scrub() -> None:
    at = explorer(T="8", t="3")
    assert caption_t(at) == "t = 3 / 8"
    buttons = {b.label: b for b in at.button}
    buttons["Step"].click().run()
    assert caption_t(at) == "t = 4 / 8"
    {b.label: b for b in at.button}["Back"].click().run()
    {b.label: b for b in at.button}["Back"].click().run()
    assert caption_t(at) == "t = 2 / 8"
    assert scrubber_data(at) == {"t": 2, "T": 8} and at.query_params["t"] == "2"
    state.scrub_to(at.session_state, 6, 8)  # what moving the scrubber does (the browser test moves the real one)
    at.run()
    assert caption_t(at) == "t = 6 / 8" and scrubber_data(at) == {"t": 6, "T": 8} and at.query_params["t"] == "6"
    {b.label: b for b in at.button}["Reset"].click().run()
    assert caption_t(at) == "t = 1 / 8"
    for _ in range(10):  # Step stops at T
        {b.label: b for b in at.button}["Step"].click().run()
    assert caption_t(at) == "t = 8 / 8"


def test_widgets_drive_the_trace() -> None:
    at = explorer(rule="hebbian", sequence="orthogonal", T="6", d_k="8", d_v="4", t="6")
    no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    # orthogonal keys: nothing to retrieve before the write, so the error is ‖v_t‖ (> 0)
    assert float(metrics["retrieval error ‖v_t − r_t‖"]) > 0
    at.selectbox(key="rule").set_value("delta").run()
    no_errors(at)
    assert at.selectbox(key="normalize").value == "l2"  # the delta rule's default came with it
    at.number_input(key="T").set_value(5).run()
    assert caption_t(at).endswith("/ 5")


def test_bad_url_gives_precise_warnings() -> None:
    at = explorer(T="-5", rule="<script>", d_k="1e9", view="Nope")
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "view='Nope' is not known" in text and "Attention form" in text
    assert [c.key for c in at.get("plotly_chart")] == ["weights"]  # the default view
    assert "rule='<script>' is not known" in text and "hebbian" in text
    assert "T='-5' is out of range" in text
    assert "d_k='1e9' is out of range" in text
    assert caption_t(at) == f"t = 1 / {EXPLORER.param('T').default}"


def test_divergence_is_explained_and_fixed() -> None:
    at = explorer(rule="delta", normalize="none", sequence="random", beta="1", d_k="8", T="16", t="16", view="All views")
    assert not at.exception
    assert any("blew up at step" in w.value for w in at.warning) and not at.error
    for spec in figure_specs(at):
        for tr in spec["data"]:
            field = "z" if tr["type"] == "heatmap" else "y"
            assert np.isfinite(decode(tr[field])).all()
    fix = next(b for b in at.button if b.label.startswith("Fix it"))
    fix.click().run()
    assert not at.error and not any("blew up" in w.value for w in at.warning)
    assert at.selectbox(key="normalize").value == "l2"
    assert caption_t(at) == "t = 1 / 16"
    {b.label: b for b in at.button}["Step"].click().run()
    assert caption_t(at) == "t = 2 / 16" and not at.error


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_upload_parser_errors_reach_the_page() -> None:
    # AppTest cannot drive st.file_uploader; the page shows build_episode's ValueError as st.error, so test that path
    cfg = explorer_exp.ExplorerConfig(sequence="upload")
    with pytest.raises(ValueError, match="choose a CSV or NPZ"):
        explorer_exp.build_episode(cfg, None)
    with pytest.raises(ValueError, match="same number of rows"):
        explorer_exp.build_episode(cfg, ("x.npz", _npz(k=np.ones((4, 3)), v=np.ones((5, 2)))))
    with pytest.raises(ValueError, match="unsupported file type"):
        explorer_exp.build_episode(cfg, ("x.pkl", b"\x80\x04K\x01."))
    ep = explorer_exp.build_episode(cfg, ("x.npz", _npz(k=np.eye(4), v=np.arange(8.0).reshape(4, 2))))
    assert ep.T == 4 and torch.equal(ep.k, torch.eye(4))


def test_upload_sequence_without_file_asks_for_one() -> None:
    at = explorer(sequence="upload")
    assert not at.exception
    assert not at.error
    assert any("Choose a CSV or NPZ file" in i.value for i in at.info)


def test_oja_divergence_gets_a_working_fix() -> None:
    at = explorer(rule="oja", sequence="random", T="32", d_k="8", d_v="8", beta="1")
    assert any("blew up" in w.value for w in at.warning)
    fix = next(b for b in at.button if b.label.startswith("Fix it"))
    fix.click().run()
    assert not at.error and not at.exception
    assert at.slider(key="beta").value < 1


def test_rule_source_and_step_numbers_render_only_when_opened():
    at = open_page("explorer", rule="gated_delta", T="8", d_k="4", d_v="4")
    no_errors(at)
    assert not any("class " in c.value for c in at.code)  # closed: nothing highlighted on first render
    assert all("\\phi(k_{1})" not in x.value for x in at.latex)  # the Equations tab is not open
    assert not at.get("download_button")  # nor the export expander
    at.session_state["rule_code"] = True
    at.session_state["view"] = "Equations"
    at.session_state["export"] = True
    at.run()
    no_errors(at)
    assert any(c.value.startswith("class GatedDelta(") for c in at.code)
    assert [b.proto.label for b in at.get("download_button")] == ["Trace (NPZ)", "Trace (CSV)", "Configuration (JSON)",
                                                                  "Weights figure (HTML)"]
    assert any("rule=gated_delta" in c.value for c in at.code)  # the link to this view
    {b.label: b for b in at.button}["Step"].click().run()  # the link and the figure download follow the step
    link = next(c.value for c in at.code if "rule=gated_delta" in c.value)
    assert "t=2" in link
    assert any(b.proto.label == "Weights figure (HTML)" for b in at.get("download_button"))
    assert any("\\phi(k_{2})" in x.value for x in at.latex)  # the step's numbers, now at t = 2
    assert not at.get("plotly_chart")  # and no chart is drawn behind the closed tabs


def test_smooth_playback_sends_every_step_and_its_player() -> None:
    at = explorer(rule="delta", sequence="overwrite", T="12", d_k="8", d_v="8", seed="3", beta="1")
    at.session_state["smooth"] = True
    at.run()
    no_errors(at)
    spec = chart(at, "smooth_fig")
    assert [f["name"] for f in spec["frames"]] == [str(t) for t in range(1, 13)]
    cfg = explorer_exp.ExplorerConfig(rule="delta", hparams=tuple(sorted(fwp_core.registry.resolve_hparams("delta").items())),
                                 sequence="overwrite", T=12, d_k=8, d_v=8, seed=3, beta=1.0)
    trace = expected_trace(cfg)
    np.testing.assert_allclose(decode(spec["frames"][6]["data"][1]["z"]), trace.weights[7].numpy(), rtol=1e-5, atol=1e-6)
    (player,) = [json.loads(c.proto.json) for c in at.get("bidi_component") if "fwp_smooth_player" in c.proto.component_name]
    assert player["target"] == "smooth_fig" and player["frames"] == 12 and len(player["labels"]) == 12
    big = explorer(rule="delta", T="300", d_k="8", d_v="8")
    big.session_state["smooth"] = True
    big.run()
    assert any("limited to T ≤ 256" in w.value for w in big.warning) and not [c for c in big.get("bidi_component") if "fwp_smooth_player" in c.proto.component_name]


def test_the_step_has_one_owner_the_session() -> None:
    """t comes from the URL only where the session has none; the scrubber's move is taken when it is a whole step
    (clamped to 1..T) and pauses Play; anything else it could send is ignored."""
    session: dict = {}
    assert state.start_t(session, {"t": "5"}, 8) == 5
    assert state.start_t(session, {"t": "2"}, 8) == 5  # the session's step wins over a URL read before
    assert state.start_t({}, {"t": "99"}, 8) == 8 and state.start_t({}, {"t": "abc"}, 8) == 1 and state.start_t({}, {}, 8) == 1
    assert state.start_t({}, {"t": "3", "cmp_t": "6"}, 8, default=8, name="cmp_t") == 6  # Compare's URL name
    assert state.start_t({}, {"t": "3"}, 8, default=8, name="cmp_t") == 8
    session = {"t": 3, "playing": True}
    state.scrub_to(session, 7, 8)
    assert session == {"t": 7, "playing": False}
    for bad in (None, "x", 2.5):
        state.scrub_to(session, bad, 8)
        assert session["t"] == 7
    state.scrub_to(session, 40, 8)
    assert session["t"] == 8
    url: dict = {}
    session = {"t": 3}
    state.write_t(session, url, 3)
    assert url == {"t": "3"} and session["_url_t"] == "3"
    state.follow_url_t(session, {"t": "3"})  # the URL the stepper wrote: nothing to follow
    assert session["t"] == 3
    state.follow_url_t(session, {"t": "2"})  # the browser's back button: the URL's step wins
    assert session["t"] == 2
    state.follow_url_t(session, {"t": "abc"})  # an edited address that is no step: ignored (url_warnings says why)
    assert session["t"] == 2
    fresh: dict = {}
    state.follow_url_t(fresh, {"t": "5"})  # a first visit is start_t's job
    assert fresh == {}


def test_play_timer_follows_the_toggle_and_the_speed() -> None:
    """The stepper's timer is armed at a full run; toggling Play or changing its speed while playing reruns only the
    stepper, which must then ask for a full run to re-arm it (a speed change while paused needs none)."""
    assert not state.play_timer_stale({"playing": True, "speed": 4}, True, 4.0)
    assert state.play_timer_stale({"playing": True, "speed": 8}, True, 4.0)
    assert state.play_timer_stale({"playing": False, "speed": 4}, True, 4.0)
    assert state.play_timer_stale({"playing": True}, False, 4.0)
    assert not state.play_timer_stale({"playing": False, "speed": 16}, False, 4.0)


def test_playback_advances_by_elapsed_time_and_stops_at_the_end() -> None:
    session: dict = {"t": 3}
    state.advance_playback(session, 10, 4.0, now=100.0)  # first tick: only starts the clock
    assert session["t"] == 3 and session["_play_tick"] == 100.0
    state.advance_playback(session, 10, 4.0, now=100.1)  # less than one step's time: nothing
    assert session["t"] == 3
    state.advance_playback(session, 10, 4.0, now=100.8)  # 0.8 s at 4 steps/s: 3 steps; the clock keeps the rest
    assert session["t"] == 6 and session["_play_tick"] == 100.75
    session["playing"] = True
    state.advance_playback(session, 10, 4.0, now=102.0)  # past the end: stop at T
    assert session["t"] == 10 and session["playing"] is False and session["_play_tick"] is None
    state.advance_playback(session, 10, 4.0, now=110.0)  # Play again at the end starts over
    assert session["t"] == 1


def test_home_diagram_follows_the_theme_on_a_transparent_background() -> None:
    from pathlib import Path

    src = (Path(__file__).resolve().parents[2] / "pages" / "home.py").read_text()
    ns: dict = {}
    exec(src[src.index("def diagram"):src.index('st.title("Fast weight programmers")')], ns)  # the page's own function
    light, dark = ns["diagram"](False), ns["diagram"](True)
    for dot in (light, dark):
        assert 'bgcolor="transparent"' in dot
    assert 'fontcolor="#fafafa"' in dark and 'fontcolor="#31333f"' in light


def test_a_typed_sentence_says_its_own_length_and_the_T_box_steps_aside() -> None:
    at = explorer(sequence="text", text="the cat sat on the mat , the dog sat .")
    no_errors(at)
    assert any(c.value.startswith("T = 11: the sentence's 11 tokens") for c in at.caption)
    assert caption_t(at) == "t = 1 / 11"
    assert at.number_input(key="T").disabled
