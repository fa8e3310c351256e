"""AppTest: the Compare page — default view, stepping, every preset, every registered rule, divergence, bad input."""

from __future__ import annotations

from fwp_core.experiments import compare as compare_exp
from app import cache
from app import stepper

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import fwp_core
from app import figures, state
from fwp_core.sequences import overwrite_episode
from tests.helpers import decode, figure_specs, figure_with_trace, no_errors, open_page, trace_named

TIMEOUT = 90
ROOT = Path(__file__).resolve().parents[2]


def compare(**params: str) -> AppTest:
    return open_page("compare", TIMEOUT, **params)


def caption_t(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("t = "))


def table(at: AppTest):
    return at.dataframe[0].value.set_index("rule")


def default_weights(rule: str) -> np.ndarray:
    """W_0..W_12 of the default comparison, computed straight from the core (float32, β = 1)."""
    ep = overwrite_episode(12, 16, 8, 0)
    return fwp_core.make_rule(rule).run(ep.q, ep.k, ep.v).weights.numpy()


def test_default_view_teaches_overwrite() -> None:
    at = compare()
    no_errors(at)
    assert caption_t(at) == "t = 12 / 12"  # the default view shows the whole sequence
    assert any("**Overwrite.**" in i.value for i in at.info)
    spec = figure_with_trace(at, "1·hebbian")
    for label, rule in (("1·hebbian", "hebbian"), ("2·delta", "delta")):
        W = default_weights(rule)
        np.testing.assert_allclose(decode(trace_named(spec, label)["z"]), W[12], atol=1e-5)
    # one colour range for both rules and every step
    zmax = max(np.abs(default_weights("hebbian")).max(), np.abs(default_weights("delta")).max())
    assert spec["layout"]["coloraxis"]["cmax"] == pytest.approx(zmax, rel=1e-5)
    assert spec["layout"]["coloraxis"]["cmin"] == pytest.approx(-zmax, rel=1e-5)
    tab = table(at)
    assert list(tab.index) == ["1·hebbian", "2·delta"]
    rec = tab["final recall error (relative)"]
    assert rec["2·delta"] < 0.5 * rec["1·hebbian"]  # delta replaces, Hebbian piles up
    assert tab.loc["2·delta", "diverged"] == "no"
    # the recall figure: delta recalls the newest pair exactly
    recall = next(s for s in figure_specs(at) if s["layout"].get("title", {}).get("text", "").startswith("recall of every"))
    y = decode(trace_named(recall, "2·delta")["y"])
    assert y[-1] < 1e-5 and decode(trace_named(recall, "1·hebbian")["y"])[-1] > 0.3
    # the stepper's charts are sent as the Explorer's are: self-styled, no template, with their data revision
    for chart in at.get("plotly_chart"):
        lay = json.loads(chart.proto.spec)["layout"]
        assert "template" not in lay and lay["datarevision"] and lay["font"]["family"] == figures.APP_FONT


def test_stepping_moves_every_rule_together() -> None:
    at = compare()
    at.button(key="cmp_back").click().run()
    assert caption_t(at) == "t = 11 / 12"
    spec = figure_with_trace(at, "1·hebbian")
    np.testing.assert_allclose(decode(trace_named(spec, "2·delta")["z"]), default_weights("delta")[11], atol=1e-5)
    np.testing.assert_allclose(decode(trace_named(spec, "1·hebbian")["z"]), default_weights("hebbian")[11], atol=1e-5)
    at.button(key="cmp_reset").click().run()
    assert caption_t(at) == "t = 1 / 12"
    at.button(key="cmp_step").click().run()
    assert caption_t(at) == "t = 2 / 12"
    assert at.query_params["cmp_t"] in ("2", ["2"])
    scrub = [json.loads(c.proto.json) for c in at.get("bidi_component") if "fwp_scrubber" in c.proto.component_name]
    assert scrub == [{"t": 2, "T": 12}]
    state.scrub_to(stepper.KeyedSession(at.session_state, {"t": "cmp_t", "playing": "cmp_playing"}), 7, 12)  # the scrubber's move
    at.run()
    assert caption_t(at) == "t = 7 / 12"
    assert at.query_params["cmp_t"] in ("7", ["7"])


