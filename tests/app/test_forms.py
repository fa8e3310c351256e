"""AppTest: the Forms page — every pair of forms agrees for every rule and every choice of inputs (the SSM scan where
a Mamba2 head is the rule), the mapping table, the delta matrices, every chunk size, timing."""

from __future__ import annotations

from fwp_core.experiments import forms as forms_exp

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import fwp_core

from fwp_core.forms import form_rule_names as forms_rule_names
from fwp_core import forms as core
from fwp_core import ssm
from fwp_core.sequences import random_episode
from tests.helpers import decode, figure_specs, forms_diffs, no_errors, open_page, table_starting_with, trace_named

TIMEOUT = 90
ROOT = Path(__file__).resolve().parents[2]


def forms(**params: str) -> AppTest:
    return open_page("forms", TIMEOUT, **params)


def chart(at: AppTest, key: str) -> dict:
    specs = {el.key: spec for el, spec in zip(at.get("plotly_chart"), figure_specs(at))}
    assert key in specs, f"no chart {key!r}; charts: {list(specs)}"
    return specs[key]


def pair_table(at: AppTest):
    """The page's table of max |Y_a − Y_b| for every pair of forms (rows and columns: the forms' titles)."""
    return table_starting_with(at, core.FORM_TITLES["recurrent"])


def diffs(at: AppTest) -> dict[str, float]:
    return forms_diffs(at)


def mapping_table(at: AppTest):
    return table_starting_with(at, "fast weight programmer")


def cases():
    for rule in forms_rule_names():
        for inputs in core.input_choices(rule):
            yield pytest.param(rule, inputs, id=f"{rule}-{inputs}")


def test_forms_shows_every_rule_with_a_parallel_form() -> None:
    """Derived from the registry: every rule with a parallel form that writes one key per token."""
    names = forms_rule_names()
    assert names == [n for n in fwp_core.rule_names(parallel=True) if not fwp_core.get_spec(n).substeps]
    assert {"hebbian", "decay", "gated", "delta", "gated_delta"} <= set(names)


