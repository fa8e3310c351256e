"""The facts rules.md says the app lets people see for themselves, asserted as numbers."""

from __future__ import annotations

import math

import pytest
import torch

import fwp_core

from .conftest import assert_close, make

DT = torch.float64


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _unit(*shape, seed=0):
    x = torch.randn(*shape, generator=_g(seed), dtype=DT)
    return x / x.norm(dim=-1, keepdim=True)


def _recall(trace, keys, values):
    """Relative recall error ‖v_i − W_T k_i‖ / ‖v_i‖ of every stored pair: (..., N)."""
    W = trace.weights[..., -1, :, :]
    rec = (W @ keys.transpose(-1, -2)).transpose(-1, -2)
    return (rec - values).norm(dim=-1) / values.norm(dim=-1)


# ---------------------------------------------------------------- overwrite
@pytest.mark.parametrize("d", (2, 8), ids=lambda d: f"dk{d}")
def test_overwrite_hebbian_adds_delta_replaces(d):
    k = _unit(1, d, seed=d).expand(2, d)
    v = torch.randn(2, 3, generator=_g(1), dtype=DT)
    heb = fwp_core.make_rule("hebbian").run(k, k, v)
    assert_close(heb.outputs[1], v[0] + v[1], 1e-14)
    delta = fwp_core.make_rule("delta").run(k, k, v, beta=1.0)
    assert_close(delta.outputs[1], v[1], 1e-14)
    assert_close(delta.outputs[0], v[0], 1e-14)
    # the delta rule retrieved v1 before writing v2, so its error at step 2 is exactly ‖v2 − v1‖
    assert abs(float(delta.retrieval_error[1] - (v[1] - v[0]).norm())) < 1e-14
    # Longhorn's implicit step never overshoots: it moves towards v2 by ε‖k‖² = β/(1+β) < 1
    lh = fwp_core.make_rule("longhorn").run(k, k, v, beta=1e6)
    assert float((lh.outputs[1] - v[1]).norm()) < 1e-5 * float((v[0] - v[1]).norm()) + 1e-12


# ---------------------------------------------------------------- additive crosstalk
def test_additive_crosstalk_formula_exact():
    """W k_j = ‖k_j‖² v_j + Σ_{i≠j} (k_i·k_j) v_i for the Hebbian memory (non-unit keys)."""
    N, d, dv = 9, 6, 4
    k = torch.randn(N, d, generator=_g(2), dtype=DT) * 1.7
    v = torch.randn(N, dv, generator=_g(3), dtype=DT)
    tr = fwp_core.make_rule("hebbian").run(k, k, v)
    W = tr.weights[-1]
    for j in range(N):
        expected = (k[j] @ k[j]) * v[j] + sum((k[i] @ k[j]) * v[i] for i in range(N) if i != j)
        assert_close(W @ k[j], expected, 1e-12, what=f"pair {j}")
    assert_close(W, sum(torch.outer(v[i], k[i]) for i in range(N)), 1e-12)


@pytest.mark.parametrize("N", (9, 17, 33, 65), ids=lambda n: f"N{n}")
def test_hebbian_recall_error_grows_like_sqrt_n_over_d(N):
    d_k, d_v, B = 32, 16, 60
    k = _unit(B, N, d_k, seed=N)
    v = torch.randn(B, N, d_v, generator=_g(N + 1), dtype=DT)
    tr = fwp_core.make_rule("hebbian").run(k, k, v)
    err = float(_recall(tr, k, v).mean())
    predicted = math.sqrt((N - 1) / d_k)
    assert abs(err / predicted - 1) < 0.15, (err, predicted)