def test_deep_link_reproduces_view() -> None:
    at = compare(cmp_n="3", cmp1_rule="decay", cmp1_gamma="0.5", cmp3_rule="rls", cmp_seq="random", cmp_T="20", cmp_t="6")
    no_errors(at)
    assert caption_t(at) == "t = 6 / 20"
    assert list(table(at).index) == ["1·decay", "2·delta", "3·rls"]
    assert table(at).loc["1·decay", "max |λ|"] == pytest.approx(0.5, abs=1e-6)  # the transition of decay is γ I


def test_preset_long_recall() -> None:
    at = compare()
    at.button(key="cmp_preset_long_recall").click().run()
    no_errors(at)
    assert any("Long recall" in i.value for i in at.info)
    assert caption_t(at) == "t = 64 / 128"
    tab = table(at)
    assert list(tab.index) == ["1·decay", "2·delta", "3·gated_delta", "4·softmax"]
    rec = tab["final recall error (relative)"]
    assert rec["4·softmax"] < 0.1 < rec["1·decay"]  # the growing cache recalls; the fixed-size memories cannot
    assert tab.loc["1·decay", "max |λ|"] == pytest.approx(0.95, abs=1e-5)
    assert tab.loc["3·gated_delta", "max |λ|"] == pytest.approx(0.95, abs=1e-5)
    assert np.isnan(tab.loc["4·softmax", "‖W_T‖_F"])  # no fixed-size state
    # the link reproduces the preset, including widgets the preset added
    qp = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert {"cmp_n": "3", "cmp1_rule": "decay", "cmp1_gamma": "0.95", "cmp3_rule": "gated_delta", "cmp3_gate": "0.95",
            "cmp_seq": "recall", "cmp_T": "128", "cmp_softmax": "true", "cmp_t": "64"}.items() <= qp.items()
    again = compare(**qp)
    no_errors(again)
    assert any("Long recall" in i.value for i in again.info)
    assert caption_t(again) == "t = 64 / 128"


def test_preset_beta_range_reaches_negative_eigenvalues() -> None:
    at = compare()
    at.button(key="cmp_preset_beta_range").click().run()
    no_errors(at)
    tab = table(at)
    assert list(tab.index) == ["1·delta β~U(0,1)", "2·delta β~U(0,2)"]
    assert tab.loc["1·delta β~U(0,1)", "min Re λ"] >= 0.0
    assert tab.loc["2·delta β~U(0,2)", "min Re λ"] < -0.5
    assert tab["max |λ|"].max() == pytest.approx(1.0, abs=1e-5)


def test_preset_overwrite_after_another_preset() -> None:
    at = compare()
    at.button(key="cmp_preset_beta_range").click().run()
    at.button(key="cmp_preset_overwrite").click().run()
    no_errors(at)
    assert any("**Overwrite.**" in i.value for i in at.info)
    assert list(table(at).index) == ["1·hebbian", "2·delta"]


@pytest.mark.parametrize("chunk", [fwp_core.rule_names()[i:i + 4] for i in range(0, len(fwp_core.rule_names()), 4)])
def test_every_registered_rule_renders(chunk: list[str]) -> None:
    params = {"cmp_n": str(max(2, len(chunk))), "cmp_seq": "random", "cmp_T": "10", "cmp_softmax": "true"}
    params.update({f"cmp{i}_rule": r for i, r in enumerate(chunk, start=1)})
    at = compare(**params)
    no_errors(at)
    tab = table(at)
    assert [ix.split("·")[1] for ix in tab.index[: len(chunk)]] == chunk
    assert tab.index[-1].endswith("softmax")
    for spec in figure_specs(at):  # no NaN is ever plotted
        for tr in spec["data"]:
            for field in ("y", "z"):
                if isinstance(tr.get(field), (list, dict)) and tr.get("type") != "bar":
                    vals = decode(tr[field])
                    assert np.isfinite(vals).all(), (tr.get("name"), field)


