"""A memory's read is the model's own read (``Rule.read``), in the step and in every recall metric.

For every rule the read is W φ(k), except linear_attention, which normalises it like its output:
r_t = W_{t−1}φ(k_t) / (z_{t−1}ᵀφ(k_t) + ε), z_{t−1} = Σ_{s<t} β_s φ(k_s). The expected values here are
written out by hand in float64, sharing no code with ``fwp_core``.
"""

from __future__ import annotations

import pytest
import torch

import fwp_core
from fwp_core import metrics
from fwp_core.sequences import _gen

from .conftest import ALL_RULES, TOL64, assert_close, make

LA = "linear_attention"
OTHER_RULES = [n for n in ALL_RULES if n != LA]


def _la_inputs(T: int, d_k: int = 5, d_v: int = 3, batch: tuple[int, ...] = (2,), seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, T, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(*batch, T, d_k, generator=g, dtype=torch.float64)
    v = torch.randn(*batch, T, d_v, generator=g, dtype=torch.float64)
    beta = 0.2 + 0.7 * torch.rand(*batch, T, generator=g, dtype=torch.float64)
    return q, k, v, beta


def _elu1(x: torch.Tensor) -> torch.Tensor:
    """linear_attention's default feature map, written out: elu(x) + 1."""
    return torch.where(x > 0, x + 1.0, torch.exp(x))


def _la_reads(k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor, eps: float) -> torch.Tensor:
    """The normalised read before each write, token by token: (..., T, d_v)."""
    fk = _elu1(k)
    W = torch.zeros(*v.shape[:-2], v.shape[-1], fk.shape[-1], dtype=torch.float64)
    z = torch.zeros(*fk.shape[:-2], fk.shape[-1], dtype=torch.float64)
    reads = []
    for t in range(k.shape[-2]):
        kt, vt, bt = fk[..., t, :], v[..., t, :], beta[..., t]
        num = torch.einsum("...ij,...j->...i", W, kt)
        den = (z * kt).sum(-1, keepdim=True) + eps
        reads.append(num / den)
        W = W + bt[..., None, None] * vt[..., :, None] * kt[..., None, :]
        z = z + bt[..., None] * kt
    return torch.stack(reads, dim=-2)


def test_linear_attention_retrieved_is_the_normalised_read():
    rule = fwp_core.make_rule(LA)
    eps = float(rule.hparams["eps"])
    q, k, v, beta = _la_inputs(T=9)
    tr = rule.run(q, k, v, beta=beta)
    expect = _la_reads(k, v, beta, eps)
    assert_close(tr.retrieved, expect, TOL64, rel_to=expect, what="r_t")
    assert torch.equal(tr.retrieved[..., 0, :], torch.zeros_like(tr.retrieved[..., 0, :]))  # r_1 = 0 / ε = 0
    assert_close(tr.retrieval_error, (v - expect).norm(dim=-1), TOL64, what="e_t = ‖v_t − r_t‖")
    # the step reads the same way
    state, rec = None, None
    for t in range(9):
        state, rec = rule.step(state, q[:, t], k[:, t], v[:, t], beta=beta[:, t])
        assert_close(rec.retrieved, expect[:, t], TOL64, rel_to=expect, what=f"step r_{t + 1}")
        assert_close(rec.retrieval_error, (v[:, t] - expect[:, t]).norm(dim=-1), TOL64, what=f"step e_{t + 1}")


def test_linear_attention_read_uses_the_initial_normaliser():
    """A given z_0 takes part in the first read: r_1 = W_0 φ(k_1) / (z_0ᵀφ(k_1) + ε)."""
    rule = fwp_core.make_rule(LA)
    q, k, v, beta = _la_inputs(T=3, batch=())
    g = torch.Generator().manual_seed(5)
    W0 = torch.randn(3, 5, generator=g, dtype=torch.float64)
    z0 = torch.rand(5, generator=g, dtype=torch.float64) + 0.5
    tr = rule.run(q, k, v, beta=beta, initial_state={"W": W0, "z": z0})
    fk = _elu1(k[0])
    assert_close(tr.retrieved[0], W0 @ fk / (z0 @ fk + rule.hparams["eps"]), TOL64, what="r_1")


def test_one_stored_pair_is_recalled_exactly():
    """Write one pair and read it back: the relative recall error is ≈ 0 (ε/(‖φ(k)‖² + ε) ~ 1e-7)."""
    rule = fwp_core.make_rule(LA)
    q, k, v, beta = _la_inputs(T=1)
    tr = rule.run(q, k, v, beta=beta)
    err = metrics.trace_recall_errors(rule, tr, relative=True)
    assert err.shape == (2, 1)
    assert float(err.max()) < 1e-5
    # without the normaliser this read was β‖φ(k)‖² v: an error of order ‖φ(k)‖², here far from 0
    raw = (tr.final_state["W"] @ tr.keys[..., 0, :].unsqueeze(-1)).squeeze(-1)
    assert float(((raw - v[..., 0, :]).norm(dim=-1) / v[..., 0, :].norm(dim=-1)).min()) > 0.1


def test_recall_after_the_sequence_is_the_normalised_read_of_the_final_state():
    rule = fwp_core.make_rule(LA)
    eps = float(rule.hparams["eps"])
    q, k, v, beta = _la_inputs(T=6, seed=3)
    tr = rule.run(q, k, v, beta=beta)
    fk = _elu1(k)
    W_T = torch.einsum("...t,...ti,...tj->...ij", beta, v, fk)
    z_T = (beta.unsqueeze(-1) * fk).sum(-2)
    read = torch.einsum("...ij,...tj->...ti", W_T, fk) / ((fk * z_T.unsqueeze(-2)).sum(-1, keepdim=True) + eps)
    expect = (v - read).norm(dim=-1)
    assert_close(metrics.trace_recall_errors(rule, tr), expect, TOL64, what="‖v_i − read_T(k_i)‖")
    assert_close(metrics.recall_errors(rule, tr.final_state, tr.keys, v), expect, TOL64)
    assert_close(metrics.recency_profile(rule, tr), torch.flip(expect / v.norm(dim=-1), dims=[-1]), TOL64)


def test_capacity_curve_reads_with_the_normaliser():
    """One stored pair is recalled: ≈ 0 at N = 1 (the unnormalised read gave an error of ~16 here)."""
    c = metrics.capacity_curve(LA, d_k=16, d_v=16, n_max=12, seeds=4)
    assert c.mean[0] < 1e-3
    # every N, by hand: the normalised read of each stored pair from the state after N writes
    g = _gen(0)
    keys, _ = metrics.make_keys("random", 12, 16, g, (4,))
    vals = torch.randn(4, 12, 16, generator=g, dtype=torch.float64)
    fk = _elu1(keys)
    for N in (1, 5, 12):
        W = torch.einsum("sti,stj->sij", vals[:, :N], fk[:, :N])
        z = fk[:, :N].sum(1)
        read = torch.einsum("sij,stj->sti", W, fk[:, :N]) / ((fk[:, :N] * z.unsqueeze(1)).sum(-1, keepdim=True) + 1e-6)
        rel = ((vals[:, :N] - read).norm(dim=-1) / vals[:, :N].norm(dim=-1)).mean(-1)
        assert c.per_seed[:, N - 1] == pytest.approx(rel.numpy(), abs=1e-9), N


@pytest.mark.parametrize("name", OTHER_RULES)
def test_every_other_rule_reads_w_phi_k(name):
    """The read of every other rule is W φ(k), unchanged: ``retrieved`` is exactly W_{t−1}φ(k_t)."""
    rule, inp = make(name, 6, d_k=4, d_v=3, batch=(2,), seed=4)
    tr = rule.run(**inp)
    k_first = tr.token_keys
    expect = (tr.weights[:, :-1] @ k_first.unsqueeze(-1)).squeeze(-1)
    assert torch.equal(tr.retrieved, expect)
    W = tr.final_state["W"]
    assert torch.equal(rule.read(tr.final_state, k_first), (W @ k_first.transpose(-1, -2)).transpose(-1, -2))


@pytest.mark.parametrize("name", ALL_RULES)
def test_retrieved_is_the_read_of_the_previous_state(name):
    """For every rule, r_t = read(state after step t − 1, φ(k_t)) with ``read_states``: one definition of the read."""
    rule, inp = make(name, 7, d_k=4, d_v=3, batch=(2,), seed=6)
    tr = rule.run(**inp)
    states = rule.read_states(tr)
    assert set(states) == ({"W", "z"} if name == LA else {"W"})
    for key, x in states.items():
        assert x.shape[:2] == (2, 7), key
    assert_close(states["W"], tr.weights[:, 1:], 0.0)
    for key in states:  # the state after the last step is the final state
        assert_close(states[key][:, -1], tr.final_state[key], 0.0, what=key)
    prev = {key: x[:, :-1] for key, x in states.items()}  # after steps 1..T−1
    r = rule.read(prev, tr.token_keys[:, 1:].unsqueeze(-2)).squeeze(-2)
    assert_close(tr.retrieved[:, 1:], r, TOL64, rel_to=r)
    assert_close(tr.retrieved[:, 0], torch.zeros_like(tr.retrieved[:, 0]), 0.0)  # W_0 = 0 reads 0


def test_linear_attention_normaliser_is_cut_at_divergence_like_the_weights():
    """float32 overflow makes W non-finite; z, recorded per step, is NaN from the same step on."""
    rule = fwp_core.make_rule(LA)
    T = 5
    k = torch.ones(T, 2)
    v = torch.full((T, 2), 1e38)
    tr = rule.run(k, k, v)
    assert tr.diverged_at is not None
    z = rule.read_states(tr)["z"]
    bad_w = torch.isnan(tr.weights[1:]).flatten(1).any(1)
    assert torch.equal(torch.isnan(z).any(-1), bad_w)