@pytest.mark.parametrize("rule,inputs", list(cases()))
def test_every_pair_of_forms_agrees(rule: str, inputs: str) -> None:
    """Every rule the page offers, with every choice of inputs: no error, every pair of forms within
    fwp_core.forms.AGREE (1e-9, float64) × max(1, max |y|), the mapping table present."""
    at = forms(forms_rule=rule, forms_T="12", forms_beta="0.7", forms_inputs=core.INPUT_TITLES[inputs])
    no_errors(at)
    assert not at.warning
    ssm_here = rule in core.ssm_rule_names() and (inputs == "mamba2" or not fwp_core.get_spec(rule).needs_gate)
    names = ["recurrent", "parallel", "chunked"] + (["ssm"] if ssm_here else [])
    d = diffs(at)
    assert list(pair_table(at).index) == [core.FORM_TITLES[f] for f in names]
    assert set(d) == {f"{a} vs {b}" for i, a in enumerate(names) for b in names[i + 1:]}
    out = chart(at, "forms_outputs")
    assert [t["name"] for t in out["data"]] == names
    rec = decode(trace_named(out, "recurrent")["z"])
    scale = max(1.0, float(np.abs(rec).max()))  # float64 rounding is relative (RLS's outputs reach ~10)
    assert max(d.values()) <= core.AGREE * scale
    for name in names[1:]:
        np.testing.assert_allclose(decode(trace_named(out, name)["z"]), rec, atol=core.AGREE * scale, rtol=0)
    ys = {name: decode(trace_named(out, name)["z"]) for name in names}  # the table is these pictures' differences
    for pair, value in d.items():
        a, b = pair.split(" vs ")
        assert value == pytest.approx(float(np.abs(ys[a] - ys[b]).max()), rel=1e-6, abs=1e-300)
    # the recurrent panel holds the core's own recurrence (float64, unit keys for delta rules)
    if rule in ("hebbian", "delta"):
        ep = random_episode(12, 8, 8, 0, dtype=torch.float64)
        y = fwp_core.make_rule(rule).run(ep.q, ep.k, ep.v, beta=0.7).outputs.numpy()
        np.testing.assert_allclose(rec, y, atol=1e-12)
    if inputs == "mamba2":  # the head itself, drawn here: the page's SSM panel is its scan
        head = ssm.random_head(12, 8, 8, 0)
        np.testing.assert_allclose(decode(trace_named(out, "ssm")["z"]), ssm.mamba2_scan(**head).numpy(), atol=1e-12, rtol=0)
        np.testing.assert_allclose(rec, ssm.mamba2_scan(**head).numpy(), atol=core.AGREE * scale, rtol=0)
    # the mapping table: the three vocabularies, and this run's max |FWP − SSM| where the scan ran
    m = mapping_table(at)
    assert list(m.columns) == ["fast weight programmer", "linear attention", "Mamba2 (SSM)", "max |FWP − SSM| here"]
    assert list(m.index) == [r[0] for r in ssm.NAME_MAP]
    assert m.loc["memory"].iloc[:3].str.contains("W").tolist() == [True, False, False]
    assert "h_t" in m.loc["memory", "Mamba2 (SSM)"] and "B_t" in m.loc["written with", "Mamba2 (SSM)"]
    here = m["max |FWP − SSM| here"].astype(float)
    if ssm_here:
        assert here.notna().all() and float(here.max()) <= core.AGREE * scale
        assert any("the one A with" in c.value for c in at.caption)
    else:
        assert here.isna().all()
        assert any(i.value.startswith("No SSM scan here:") for i in at.info)
    chunks = chart(at, "forms_chunks")
    bar = chunks["data"][0]
    assert [int(c) for c in bar["x"]] == list(range(1, 13))  # every chunk size 1..T
    assert decode(bar["customdata"]).max() < 1e-9
    names = {t["name"] for t in chart(at, "forms_matrices")["data"]}
    if fwp_core.get_spec(rule).family == "delta":
        assert names == {"scores", "correction", "product"}
        assert {t["name"] for t in chart(at, "forms_values")["data"]} == {"values", "pseudo_values"}
    else:
        assert names == {"attention"}


def test_the_mamba2_head_inputs_follow_A() -> None:
    at = forms(forms_rule="gated", forms_T="20", forms_dk="4", forms_dv="3", forms_seed="5", forms_A="-2.5")
    no_errors(at)
    head = ssm.random_head(20, 3, 4, 5, A=-2.5)
    out = chart(at, "forms_outputs")
    for name in ("recurrent", "parallel", "chunked", "ssm"):
        np.testing.assert_allclose(decode(trace_named(out, name)["z"]), ssm.mamba2_scan(**head).numpy(), atol=1e-12, rtol=0)
    # the attention panel is the SSD semiseparable matrix (L ⊙ C Bᵀ) · diag Δ
    M = (ssm.semiseparable_matrix(head["dt"], -2.5, head["B"], head["C"]) * head["dt"][None, :]).numpy()
    np.testing.assert_allclose(decode(trace_named(chart(at, "forms_matrices"), "attention")["z"]), M, atol=1e-12, rtol=0)
    assert any("A = -2.5" in c.value for c in at.caption)
    assert not [s for s in at.slider if s.key in ("forms_beta", "forms_gate")]  # the head sets β and α itself
    # the Gaussian inputs: β and the gate from the sliders, no single A, so no SSM scan, and the page says why
    at.button_group(key="forms_inputs").set_value("gaussian").run()
    no_errors(at)
    assert {s.key for s in at.slider} >= {"forms_beta", "forms_gate"}
    assert [t["name"] for t in chart(at, "forms_outputs")["data"]] == ["recurrent", "parallel", "chunked"]
    assert any("no single A" in i.value for i in at.info)


def test_decay_without_an_A_says_why() -> None:
    at = forms(forms_rule="decay", forms_beta="0")
    no_errors(at)
    assert "ssm" not in {t["name"] for t in chart(at, "forms_outputs")["data"]}
    assert any("every Δ = β is 0" in i.value for i in at.info)
    assert max(diffs(at).values()) <= core.AGREE


