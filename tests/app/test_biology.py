"""AppTest: the Biology page renders every simulation without an exception, and its figures carry fwp_core.biology's numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fwp_core import biology as bio
from tests.helpers import decode, figure_specs, figure_with_trace, no_errors, open_page, trace_named

TIMEOUT = 90
ROOT = Path(__file__).resolve().parents[2]
CHARTS = {"Three-factor": 2, "Oja": 2, "Short-term": 1, "BTSP": 3, "Key-value": 2, "Mapping": 0}


def biology(**params: str | list[str]) -> AppTest:
    return open_page("biology", TIMEOUT, **params)


@pytest.mark.parametrize("sim", list(CHARTS))
def test_every_simulation_renders_without_error(sim: str) -> None:
    at = biology(bio_sim=sim)
    no_errors(at)
    assert not at.warning
    assert len(at.get("plotly_chart")) == CHARTS[sim]  # only the chosen simulation is drawn
    for spec in figure_specs(at):  # never a NaN or inf in what is drawn
        for tr in spec["data"]:
            for field in ("x", "y", "z"):
                value = tr.get(field)
                if value is None or (isinstance(value, list) and value and isinstance(value[0], str)):
                    continue
                assert np.isfinite(decode(value)).all(), (sim, tr.get("name"), field)
    if sim != "Mapping":  # every simulation says what is established and what is a hypothesis
        assert any("What is established, what is a hypothesis" in i.value for i in at.info)
    captions = [c.value for c in at.caption]
    assert len(captions) >= CHARTS[sim] + 1  # the page caption plus one under every figure


def test_default_is_three_factor_with_core_numbers() -> None:
    at = biology()
    no_errors(at)
    res = bio.three_factor(n_items=6, d=8, rewarded=(1, 4), delay=2, trace_decay=0.7, interval=10)
    spec = figure_with_trace(at, "three-factor")
    np.testing.assert_allclose(decode(trace_named(spec, "three-factor")["y"]), res.stored, atol=1e-12)
    np.testing.assert_allclose(decode(trace_named(spec, "Hebbian")["y"]), res.hebbian_stored, atol=1e-12)
    beta = decode(trace_named(spec, "β_s (non-causal)")["y"])  # equal to the FINAL stored strengths
    np.testing.assert_allclose(beta, res.beta_equivalent[res.item_times - 1], atol=1e-12)
    np.testing.assert_allclose(beta, res.stored, atol=1e-9)
    timeline = figure_with_trace(at, "M_t")
    np.testing.assert_allclose(decode(trace_named(timeline, "M_t")["y"]), res.modulator)
    np.testing.assert_allclose(decode(trace_named(timeline, "three-factor ‖W_t‖")["y"]), res.weight_norm, atol=1e-12)
    fwp = decode(trace_named(timeline, "two fast weights ‖W_t‖")["y"])
    np.testing.assert_allclose(fwp, res.fwp_weight_norm, atol=1e-12)
    np.testing.assert_allclose(fwp, res.weight_norm, atol=1e-12)  # on the red line at every step
    ahead = decode(trace_named(timeline, "β-weighted Hebbian sum")["y"])
    np.testing.assert_allclose(ahead, res.beta_sum_norm, atol=1e-12)
    assert ahead[-1] == pytest.approx(res.weight_norm[-1], abs=1e-12)  # meets W at T ...
    assert np.abs(ahead - res.weight_norm).max() > 0.1  # ... but not on the way


def page_text(at: AppTest) -> str:
    """Everything the page says in words: headings, markdown, captions, notes, metrics, equations, table cells."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error", "latex"):
        parts += [str(el.value) for el in getattr(at, kind)]
    parts += [f"{m.label} {m.value} {getattr(m, 'help', '') or ''}" for m in at.metric]
    for df in at.dataframe:
        parts += [str(x) for x in np.asarray(df.value, dtype=object).ravel()]
    return "\n".join(parts)