# ---------------------------------------------------------------- delta rule and RLS capacity
def test_delta_keeps_newest_pair_exact_and_forgets_oldest():
    B, N, d = 50, 40, 16
    k = torch.randn(B, N, d, generator=_g(4), dtype=DT)
    v = torch.randn(B, N, 3, generator=_g(5), dtype=DT)
    tr = fwp_core.make_rule("delta").run(k, k, v, beta=1.0)  # normalize='l2' is the delta default
    err = _recall(tr, tr.keys, v).mean(0)  # (N,)
    assert float(err[-1]) < 1e-12
    assert float(err[:5].mean()) > 0.5  # the oldest pairs are gone
    assert float(err[-6:-1].mean()) < float(err[:5].mean()) / 2  # recent ones are recalled much better
    heb = fwp_core.make_rule("hebbian", normalize="l2").run(k, k, v)
    assert float(_recall(heb, heb.keys, v).mean(0)[-1]) > 0.5  # additive memory gets even the newest wrong


def test_delta_recalls_orthonormal_keys_exactly():
    d = 8
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=_g(6), dtype=DT))
    v = torch.randn(d, 3, generator=_g(7), dtype=DT)
    tr = fwp_core.make_rule("delta").run(Q.T, Q.T, v, beta=1.0)
    assert float(_recall(tr, Q.T, v).max()) < 1e-12


@pytest.mark.parametrize("N", (1, 4), ids=lambda n: f"N{n}")
def test_rls_recalls_up_to_dk_pairs_exactly(N):
    d, B = 8, 20
    k = _unit(B, N, d, seed=10 + N)
    v = torch.randn(B, N, 4, generator=_g(11), dtype=DT)
    tr = fwp_core.make_rule("rls", ridge=1e-10).run(k, k, v)
    assert float((_recall(tr, k, v) * v.norm(dim=-1)).max()) < 1e-6
    heb = fwp_core.make_rule("hebbian").run(k, k, v)
    if N > 1:
        assert float(_recall(heb, k, v).mean()) > 0.1  # the additive memory cannot do it


def test_rls_recalls_dk_orthonormal_pairs_but_not_more():
    d = 8
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=_g(12), dtype=DT))
    v = torch.randn(d, 4, generator=_g(13), dtype=DT)
    tr = fwp_core.make_rule("rls", ridge=1e-10).run(Q.T, Q.T, v)
    assert float((_recall(tr, Q.T, v) * v.norm(dim=-1)).max()) < 1e-6
    # 3·d_k random pairs: the least-squares memory cannot store them all
    k = _unit(3 * d, d, seed=14)
    v2 = torch.randn(3 * d, 4, generator=_g(15), dtype=DT)
    tr2 = fwp_core.make_rule("rls", ridge=1e-10).run(k, k, v2)
    assert float(_recall(tr2, k, v2).mean()) > 0.3


# ---------------------------------------------------------------- eigenvalues
@pytest.mark.parametrize("beta", (0.3, 1.0, 1.5, 2.0), ids=lambda b: f"beta{b}")
def test_delta_transition_eigenvalues(beta):
    d, T = 6, 4
    k = _unit(T, d, seed=20)
    v = torch.randn(T, 2, generator=_g(21), dtype=DT)
    rule = fwp_core.make_rule("delta")
    tr = rule.run(k, k, v, beta=beta)
    for t in range(1, T + 1):
        M = rule.transition(tr, t)
        assert M.shape == (d, d)
        assert_close(M, torch.eye(d, dtype=DT) - beta * torch.outer(k[t - 1], k[t - 1]), 1e-14)
        ev = torch.linalg.eigvalsh(M)
        expected = torch.tensor(sorted([1.0 - beta] + [1.0] * (d - 1)), dtype=DT)
        assert_close(ev, expected, 1e-12, what=f"eigenvalues at t={t}")
        # and it is the map the step applied: W_t = W_{t-1} M + β v_t k_tᵀ
        assert_close(tr.weights[t], tr.weights[t - 1] @ M + beta * torch.outer(v[t - 1], k[t - 1]), 1e-12)


