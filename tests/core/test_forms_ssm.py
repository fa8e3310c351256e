"""The Forms computation (fwp_core.forms) and the Mamba2 head as a sequence source: every pair of forms agrees, the
SSM scan appears exactly for the rules a Mamba2 head is (derived from the registry) and on inputs one A ties
together, fwp_as_mamba2 inverts mamba2_as_fwp, and the "mamba2" source is the head (float64: 1e-9)."""

from __future__ import annotations

import math

import pytest
import torch

import fwp_core
from fwp_core import forms, ssm
from fwp_core.sequences import MAMBA2_A, SOURCES, make_episode, mamba2_episode


def _cases():
    for name in forms.form_rule_names():
        for inputs in forms.input_choices(name):
            yield pytest.param(name, inputs, id=f"{name}-{inputs}")


def test_ssm_rules_are_derived_from_the_registry() -> None:
    want = [n for n in forms.form_rule_names()
            if (s := fwp_core.get_spec(n)).family == "additive" and s.gate_kind == "scalar" and s.plain_read]
    assert forms.ssm_rule_names() == want
    assert {"gated", "decay"} <= set(want)
    for name in ("hebbian", "gla", "delta", "linear_attention", "rls"):
        assert name not in want and forms.ssm_blocker(fwp_core.make_rule(name))
    # a feature map other than the identity is no Mamba2 head
    assert "identity" in forms.ssm_blocker(fwp_core.make_rule("gated", feature_map="elu1"))
    assert "scale" in forms.ssm_blocker(fwp_core.make_rule("gated", scale=2.0))
    assert forms.ssm_blocker(fwp_core.make_rule("gated")) is None
    # the Mamba2-head inputs are offered where the gate is data-dependent, Gaussian inputs everywhere
    for name in forms.form_rule_names():
        choices = forms.input_choices(name)
        assert choices[-1] == "gaussian"
        assert ("mamba2" in choices) == (name in want and fwp_core.get_spec(name).needs_gate)


@pytest.mark.parametrize("name,inputs", list(_cases()))
@pytest.mark.parametrize("T", [1, 13, 40])
def test_every_pair_of_forms_agrees(name, inputs, T) -> None:
    rule, ep = forms.forms_episode(name, T, 6, 5, 3, beta=0.7, gate=0.85, inputs=inputs)
    assert ep.q.dtype == torch.float64
    run = forms.run_forms(rule, ep, 4, forms.chunk_grid(T, 4))
    scale = max(1.0, float(run.outputs["recurrent"].abs().max()))
    # Gaussian gates drawn apart from β fit no single A, except with one token (any α_1 is exp(Δ_1 A) for some A)
    tied = inputs == "mamba2" or not fwp_core.get_spec(name).needs_gate or T == 1
    has_ssm = name in forms.ssm_rule_names() and tied
    assert run.forms == (forms.FORMS if has_ssm else forms.FORMS[:3])
    assert (run.head is not None) == has_ssm and bool(run.ssm_note) != has_ssm
    n = len(run.forms)
    assert len(run.diffs) == n * (n - 1) // 2
    assert run.largest <= forms.AGREE * scale, run.diffs
    for a in run.forms:  # every pair, recomputed here
        for b in run.forms:
            assert (run.outputs[a] - run.outputs[b]).abs().max() <= forms.AGREE * scale
    M = run.difference_matrix()
    assert all(M[i][i] == 0.0 for i in range(n)) and all(M[i][j] == M[j][i] for i in range(n) for j in range(n))
    assert max(run.chunk_diffs) <= forms.AGREE * scale and run.chunk_sizes == tuple(forms.chunk_grid(T, 4))
    assert [m["role"] for m in run.mapping] == [r[0] for r in ssm.NAME_MAP]
    for m in run.mapping:
        assert (m["here"] is not None) == has_ssm
        if has_ssm:
            assert m["here"] <= forms.AGREE * scale, m
    if has_ssm:  # the scan is the head's own recurrence, on the inputs translated back
        torch.testing.assert_close(run.outputs["ssm"], ssm.mamba2_scan(**run.head), rtol=0, atol=0)
        torch.testing.assert_close(run.head["x"], ep.v, rtol=0, atol=0)
        torch.testing.assert_close(run.head["dt"], ep.beta, rtol=0, atol=0)