@pytest.mark.parametrize("params, kwargs", [
    ({}, dict(rewarded=(1, 4), delay=2, trace_decay=0.7, interval=10)),
    ({"bio_delay": "5", "bio_lambda": "0.9", "bio_rewarded": ["1", "4", "6"]},
     dict(rewarded=(0, 3, 5), delay=5, trace_decay=0.9, interval=10)),
], ids=["default", "late-rewards"])
def test_three_factor_text_states_live_numbers_and_the_causal_fwp(params, kwargs) -> None:
    at = biology(bio_sim="Three-factor", **params)
    no_errors(at)
    res = bio.three_factor(n_items=6, d=8, **kwargs)
    text = page_text(at)
    assert f"max |W_t(three-factor) − W_t(two fast weights)| = {res.causal_error:.1e}" in text
    assert f"over all {len(res.time)} steps" in text.lower()
    assert f"max |W_T − Σ_s β_s v_s k_sᵀ| = {res.final_identity_error:.1e}" in text
    assert f"= {res.largest_gap:.3f}, is at step t = {res.largest_gap_step}" in text
    t = res.largest_gap_step
    i = int(np.argmax(np.abs(res.beta_sum_stored_over_time[t - 1] - res.stored_over_time[t - 1])))
    assert f"item {i + 1} (presented at step {int(res.item_times[i])})" in text
    assert f"{res.beta_sum_stored_over_time[t - 1, i]:.3f} by the β-weighted sum" in text
    assert f"λ^delay = {res.trace_decay ** res.delay:.3f}" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["three-factor vs two fast weights, all t"] == f"{res.causal_error:.1e}"
    assert metrics["β-weighted Hebbian sum vs W_t, t < T"] == f"{res.largest_gap:.3f}"
    assert "two fast weights" in text and "fast weight 1" in text
    # the false claim is gone: the rule is not one Hebbian FWP whose programmer emits β_s
    for wrong in ("exactly a Hebbian FWP", "programmer emits the write strength", "plays the role of", "sit exactly on"):
        assert wrong not in text, wrong


def test_three_factor_says_when_the_beta_sum_is_causal() -> None:
    at = biology(bio_sim="Three-factor", bio_delay="0", bio_lambda="0")
    no_errors(at)
    res = bio.three_factor(n_items=6, d=8, rewarded=(1, 4), delay=0, trace_decay=0.0, interval=10)
    assert res.largest_gap_step is None
    text = page_text(at)
    assert "no item is credited by a later pulse" in text and f"{res.largest_gap:.1e}" in text
    assert "coincides with W here" in text and "meets W only at the end" not in text  # the caption follows the run


def test_three_factor_sliders_from_the_url() -> None:
    at = biology(bio_sim="Three-factor", bio_delay="4", bio_lambda="0.5", bio_rewarded=["3"])
    no_errors(at)
    res = bio.three_factor(n_items=6, d=8, rewarded=(2,), delay=4, trace_decay=0.5, interval=10)
    stored = decode(trace_named(figure_with_trace(at, "three-factor"), "three-factor")["y"])
    np.testing.assert_allclose(stored, res.stored, atol=1e-12)
    assert stored[2] == pytest.approx(0.5**4)  # a late reward still reaches its item, scaled by λ^delay
    assert np.abs(stored[3:]).max() < 1e-12  # later items come after the reward: nothing
    assert np.abs(stored[:2]).max() < 1e-4  # earlier items: only what is left of their traces, λ^(14) and less


def test_impossible_combination_is_an_error_message_not_an_exception() -> None:
    at = biology(bio_sim="Three-factor", bio_delay="12", bio_interval="10")
    assert not at.exception
    assert len(at.error) == 1 and "delay=12" in at.error[0].value and "[0, 9]" in at.error[0].value
    assert len(at.get("plotly_chart")) == 0
    at = biology(bio_sim="Oja", bio_lr="0.1")
    assert not at.exception
    assert len(at.error) == 1 and "learning_rate" in at.error[0].value


def test_unknown_simulation_in_the_link_warns_and_shows_the_first() -> None:
    at = biology(bio_sim="nonsense")
    assert not at.exception and not at.error
    assert "nonsense" in at.warning[0].value
    assert at.header[0].value == "Hebbian vs three-factor learning"


