"""AppTest: the Capacity page — the theory curve, key types, feature maps, recency, overwrite, divergence, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fwp_core import metrics
from tests.helpers import chart, decode, no_errors, open_page, trace_named

TIMEOUT = 120
ROOT = Path(__file__).resolve().parents[2]


def capacity(**params: str) -> AppTest:
    return open_page("capacity", TIMEOUT, **params)


def curve(spec: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    tr = trace_named(spec, name)
    return decode(tr["x"]), decode(tr["y"])


def test_default_view_follows_the_theory() -> None:
    at = capacity()
    no_errors(at)
    spec = chart(at, "capacity")
    names = {t["name"] for t in spec["data"]}
    assert {"hebbian", "delta", "rls", "theory"} <= names
    d_k = 32
    n, heb = curve(spec, "hebbian")
    assert n[0] == 1 and n[-1] == 4 * d_k
    i = int(np.flatnonzero(n == 2 * d_k)[0])
    theory = np.sqrt((2 * d_k - 1) / d_k)
    assert heb[i] == pytest.approx(theory, rel=0.15)  # the additive rule follows √((N−1)/d_k)
    tn, ty = curve(spec, "theory")
    assert ty[i] == pytest.approx(theory, rel=1e-9)
    _, delta = curve(spec, "delta")
    _, rls = curve(spec, "rls")
    assert delta[i] < heb[i]
    assert rls[d_k // 2 - 1] < 0.02  # the optimal linear memory recalls exactly below d_k
    # the table at a few N agrees with the chart
    tab = at.dataframe[0].value
    assert tab.loc[f"N = {2 * d_k}", "hebbian"] == pytest.approx(heb[i], rel=1e-6)
    assert tab.loc[f"N = {2 * d_k}", "theory √((N−1)/d_k)"] == pytest.approx(theory, rel=1e-9)


def test_feature_maps_and_their_cosines() -> None:
    at = capacity(cap_dk="16", cap_seeds="4", cap_rules="hebbian")
    no_errors(at)
    spec = chart(at, "cap_features")
    names = {t["name"] for t in spec["data"]}
    assert {"identity", "elu+1", "relu", "DPFP ν=1", "DPFP ν=2", "DPFP ν=3"} <= names
    _, ident = curve(spec, "identity")
    _, elu = curve(spec, "elu+1")
    assert elu[-1] > 2 * ident[-1]  # positive features add crosstalk
    cos = at.dataframe[1].value
    assert cos.loc["identity", "cos (N(0,1))"] == pytest.approx(0.0, abs=0.05)
    assert cos.loc["elu+1", "cos (N(0,1))"] == pytest.approx(0.69, abs=0.06)
    assert cos.loc["DPFP ν=1", "cos (N(0,1))"] < cos.loc["relu", "cos (N(0,1))"] < cos.loc["elu+1", "cos (N(0,1))"]
    assert list(cos["d_phi"]) == [16, 16, 16, 32, 64, 96]


@pytest.mark.parametrize("key_type", ["orthogonal", "correlated", "repeated"])
def test_key_types(key_type: str) -> None:
    at = capacity(cap_dk="8", cap_seeds="4", cap_keys=key_type, cap_rules=["hebbian", "delta"])
    no_errors(at)
    spec = chart(at, "capacity")
    n, heb = curve(spec, "hebbian")
    _, delta = curve(spec, "delta")
    expect = metrics.capacity_curve("hebbian", d_k=8, d_v=32, n_max=32, seeds=4, key_type=key_type)
    np.testing.assert_allclose(heb, expect.mean, rtol=1e-9)
    if key_type == "orthogonal":
        assert heb[:8].max() < 1e-9  # orthogonal keys: no crosstalk up to d_k
        assert delta.max() < 1e-9  # beyond d_k the basis repeats: the delta rule overwrites exactly
    else:
        assert delta[-1] < heb[-1]


def test_recency_and_overwrite() -> None:
    at = capacity(cap_dk="8", cap_seeds="8", cap_rules="hebbian")
    no_errors(at)
    rec = chart(at, "cap_recency")
    _, delta = curve(rec, "delta")  # delta is always shown
    _, heb = curve(rec, "hebbian")
    assert len(delta) == 16  # 2·d_k pairs by default
    assert delta[0] < 0.05 and delta[-1] > 0.5  # the newest pair is exact, the oldest fade
    assert abs(heb[0] - heb[-1]) < 0.5 * heb.mean()  # Hebbian: equally bad at every age
    values = {m.label: float(m.value) for m in at.metric}
    assert values["‖additive read − (v₁ + v₂)‖"] < 1e-12
    assert values["‖delta read − v₂‖"] < 1e-12
    ow = chart(at, "cap_overwrite")
    z = decode(trace_named(ow, "vectors")["z"])
    cols = ow["data"][0]["x"]
    np.testing.assert_allclose(z[:, cols.index("additive read")], z[:, cols.index("v1+v2")], atol=1e-12)
    np.testing.assert_allclose(z[:, cols.index("delta read")], z[:, cols.index("v2")], atol=1e-12)
    at.slider(key="cap_ow_beta").set_value(0.5).run()
    values = {m.label: float(m.value) for m in at.metric}
    assert values["‖delta read − v₂‖"] > 0.1  # β = 0.5: half of v₂ plus a quarter of v₁


def test_divergence_is_cut_and_marked() -> None:
    at = capacity(cap_dk="8", cap_seeds="4", cap_rules=["oja", "hebbian"], cap_beta="2.0")
    assert not at.exception and not at.error
    assert any("oja" in w.value and "diverged at N" in w.value for w in at.warning)
    spec = chart(at, "capacity")
    n, y = curve(spec, "oja")
    assert len(y) < 32 and np.isfinite(y).all()
    assert "oja diverged" in {t["name"] for t in spec["data"]}


def test_bad_input_is_reported() -> None:
    at = capacity(cap_dk="1000", cap_seeds="4")
    assert not at.exception
    assert any("cap_dk" in w.value and "out of range" in w.value for w in at.warning)
    at = capacity(cap_rules="")
    assert not at.exception
    assert any("at least one rule" in w.value for w in at.warning)


def test_linear_attention_is_read_with_its_normaliser() -> None:
    """The page reads linear attention its own way, W φ(k) / (zᵀφ(k) + ε): one stored pair comes back exactly."""
    at = capacity(cap_dk="8", cap_seeds="4", cap_rules=["linear_attention", "hebbian"])
    no_errors(at)
    n, la = curve(chart(at, "capacity"), "linear_attention")
    assert n[0] == 1 and la[0] < 1e-3  # the unnormalised read W φ(k) was off by ≈ ‖φ(k)‖² here
    expect = metrics.capacity_curve("linear_attention", d_k=8, d_v=32, n_max=32, seeds=4)
    np.testing.assert_allclose(la, expect.mean, rtol=1e-9)