def test_delta_matrices_carry_the_right_numbers() -> None:
    at = forms(forms_rule="delta", forms_T="10", forms_beta="0.6")
    no_errors(at)
    ep = random_episode(10, 8, 8, 0, dtype=torch.float64)
    k = torch.nn.functional.normalize(ep.k, dim=-1).numpy()
    q = torch.nn.functional.normalize(ep.q, dim=-1).numpy()
    v = ep.v.numpy()
    beta = 0.6
    corr = np.linalg.inv(np.eye(10) + np.tril(beta * k @ k.T, -1)) * beta  # (I + tril₋₁(βKKᵀ))⁻¹ diag(β)
    scores = np.tril(q @ k.T)
    m = chart(at, "forms_matrices")
    np.testing.assert_allclose(decode(trace_named(m, "scores")["z"]), scores, atol=1e-12)
    np.testing.assert_allclose(decode(trace_named(m, "correction")["z"]), corr, atol=1e-12)
    np.testing.assert_allclose(decode(trace_named(m, "product")["z"]), scores @ corr, atol=1e-12)
    np.testing.assert_allclose(decode(trace_named(chart(at, "forms_values"), "pseudo_values")["z"]), corr @ v, atol=1e-12)


def test_chunk_size_slider() -> None:
    at = forms(forms_T="40")
    at.slider(key="forms_C").set_value(7).run()
    no_errors(at)
    assert any("C = 7" in c.value for c in at.caption)
    assert max(diffs(at).values()) < 1e-12
    bar = chart(at, "forms_chunks")["data"][0]
    colors = bar["marker"]["color"]
    assert [bar["x"][i] for i, c in enumerate(colors) if c == "#c0392b"] == ["7"]


def test_long_sequence_windows_the_matrices() -> None:
    at = forms(forms_T="300", forms_dk="4", forms_dv="4")
    no_errors(at)
    z = decode(trace_named(chart(at, "forms_matrices"), "scores")["z"])
    assert z.shape == (128, 128)
    assert any("first 128 of 300" in c.value for c in at.caption)
    assert max(diffs(at).values()) < 1e-10


def test_timing_on_demand() -> None:
    at = forms(forms_rule="hebbian")
    assert "forms_timing" not in {el.key for el in at.get("plotly_chart")}
    cost = next(d.value for d in at.dataframe if list(d.value.columns) == ["cost"])
    assert list(cost.index) == ["recurrent", "parallel", "chunked"] and cost["cost"].str.contains("O(", regex=False).all()
    at.button(key="forms_measure").click().run()
    no_errors(at)
    spec = chart(at, "forms_timing")
    assert {t["name"] for t in spec["data"]} == {"recurrent", "parallel", "chunked"}
    for tr in spec["data"]:
        assert list(decode(tr["x"])) == [64, 128, 256, 512, 1024]
        assert (decode(tr["y"]) > 0).all()
    tab = next(d.value for d in at.dataframe if d.value.index.name == "T")
    assert list(tab.index) == [64, 128, 256, 512, 1024] and (tab.to_numpy() > 0).all()


def test_timing_includes_the_ssm_scan_where_it_exists() -> None:
    for rule in forms_rule_names():
        assert ("ssm" in forms_exp.forms_of(rule)) == (rule in core.ssm_rule_names())
    rows = forms_exp.time_forms("gated", (8, 16), d_k=4, d_v=4, chunk_size=4, reps=1)
    assert [(r["T"], r["form"]) for r in rows] == [(T, f) for T in (8, 16) for f in core.FORMS]
    assert all(r["seconds"] > 0 for r in rows)


def test_edge_and_bad_input() -> None:
    at = forms(forms_T="1")
    no_errors(at)
    assert max(diffs(at).values()) < 1e-12
    at = forms(forms_rule="titans")
    assert not at.exception
    assert any("forms_rule" in w.value for w in at.warning)  # no parallel form: reported, default used