def test_oja_at_the_page_defaults_converges_to_unit_norm_on_u1() -> None:
    at = biology(bio_sim="Oja")
    no_errors(at)
    res = bio.oja_pca(eigenvalues=(3.0, 0.2), n_steps=600, learning_rate=0.005, init_norm=0.3)  # the sliders' defaults
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Oja ‖w_T‖"] == f"{res.norm_oja[-1]:.4f}"
    assert float(metrics["Oja ‖w_T‖"]) == pytest.approx(1.0, abs=0.01)
    assert metrics["Oja angle to u₁"] == f"{res.angle_oja[-1]:.2f}°"
    assert float(metrics["Oja angle to u₁"].rstrip("°")) < 1.0
    fixed = next(df.value for df in at.dataframe if "fixed point" in df.value.columns)
    assert list(fixed["fixed point"]) == ["0", "±u_1", "±u_2"]  # 0 and every eigenvector are fixed points ...
    assert list(fixed["stable"]) == ["no", "yes", "no"]  # ... but only ±u_1 is stable
    np.testing.assert_allclose(fixed["growth rate"], np.round(res.fixed_point_growth, 3))
    text = page_text(at)
    assert "every unit eigenvector" in text and "only $\\pm u_1$" in text and "converges to 1" in text
    assert "fixed points: } w = \\pm u_1" not in text  # the old, wrong claim that ±u_1 are the only fixed points


def test_oja_norm_ends_near_one_and_hebbian_grows() -> None:
    at = biology(bio_sim="Oja", bio_steps="1500", bio_lr="0.01")
    no_errors(at)
    res = bio.oja_pca(eigenvalues=(3.0, 0.2), n_steps=1500, learning_rate=0.01, init_norm=0.3)
    spec = figure_with_trace(at, "Oja")
    log_oja = decode(trace_named(spec, "Oja")["y"])
    np.testing.assert_allclose(log_oja, np.log10(res.norm_oja), atol=1e-9)
    assert 10 ** log_oja[-1] == pytest.approx(1.0, abs=0.02)
    log_hebb = decode(trace_named(spec, "Hebbian")["y"])
    np.testing.assert_allclose(log_hebb, res.log10_norm_hebbian, atol=1e-9)
    assert log_hebb[-1] > 10  # ‖w‖ > 1e10: plotted as a finite log even where the norm itself would overflow
    np.testing.assert_allclose(decode(trace_named(spec, "Oja angle")["y"]), res.angle_oja, atol=1e-9)
    assert decode(trace_named(spec, "Oja angle")["y"])[-1] < 5


def test_short_term_plasticity_follows_tau_f() -> None:
    at = biology(bio_sim="Short-term", bio_tau_f="2.5", bio_clear="5")
    no_errors(at)
    res = bio.short_term_plasticity(U=0.2, tau_f=2.5, tau_d=0.2, rate=20.0, clear_time=5.0)
    spec = figure_with_trace(at, "efficacy u·x")
    np.testing.assert_allclose(decode(trace_named(spec, "efficacy u·x")["y"]), res.efficacy, atol=1e-12)
    np.testing.assert_allclose(decode(trace_named(spec, "decay rule")["y"]), res.decay_strength, atol=1e-12)
    gated = decode(trace_named(spec, "gated rule")["y"])
    np.testing.assert_allclose(gated, res.gated_strength, atol=1e-12)
    t = decode(trace_named(spec, "gated rule")["x"])
    assert gated[(t > res.last_spike) & (t < 5.0)].min() == pytest.approx(gated.max())  # held until cleared
    assert gated[t >= 5.0].max() == 0.0


