"""AppTest: the "Mamba2 head" sequence source in the Explorer (and Compare): the picker offers it with its help, the
Explorer runs the episode's own β and gate, and with the gated rule its fast weights and outputs are the head's
state and outputs from ``ssm.mamba2_scan`` (float32 app: within 1e-6 × max(1, max |y|))."""

from __future__ import annotations

from fwp_core.experiments import explorer as explorer_exp

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import fwp_core

from fwp_core import ssm
from fwp_core.sequences import MAMBA2_A, SOURCES
from tests.helpers import chart, decode, no_errors, open_page, trace_named

TIMEOUT = 90
T, D_K, D_V, SEED = 12, 4, 3, 5
TOL = 1e-6  # float32, relative to max(1, max |y|)


def head() -> dict:
    return ssm.random_head(T, D_V, D_K, SEED, A=MAMBA2_A)  # float64, drawn here, not by the app


def explorer(**params: str) -> AppTest:
    base = dict(rule="gated", sequence="mamba2", T=str(T), d_k=str(D_K), d_v=str(D_V), seed=str(SEED), beta="1")
    return open_page("explorer", TIMEOUT, **{**base, **params})


def test_the_picker_offers_the_source_with_its_help() -> None:
    at = explorer()
    no_errors(at)
    box = at.selectbox(key="sequence")
    assert "mamba2" in box.options and box.value == "mamba2"
    assert f"mamba2: {SOURCES['mamba2'].help}" in box.help
    gate = at.slider(key="gate")
    assert gate.disabled and SOURCES["mamba2"].own_gate in gate.help  # the episode's own gate is used instead
    assert any(SOURCES["mamba2"].own_gate in c.value and "β = 1" in c.value for c in at.caption)


def test_the_explorer_uses_the_episodes_own_beta_and_gate() -> None:
    cfg = explorer_exp.ExplorerConfig(rule="gated", hparams=tuple(sorted(fwp_core.registry.resolve_hparams("gated").items())),
                                 sequence="mamba2", T=T, d_k=D_K, d_v=D_V, seed=SEED, beta=1.0, schedule="constant")
    ep = explorer_exp.build_episode(cfg)
    x = explorer_exp.run_inputs(cfg, ep, fwp_core.make_rule("gated"))
    assert torch.equal(x["beta"], ep.beta) and torch.equal(x["gate"], ep.gate)
    h = head()
    torch.testing.assert_close(x["beta"].double(), h["dt"], rtol=1e-6, atol=0)
    torch.testing.assert_close(x["gate"].double(), torch.exp(h["dt"] * MAMBA2_A), rtol=1e-6, atol=0)


def test_the_explorers_gated_run_is_the_mamba2_scan() -> None:
    h = head()
    y = ssm.mamba2_scan(**h).numpy()
    states = ssm.mamba2_states(**h).numpy()
    tol = TOL * max(1.0, float(np.abs(y).max()))
    at = explorer(t="1")
    at.session_state["smooth"] = True  # every W_t in one chart: the player's frames
    at.run()
    no_errors(at)
    frames = chart(at, "smooth_fig")["frames"]
    assert len(frames) == T
    for t in range(1, T + 1):
        np.testing.assert_allclose(decode(frames[t - 1]["data"][1]["z"]), states[t], atol=tol, rtol=0)
    at.session_state["smooth"] = False
    at.run()
    for t in range(1, T + 1):  # y_t, the weights view's "y" column, at every step
        spec = chart(at, "weights")
        vecs = decode(trace_named(spec, "values")["z"])  # columns v, r, y, y∥
        np.testing.assert_allclose(vecs[:, 2], y[t - 1], atol=tol, rtol=0)
        np.testing.assert_allclose(vecs[:, 3], y[t - 1], atol=tol, rtol=0)  # the parallel form's read-out too
        np.testing.assert_allclose(decode(trace_named(spec, "W_t")["z"]), states[t], atol=tol, rtol=0)
        if t < T:
            {b.label: b for b in at.button}["Step"].click().run()
    assert next(c.value for c in at.caption if c.value.startswith("t = ")) == f"t = {T} / {T}"


@pytest.mark.parametrize("rule", fwp_core.rule_names())
def test_every_rule_runs_on_the_mamba2_head(rule: str) -> None:
    at = explorer(rule=rule, t="6", view="All views")
    no_errors(at)


def test_compare_offers_the_source() -> None:
    at = open_page("compare", TIMEOUT, cmp_seq="mamba2", cmp_T="10")
    no_errors(at)
    assert at.selectbox(key="cmp_seq").value == "mamba2"


def test_compare_greys_out_the_gate_slider_while_the_mamba2_head_brings_its_gate() -> None:
    at = open_page("compare", cmp1_rule="gated", cmp2_rule="gated_delta", cmp_seq="mamba2")
    no_errors(at)
    assert [s.disabled for s in at.slider if s.key in ("cmp1_gate", "cmp2_gate")] == [True, True]
    at.selectbox(key="cmp_seq").set_value("random").run()
    assert [s.disabled for s in at.slider if s.key in ("cmp1_gate", "cmp2_gate")] == [False, False]