def test_divergence_is_cut_explained_and_fixable() -> None:
    at = compare(cmp2_normalize="none", cmp2_beta="2.5", cmp_seq="random", cmp_T="24")
    assert not at.exception
    warns = [w.value for w in at.warning]
    assert any("2·delta β=2.5" in w and "blew up" in w for w in warns), warns
    err = next(s for s in figure_specs(at) if any(t.get("name") == "2·delta β=2.5" and t.get("mode") for t in s["data"]))
    y = decode(trace_named(err, "2·delta β=2.5")["y"])
    assert np.isfinite(y).all() and len(y) < 24  # cut before the divergence
    assert table(at).loc["2·delta β=2.5", "diverged"].startswith("at step")
    at.button(key="cmp_fix_2").click().run()
    assert not at.warning and not at.exception
    assert table(at).loc["2·delta", "diverged"] == "no"


def test_bad_input_is_reported_not_raised() -> None:
    at = compare(cmp_T="5000")
    assert not at.exception
    assert any("cmp_T" in w.value and "out of range" in w.value for w in at.warning)
    at = compare(cmp_seq="orthogonal", cmp_T="20", cmp_dk="4")
    assert not at.exception
    assert any("cannot run" in e.value and "T ≤ d_k" in e.value for e in at.error)


def test_lab_pages_are_in_the_navigation() -> None:
    from app.layout import PAGES

    specs = {p.url_path: p for p in PAGES}
    for path, icon in (("compare", ":material/compare:"), ("capacity", ":material/memory:"), ("forms", ":material/functions:")):
        assert specs[path].file == f"pages/{path}.py" and specs[path].icon == icon
    at = AppTest.from_file(str(ROOT / "app/main.py"), default_timeout=TIMEOUT)
    at.query_params.update({"cap_dk": "8", "cap_seeds": "2"})
    at.run()
    for path, title in (("compare", "Compare"), ("capacity", "Capacity"), ("forms", "Forms")):
        at.switch_page(f"../pages/{path}.py").run()
        no_errors(at)
        assert at.title[0].value == title
        assert len(at.get("plotly_chart")) >= 3


def test_linear_attention_recall_uses_its_normalised_read() -> None:
    """Recall on the Compare page uses linear attention's own read, W_t φ(k) / (z_tᵀφ(k) + ε): after one write the
    stored pair comes back exactly, and at the end every pair is read with the normaliser z_T = Σ_s φ(k_s)."""
    at = compare(cmp1_rule="linear_attention", cmp_t="1")
    no_errors(at)
    recall = next(s for s in figure_specs(at) if s["layout"].get("title", {}).get("text", "").startswith("recall of every"))
    y = decode(trace_named(recall, "1·linear_attention")["y"])
    assert len(y) == 1 and y[0] < 1e-3  # the unnormalised read W_1 φ(k_1) = ‖φ(k_1)‖² v_1 was far off
    hp = tuple(sorted(fwp_core.make_rule("linear_attention").hparams.items()))
    cfg = compare_exp.CompareConfig(slots=(compare_exp.Slot("linear_attention", hp), compare_exp.Slot("delta")), T=12, d_k=16, d_v=8)
    run = cache.compare_result(cfg).runs[0]
    idx, err = compare_exp.recall_at(run, 12)
    K, V = run.keys.astype(float), run.values.astype(float)  # φ(k_i) (β = 1) and v_i
    read = (K[idx - 1] @ run.weights[12].astype(float).T) / (K[idx - 1] @ K.sum(0) + 1e-6)[:, None]
    np.testing.assert_allclose(err, np.linalg.norm(V[idx - 1] - read, axis=1) / np.linalg.norm(V[idx - 1], axis=1), rtol=1e-4)