def test_gated_delta_and_additive_transitions():
    d = 5
    k = _unit(3, d, seed=22)
    v = torch.randn(3, 2, generator=_g(23), dtype=DT)
    gate = torch.tensor([0.5, 0.8, 1.0], dtype=DT)
    gd = fwp_core.make_rule("gated_delta")
    tr = gd.run(k, k, v, beta=0.7, gate=gate)
    for t in (1, 2, 3):
        ev = torch.linalg.eigvalsh(gd.transition(tr, t))
        a = float(gate[t - 1])
        assert_close(ev, torch.tensor(sorted([a * 0.3] + [a] * (d - 1)), dtype=DT), 1e-12)
    heb = fwp_core.make_rule("hebbian")
    assert_close(heb.transition(heb.run(k, k, v), 2), torch.eye(d, dtype=DT), 0.0)
    dec = fwp_core.make_rule("decay", gamma=0.25)
    assert_close(dec.transition(dec.run(k, k, v), 2), 0.25 * torch.eye(d, dtype=DT), 0.0)


def test_small_beta_keeps_delta_eigenvalues_in_unit_interval():
    d = 4
    k = _unit(20, d, seed=24)
    beta = torch.rand(20, generator=_g(25), dtype=DT) * 0.98 + 0.01
    rule = fwp_core.make_rule("delta")
    tr = rule.run(k, k, torch.zeros(20, 1, dtype=DT), beta=beta)
    for t in range(1, 21):
        ev = torch.linalg.eigvalsh(rule.transition(tr, t))
        assert bool(((ev > 0) & (ev <= 1 + 1e-12)).all())


# ---------------------------------------------------------------- parity
def _parity_episode(bits: torch.Tensor, beta_bits: torch.Tensor):
    n = bits.numel()
    e1 = torch.tensor([1.0, 0.0], dtype=DT)
    k = e1.expand(n + 1, 2).clone()
    v = torch.zeros(n + 1, 1, dtype=DT)
    v[0] = 1.0
    beta = torch.cat([torch.ones(1, dtype=DT), beta_bits])
    return k, k.clone(), v, beta


def test_delta_rule_tracks_parity_with_beta_two():
    bits = torch.randint(0, 2, (64,), generator=_g(30)).to(DT)
    q, k, v, beta = _parity_episode(bits, 2.0 * bits)
    tr = fwp_core.make_rule("delta").run(q, k, v, beta=beta)
    assert tr.diverged_at is None
    parity = torch.cumsum(bits, 0) % 2
    expected = torch.cat([torch.ones(1, dtype=DT), (-1.0) ** parity]).unsqueeze(-1)
    assert bool((bits.sum() > 10) & (bits.sum() < 54))  # a non-trivial string
    assert_close(tr.outputs, expected, 1e-12)
    assert float(tr.outputs[-1, 0]) == pytest.approx((-1.0) ** float(bits.sum() % 2), abs=1e-12)


def test_beta_below_one_never_flips_the_sign():
    """β ∈ (0, 1): the readout stays positive (eigenvalue 1 − β > 0), so parity is out of reach."""
    for seed in range(5):
        bits = torch.randint(0, 2, (64,), generator=_g(40 + seed)).to(DT)
        beta_bits = bits * (0.01 + 0.98 * torch.rand(64, generator=_g(50 + seed), dtype=DT))
        q, k, v, beta = _parity_episode(bits, beta_bits)
        tr = fwp_core.make_rule("delta").run(q, k, v, beta=beta)
        assert bool((tr.outputs > 0).all())
        expected = torch.cumprod(1 - torch.cat([torch.zeros(1, dtype=DT), beta_bits]), 0).unsqueeze(-1)
        assert_close(tr.outputs, expected, 1e-12)


# ---------------------------------------------------------------- hyper-parameters that act like gates
def test_decay_gamma_is_the_default_gate():
    rule, inp = make("decay", 10, seed=60, gamma=0.5)
    a = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"])
    b = fwp_core.make_rule("decay").run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=0.5)
    assert_close(a.outputs, b.outputs, 0.0)
    assert torch.all(a.gate == 0.5)
    c = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=inp["gate"])  # a gate overrides γ
    d = fwp_core.make_rule("decay", gamma=0.9).run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=inp["gate"])
    assert_close(c.outputs, d.outputs, 0.0)


