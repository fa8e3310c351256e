"""AppTest: the Forms page — three forms agree for every rule, the delta matrices, every chunk size, timing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import fwp_core
from app.lab import forms_rule_names
from fwp_core.sequences import random_episode
from tests.helpers import decode, figure_specs, no_errors, open_page, trace_named

TIMEOUT = 90
ROOT = Path(__file__).resolve().parents[2]


def forms(**params: str) -> AppTest:
    return open_page("forms", TIMEOUT, **params)


def chart(at: AppTest, key: str) -> dict:
    specs = {el.key: spec for el, spec in zip(at.get("plotly_chart"), figure_specs(at))}
    assert key in specs, f"no chart {key!r}; charts: {list(specs)}"
    return specs[key]


def diffs(at: AppTest) -> dict[str, float]:
    return {m.label.split(": ")[1]: float(m.value) for m in at.metric if m.label.startswith("max |difference|")}


def test_forms_shows_every_rule_with_a_parallel_form() -> None:
    """Derived from the registry: every rule with a parallel form that writes one key per token."""
    names = forms_rule_names()
    assert names == [n for n in fwp_core.rule_names(parallel=True) if not fwp_core.get_spec(n).substeps]
    assert {"hebbian", "decay", "gated", "delta", "gated_delta"} <= set(names)


@pytest.mark.parametrize("rule", forms_rule_names())
def test_three_forms_agree(rule: str) -> None:
    at = forms(forms_rule=rule, forms_T="12", forms_beta="0.7")
    no_errors(at)
    d = diffs(at)
    assert set(d) == {"recurrent vs parallel", "recurrent vs chunked", "parallel vs chunked"}
    out = chart(at, "forms_outputs")
    rec = decode(trace_named(out, "recurrent")["z"])
    scale = max(1.0, float(np.abs(rec).max()))  # float64 rounding is relative (RLS's outputs reach ~10)
    assert max(d.values()) < 1e-12 * scale
    # the recurrent panel holds the core's own recurrence (float64, unit keys for delta rules)
    if rule in ("hebbian", "delta"):
        ep = random_episode(12, 8, 8, 0, dtype=torch.float64)
        y = fwp_core.make_rule(rule).run(ep.q, ep.k, ep.v, beta=0.7).outputs.numpy()
        np.testing.assert_allclose(rec, y, atol=1e-12)
    for name in ("parallel", "chunked"):
        np.testing.assert_allclose(decode(trace_named(out, name)["z"]), rec, atol=1e-12 * scale)
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
    cost = at.dataframe[0].value
    assert list(cost.index) == ["recurrent", "parallel", "chunked"] and cost["cost"].str.contains("O(", regex=False).all()
    at.button(key="forms_measure").click().run()
    no_errors(at)
    spec = chart(at, "forms_timing")
    assert {t["name"] for t in spec["data"]} == {"recurrent", "parallel", "chunked"}
    for tr in spec["data"]:
        assert list(decode(tr["x"])) == [64, 128, 256, 512, 1024]
        assert (decode(tr["y"]) > 0).all()
    tab = at.dataframe[1].value
    assert list(tab.index) == [64, 128, 256, 512, 1024] and (tab.to_numpy() > 0).all()


def test_edge_and_bad_input() -> None:
    at = forms(forms_T="1")
    no_errors(at)
    assert max(diffs(at).values()) < 1e-12
    at = forms(forms_rule="titans")
    assert not at.exception
    assert any("forms_rule" in w.value for w in at.warning)  # no parallel form: reported, default used