def test_the_mamba2_inputs_are_the_head() -> None:
    rule, ep = forms.forms_episode("gated", 20, 4, 3, 7, inputs="mamba2", A=-2.0)
    head = ssm.random_head(20, 3, 4, 7, A=-2.0)
    run = forms.run_forms(rule, ep, 5)
    assert run.head["A"] == pytest.approx(-2.0, abs=1e-12)
    assert (run.outputs["recurrent"] - ssm.mamba2_scan(**head)).abs().max() <= 1e-12
    assert (run.trace.weights - ssm.mamba2_states(**head)).abs().max() <= 1e-12


def test_decay_is_a_head_with_one_step_size() -> None:
    """decay's constant γ with a constant β is a non-selective head: Δ = β, A = ln γ / β."""
    rule, ep = forms.forms_episode("decay", 16, 4, 4, 0, beta=0.5, gate=0.8)
    run = forms.run_forms(rule, ep, 4)
    assert run.head is not None
    assert run.head["A"] == pytest.approx(math.log(0.8) / 0.5, rel=1e-12)
    assert bool((run.head["dt"] == 0.5).all())
    # where no A < 0 exists, no scan, and the page is told why
    for beta, gate, why in ((0.0, 0.8, "every Δ = β is 0"), (0.5, 1.0, "A = 0")):
        run = forms.run_forms(*forms.forms_episode("decay", 8, 4, 4, 0, beta=beta, gate=gate), 4)
        assert run.head is None and why in run.ssm_note and "ssm" not in run.outputs


def test_gaussian_gates_fit_no_single_A() -> None:
    run = forms.run_forms(*forms.forms_episode("gated", 12, 4, 4, 0, beta=0.7, gate=0.8, inputs="gaussian"), 4)
    assert run.head is None and "no single A" in run.ssm_note


def test_forms_episode_refuses_what_the_page_does_not_offer() -> None:
    with pytest.raises(ValueError, match="parallel form"):
        forms.forms_episode("titans", 8, 4, 4, 0)
    with pytest.raises(ValueError, match="gaussian"):
        forms.forms_episode("delta", 8, 4, 4, 0, inputs="mamba2")
    with pytest.raises(ValueError, match="no parallel form"):
        forms.run_forms(fwp_core.make_rule("oja"), mamba2_episode(4, 2, 2, dtype=torch.float64), 2)


# ---------------------------------------------------------------------------------------------- ssm additions
@pytest.mark.parametrize("batch", [(), (3,)], ids=["unbatched", "b3"])
@pytest.mark.parametrize("A", [-0.05, -1.0, -4.0])
def test_fwp_as_mamba2_inverts_mamba2_as_fwp(batch, A) -> None:
    head = ssm.random_head(17, 3, 5, 2, A=A, batch=batch)
    back = ssm.fwp_as_mamba2(*ssm.mamba2_as_fwp(**head))
    assert back["A"] == pytest.approx(A, rel=1e-12)
    for key in ("x", "dt", "B", "C"):
        assert torch.equal(back[key], head[key])
    assert (ssm.mamba2_scan(**back) - ssm.mamba2_scan(**head)).abs().max() <= 1e-12


@pytest.mark.parametrize("change,match", [
    ("no gate", "never forgets"), ("channel gate", "one α_t per token"), ("negative beta", "β must be ≥ 0"),
    ("gate above 1", "must lie in"), ("gate 0", "must lie in"), ("untied gate", "no single A"), ("no decay", "A = 0"),
    ("no steps", "every Δ = β is 0"),
])
def test_fwp_as_mamba2_says_why_no_head_fits(change, match) -> None:
    q, k, v, beta, gate = ssm.mamba2_as_fwp(**ssm.random_head(6, 2, 3, 0))
    if change == "no gate":
        gate = None
    elif change == "channel gate":
        gate = gate[:, None].expand(6, 3)
    elif change == "negative beta":
        beta = -beta
    elif change == "gate above 1":
        gate = gate + 1.0
    elif change == "gate 0":
        gate = gate * 0
    elif change == "untied gate":
        gate = gate.flip(0)
    elif change == "no decay":
        gate = torch.ones_like(gate)
    else:
        beta = torch.zeros_like(beta)
    with pytest.raises(ValueError, match=match):
        ssm.fwp_as_mamba2(q, k, v, beta, gate)