def test_btsp_field_peak_is_the_core_peak() -> None:
    at = biology(bio_sim="BTSP", bio_plateau="120", bio_speed="15")
    no_errors(at)
    res = bio.btsp_place_field(plateau_position=120.0, speed=15.0, tau_eligibility=1.66, n_laps=20)
    spec = figure_with_trace(at, "BTSP (1 lap)")
    tr = trace_named(spec, "BTSP (1 lap)")
    x, y = decode(tr["x"]), decode(tr["y"])
    assert x[np.argmax(y)] == pytest.approx(res.peak_position_btsp)
    assert res.peak_position_btsp < 120  # the asymmetric window puts the field before the plateau
    np.testing.assert_allclose(decode(trace_named(spec, "delta rule (1 write)")["y"]), res.field_delta, atol=1e-12)
    window = figure_with_trace(at, "from w = 0")
    assert decode(trace_named(window, "from w = 0")["y"]).max() > 0.9
    assert decode(trace_named(window, "from w = w_max")["y"]).min() < -0.5  # bidirectional
    laps = figure_with_trace(at, "Hebbian catches up")
    assert decode(trace_named(laps, "Hebbian catches up")["x"])[0] == res.hebbian_laps_to_match


def test_btsp_existing_field_is_drawn_and_depressed() -> None:
    at = biology(bio_sim="BTSP", bio_second="true", bio_prior="40")
    no_errors(at)
    res = bio.btsp_place_field(prior_field_position=40.0)
    spec = figure_with_trace(at, "before")
    np.testing.assert_allclose(decode(trace_named(spec, "before")["y"]), res.field_before, atol=1e-12)
    i = int(np.argmin(np.abs(res.positions - 40.0)))
    assert decode(trace_named(spec, "BTSP (1 lap)")["y"])[i] < 0.5 * res.field_before[i]


@pytest.mark.parametrize("rule", ["delta", "hebbian"])
def test_key_value_cues(rule: str) -> None:
    at = biology(bio_sim="Key-value", bio_similarity="0.8", bio_kv_rule=rule)
    no_errors(at)
    res = bio.kv_retrieval(similarity=0.8, d_k=8, d_v=8, rule=rule)
    spec = figure_with_trace(at, "cues")
    cues = decode(trace_named(spec, "cues")["y"])
    np.testing.assert_allclose(cues, res.cos_target, atol=1e-12)
    assert cues[2] == pytest.approx(1.0)  # the specific cue recovers v1 exactly
    vectors = decode(trace_named(figure_with_trace(at, "vectors"), "vectors")["z"])
    np.testing.assert_allclose(vectors[:, 2:], res.retrieved.T, atol=1e-12)
    table = at.dataframe[0].value
    assert list(table["recalls"]) == list(res.recalled)


def test_mapping_table_and_open_questions() -> None:
    at = biology(bio_sim="Mapping")
    no_errors(at)
    m = bio.biology_map()
    table = at.dataframe[0].value
    assert len(table) == len(m.links)
    assert list(table["status"]) == [lk.status for lk in m.links]
    assert {"established", "hypothesis"} == set(table["status"])
    for lk, cell in zip(m.links, table["sources"]):  # every row shows what it rests on
        assert cell and cell == "; ".join(s.short for s in lk.sources)
    captions = " ".join(c.value for c in at.caption)
    for lk in m.links:
        assert "Sources: " + "; ".join(s.citation for s in lk.sources) in captions
    text = " ".join(md.value for md in at.markdown)
    for q in m.open_questions:
        assert q.question in text
    for needed in ("error term W k", "β > 1", "keys and values learned"):
        assert needed in text


@pytest.mark.parametrize("sim", list(CHARTS))
def test_no_text_attributes_anything_to_the_primer_unless_marked(sim: str) -> None:
    at = biology(bio_sim=sim)
    no_errors(at)
    m = bio.biology_map()
    marked = [lk for lk in m.links if lk.after_primer]
    for line in page_text(at).split("\n"):
        if "primer" in line.lower() or "Irie & Gershman" in line:
            assert m.primer_note in line or any(lk.quantity in line for lk in marked), line
    for wrong in ("follows the primer", "following Irie", "after the primer"):
        assert wrong not in page_text(at) or marked, wrong
    if sim == "Mapping":
        assert m.primer_note in page_text(at)
