"""Every rule against an independent, literal transcription of its step in shared/design/rules.md.

The reference below is written from the spec's table, token by token on plain tensors, sharing no
code with ``fwp_core``. A rule added to the registry without a reference here fails loudly.
"""

from __future__ import annotations

import pytest
import torch

import fwp_core

from .conftest import ALL_RULES, assert_close, make


def _ref_defaults(name: str, hp: dict, T: int, n_h: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """β and α as the spec defines them when none are passed."""
    shape = (T, n_h) if n_h else (T,)
    beta = torch.full(shape, float(hp["lr"]) if name == "titans" else 1.0, dtype=torch.float64)
    if name == "decay":
        alpha = torch.full((T,), float(hp["gamma"]), dtype=torch.float64)
    elif name == "titans":
        alpha = torch.full((T,), 1.0 - float(hp["forget"]), dtype=torch.float64)
    else:
        alpha = torch.ones(T, dtype=torch.float64)
    return beta, alpha


def reference(name, hp, q, k, v, beta, alpha, W0):
    """Literal step of rules.md. q: (T, d) = scale·φ(q); k: (T, d) or (T, n_h, d) = φ(k); v likewise.

    Returns weights (T+1, d_v, d), retrieved (T, d_v), outputs (T, d_v).
    """
    T = q.shape[0]
    d = q.shape[-1]
    W = W0.clone()
    z = torch.zeros(d, dtype=W.dtype)
    S = torch.zeros_like(W)
    P = torch.eye(d, dtype=W.dtype) / hp.get("ridge", 1.0)
    Ws, rs, ys = [W.clone()], [], []
    for t in range(T):
        qt, kt, vt, bt, at = q[t], k[t], v[t], beta[t], alpha[t]
        if name == "delta_product":
            r = W @ kt[0]
        else:
            r = W @ kt
        # ``retrieved`` is the model's own read: W k, except linear_attention's, normalised like its output
        # with the z of before the write (z_0 = 0 here, so r_1 = W_0 k_1 / ε)
        read = r / (z @ kt + hp["eps"]) if name == "linear_attention" else r
        if name in ("hebbian", "linear_attention"):
            W = W + bt * torch.outer(vt, kt)
        elif name in ("decay", "gated"):
            W = at * W + bt * torch.outer(vt, kt)
        elif name == "gla":
            W = W @ torch.diag(at) if at.dim() == 1 else at * W
            W = W + bt * torch.outer(vt, kt)
        elif name == "delta":
            W = W + bt * torch.outer(vt - r, kt)
        elif name == "gated_delta":
            W = at * W + bt * torch.outer(vt - at * r, kt)
        elif name == "delta_product":
            W = at * W  # the optional scalar gate decays once per token, before the first sub-step
            for j in range(kt.shape[0]):
                W = W + bt[j] * torch.outer(vt[j] - W @ kt[j], kt[j])
        elif name == "longhorn":
            eps = bt / (1 + bt * (kt @ kt))
            W = W + eps * torch.outer(vt - r, kt)
        elif name == "rls":
            # rules.md with β_t weighting each sample (β ≡ 1 is the plain rule; see test_rls_plain_spec)
            Pk = P @ kt
            P = P - bt * torch.outer(Pk, Pk) / (1 + bt * (kt @ Pk))
            W = W + bt * torch.outer(vt - r, P @ kt)
        elif name == "oja":
            W = W + bt * torch.outer(vt, kt - W.T @ vt)
        elif name == "titans":
            S = hp["momentum"] * S - bt * torch.outer(W @ kt - vt, kt)
            W = at * W + S  # the gate is 1 − α_t
        else:
            pytest.fail(f"no reference implementation of rule {name!r} in the tests: add its step from rules.md")
        y = W @ qt
        if name == "linear_attention":
            z = z + bt * kt
            y = y / (z @ qt + hp["eps"])
        Ws.append(W.clone())
        rs.append(read)
        ys.append(y)
    return torch.stack(Ws), torch.stack(rs), torch.stack(ys)


def _cases():
    for name in ALL_RULES:
        for T, explicit in ((1, True), (9, True), (9, False)):
            yield pytest.param(name, T, explicit, id=f"{name}-T{T}-{'given' if explicit else 'defaults'}")


@pytest.mark.parametrize("name,T,explicit", list(_cases()))
def test_run_matches_spec_step(name, T, explicit):
    spec = fwp_core.RULES[name]
    rule, inp = make(name, T, d_k=5, d_v=3, seed=T + 17 * explicit)
    n_h = inp["k"].shape[-2] if spec.substeps else None
    W0 = 0.3 * torch.randn(3, rule.phi.out_dim(5), dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    if explicit:
        tr = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=inp["gate"], initial_state=W0)
        beta = inp["beta"]
        alpha = inp["gate"] if inp["gate"] is not None else torch.ones(T, dtype=torch.float64)
        # titans: beta overrides θ_t and gate overrides 1 − α_t, so the reference reads them as given
    else:
        v = inp["v"] / (2 * inp["v"].norm(dim=-1, keepdim=True))  # ‖v‖ = ½ keeps Oja stable at β = 1
        inp = {**inp, "v": v}
        tr = rule.run(inp["q"], inp["k"], inp["v"], initial_state=W0)
        beta, alpha = _ref_defaults(name, dict(rule.hparams), T, n_h)
    assert tr.diverged_at is None
    hp = dict(rule.hparams)
    # φ itself is checked in test_features.py; here the rule's featured inputs must equal φ applied by hand
    assert_close(tr.keys, rule.phi(inp["k"]), 0.0, what="trace.keys = φ(k)")
    assert_close(tr.queries, hp["scale"] * rule.phi(inp["q"]), 0.0, what="trace.queries = scale·φ(q)")
    Ws, rs, ys = reference(name, hp, tr.queries, tr.keys, inp["v"], beta, alpha, W0)
    # 1e-10 relative: rls's P grows ill-conditioned past N = d_k and amplifies float64 rounding to ~1e-12
    assert_close(tr.weights, Ws, 1e-10, rel_to=Ws, what="weights")
    assert_close(tr.retrieved, rs, 1e-10, rel_to=rs, what="retrieved")
    assert_close(tr.outputs, ys, 1e-10, rel_to=ys, what="outputs")


@pytest.mark.parametrize("name", ["hebbian", "delta"], ids=str)
def test_scale_multiplies_the_query_and_nothing_else(name):
    """No hidden 1/sqrt(d): y_t = W_t φ(q_t) exactly, and scale s multiplies it by s."""
    rule1, inp = make(name, 6, d_k=16, seed=4)
    rule3 = fwp_core.make_rule(name, scale=3.0)
    t1 = rule1.run(**inp)
    t3 = rule3.run(**inp)
    y_hand = (t1.weights[1:] @ rule1.phi(inp["q"]).unsqueeze(-1)).squeeze(-1)
    assert_close(t1.outputs, y_hand, 1e-12)
    assert_close(t3.outputs, 3.0 * t1.outputs, 1e-12)
    assert_close(t3.weights, t1.weights, 0.0)


def test_rls_plain_spec_and_closed_form():
    """β ≡ 1: the plain RLS recursion of rules.md, and W_t = (Σ v_i k_iᵀ)(Σ k_i k_iᵀ + λI)⁻¹."""
    lam = 0.05
    rule, inp = make("rls", 12, d_k=4, seed=8, ridge=lam)
    tr = rule.run(inp["q"], inp["k"], inp["v"])
    K, V = tr.keys, inp["v"]
    P = torch.eye(4, dtype=torch.float64) / lam
    W = torch.zeros(3, 4, dtype=torch.float64)
    for t in range(12):
        k, v = K[t], V[t]
        Pk = P @ k
        P = P - torch.outer(Pk, Pk) / (1 + k @ Pk)
        W = W + torch.outer(v - W @ k, P @ k)
        closed = (V[: t + 1].T @ K[: t + 1]) @ torch.linalg.inv(K[: t + 1].T @ K[: t + 1] + lam * torch.eye(4, dtype=torch.float64))
        assert_close(tr.weights[t + 1], W, 1e-10, what=f"recursion t={t + 1}")
        assert_close(tr.weights[t + 1], closed, 1e-9, what=f"closed form t={t + 1}")
    assert_close(tr.final_state["P"], P, 1e-9, rel_to=P)