def test_mamba2_states_are_the_fast_weights() -> None:
    head = ssm.random_head(15, 3, 4, 1, A=-0.6)
    h = ssm.mamba2_states(**head)
    assert h.shape == (16, 3, 4) and bool((h[0] == 0).all())
    y = torch.einsum("tpn,tn->tp", h[1:], head["C"])  # y_t = h_t C_t
    torch.testing.assert_close(y, ssm.mamba2_scan(**head), rtol=0, atol=1e-12)
    y1, h1 = ssm.mamba2_run(**head)  # one pass, both
    assert torch.equal(y1, ssm.mamba2_scan(**head)) and torch.equal(h1, h)
    q, k, v, beta, gate = ssm.mamba2_as_fwp(**head)
    trace = fwp_core.make_rule("gated").run(q, k, v, beta=beta, gate=gate)
    assert (trace.weights - h).abs().max() <= 1e-12  # W_t = h_t for every t


def test_random_head_with_one_step_size() -> None:
    sel = ssm.random_head(9, 2, 3, 4)
    lti = ssm.random_head(9, 2, 3, 4, dt=0.3)
    assert bool((lti["dt"] == 0.3).all()) and not bool((sel["dt"] == sel["dt"][0]).all())
    for key in ("x", "B", "C"):
        assert torch.equal(sel[key], lti[key])
    for bad in (dict(dt=-0.1), dict(dt=float("nan")), dict(dt=True), dict(A=0.0), dict(A=1.0)):
        with pytest.raises(ValueError):
            ssm.random_head(4, 2, 2, 0, **bad)


def test_name_map_holds_the_three_vocabularies() -> None:
    rows = {r[0]: r[1:] for r in ssm.NAME_MAP}
    pairs = {"memory": ("W", "S", "h"), "written with": ("k", "k", "B"), "read with": ("q", "q", "C"),
             "what is stored": ("v", "v", "x"), "how strongly": ("β", "β", "Δ"), "forgetting": ("α", "α", "exp(Δ_t A)")}
    for role, names in pairs.items():
        for cell, name in zip(rows[role], names):
            assert name in cell, (role, cell, name)


# ---------------------------------------------------------------------------------------------- the source
def test_mamba2_is_a_sequence_source() -> None:
    assert "mamba2" in SOURCES and SOURCES["mamba2"].make is mamba2_episode
    assert SOURCES["mamba2"].own_gate and f"{MAMBA2_A:g}" in SOURCES["mamba2"].help
    ep = make_episode("mamba2", T=10, d_k=4, d_v=3, seed=2, rho=0.5)  # the picker passes rho to every source
    assert ep.q.shape == (10, 4) and ep.v.shape == (10, 3) and ep.beta.shape == (10,) and ep.gate.shape == (10,)
    assert ep.meta["source"] == "mamba2" and ep.meta["A"] == MAMBA2_A and len(ep.tokens) == 10


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-9), (torch.float32, 1e-6)], ids=["f64", "f32"])
def test_mamba2_episode_steps_the_head(dtype, tol) -> None:
    T, d_k, d_v, seed = 24, 5, 4, 11
    ep = mamba2_episode(T, d_k, d_v, seed, dtype=dtype)
    head = ssm.random_head(T, d_v, d_k, seed, A=MAMBA2_A)  # float64, drawn independently of the episode
    trace = fwp_core.make_rule("gated").run(ep.q, ep.k, ep.v, **ep.run_kwargs())
    y = ssm.mamba2_scan(**head)
    scale = max(1.0, float(y.abs().max()))
    assert (trace.outputs.double() - y).abs().max() <= tol * scale
    assert (trace.weights.double() - ssm.mamba2_states(**head)).abs().max() <= tol * scale
    # a non-selective head: one step size, a constant gate
    lti = mamba2_episode(T, d_k, d_v, seed, dt=0.25, A=-0.4, dtype=torch.float64)
    assert torch.allclose(lti.gate, torch.full((T,), math.exp(-0.1), dtype=torch.float64), rtol=0, atol=1e-15)