def test_gated_family_with_unit_gate_equals_ungated_rule():
    """gated with α ≡ 1 is hebbian; gated_delta with α ≡ 1 is delta (same hyper-parameters)."""
    for gated_name, plain in (("gated", "hebbian"), ("gated_delta", "delta"), ("decay", "hebbian"), ("gla", "hebbian")):
        rule, inp = make(gated_name, 11, seed=62)
        a = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=1.0)
        b = fwp_core.make_rule(plain).run(inp["q"], inp["k"], inp["v"], beta=inp["beta"])
        assert_close(a.weights, b.weights, 1e-14, what=gated_name)


def test_titans_defaults_and_overrides():
    rule = fwp_core.make_rule("titans", lr=0.2, forget=0.1, momentum=0.5)
    _, inp = make("titans", 8, seed=63)
    a = rule.run(inp["q"], inp["k"], inp["v"])
    b = rule.run(inp["q"], inp["k"], inp["v"], beta=0.2, gate=0.9)
    assert_close(a.weights, b.weights, 0.0)
    assert torch.all(a.beta == 0.2) and torch.all(a.gate == 0.9)
    # zero momentum, no forgetting, θ = β: Titans is the delta rule
    plain = fwp_core.make_rule("titans", momentum=0.0, forget=0.0)
    delta = fwp_core.make_rule("delta")
    assert_close(plain.run(**inp | {"gate": None}).weights, delta.run(**inp | {"gate": None}).weights, 1e-14)


def test_rls_large_but_exact_weights_are_not_divergence():
    """Nearly collinear keys and a tiny ridge: W is huge (‖W‖ ≈ 2·10⁴ for ‖v‖ = ‖k‖ = 1) but exact; that is
    not divergence."""
    k = torch.tensor([[1.0, 0.0], [1.0, 1e-4]], dtype=DT)
    k = k / k.norm(dim=-1, keepdim=True)
    v = torch.tensor([[1.0], [-1.0]], dtype=DT)
    lam = 1e-10
    tr = fwp_core.make_rule("rls", ridge=lam).run(k, k, v)
    closed = (v.T @ k) @ torch.linalg.inv(k.T @ k + lam * torch.eye(2, dtype=DT))
    assert tr.diverged_at is None
    assert float(tr.weights[-1].norm()) > 1e4
    assert_close(tr.weights[-1], closed, 1e-9, rel_to=closed)
    assert_close(tr.outputs[-1], closed @ k[-1], 1e-9)


def test_softmax_reading_the_cache_before_each_pair_matches_a_loop() -> None:
    """softmax_attention(before=True): query t reads only the pairs s < t (the first reads 0); softmax_read reads a cache."""
    from fwp_core.rules.softmax import softmax_read

    g = torch.Generator().manual_seed(5)
    k, v = torch.randn(7, 4, generator=g, dtype=torch.float64), torch.randn(7, 3, generator=g, dtype=torch.float64)
    got = fwp_core.softmax_attention(k, k, v, scale=2.0, before=True).outputs
    assert torch.equal(got[0], torch.zeros(3, dtype=torch.float64))
    for t in range(1, 7):
        w = [math.exp(2.0 * float(k[t] @ k[s])) for s in range(t)]
        want = sum(wi * v[s] for s, wi in enumerate(w)) / sum(w)
        torch.testing.assert_close(got[t], want, atol=1e-12, rtol=0)
        torch.testing.assert_close(softmax_read(k[t:t + 1], k[:t], v[:t], scale=2.0)[0], want, atol=1e-12, rtol=0)
    assert torch.equal(softmax_read(k[:2], k[:0], v[:0]), torch.zeros(2, 3, dtype=torch.float64))
