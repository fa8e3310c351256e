"""Every rule is one step on a local objective: "stay close to the old state" against "fit the new pair".

``Rule.local_loss(W, φ(k), v)`` is the fit term ℓ_t(W) and the registry's ``RuleSpec.objective`` names the kind of step;
each relation is checked here numerically, in float64 with autograd gradients, on random inputs and several seeds:

* hebbian, linear_attention, delta     W_t − W_{t−1} = −β_t ∇ℓ_t(W_{t−1})                     (explicit gradient)
* gated_delta                          W_t = α_t W_{t−1} − β_t ∇ℓ_t(α_t W_{t−1})              (from the decayed state)
* decay, gated, gla                    W_t = argmin_W ½‖W − αW_{t−1}‖² + β_t ℓ_t(W)           (proximal)
* delta_product                        one explicit step per sub-step, from α_t W_{t−1}
* longhorn                             W_t − W_{t−1} = −β_t ∇ℓ_t(W_t)                         (implicit)
* rls                                  W_t = argmin_W Σ_{i≤t} β_i ℓ_i(W) + ½λ‖W‖²             (exact minimiser)
* titans                               S_t = η S_{t−1} − θ_t ∇ℓ_t(W_{t−1}), W_t = a_t W_{t−1} + S_t (momentum, decay)
* oja                                  −β_t ∇ℓ_t(W_{t−1}) plus the normalising term −β_t v_t v_tᵀ W_{t−1}
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

import fwp_core
from fwp_core.rules.additive import apply_gate

from .conftest import assert_close, make

SEEDS = (0, 1, 2)
T = 6
BATCH = (2,)
TOL = 1e-10


def grad(rule: fwp_core.Rule, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """∇_W ℓ(W; k, v) by autograd, for every batch element at once."""
    W = W.detach().clone().requires_grad_(True)
    rule.local_loss(W, k, v).sum().backward()
    return W.grad


def at(x: torch.Tensor | None, t: int) -> torch.Tensor | None:
    """Step t's slice (1-based) of a per-token tensor (..., T, ...) with one batch axis."""
    return None if x is None else x[:, t - 1]


def run(name: str, seed: int, **hp) -> tuple[fwp_core.Rule, fwp_core.Trace]:
    rule, inp = make(name, T, batch=BATCH, seed=seed, **hp)
    return rule, rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=inp["gate"])


def steps(trace: fwp_core.Trace):
    """(W_{t−1}, W_t, φ(k_t), v_t, β_t, gate_t) for t = 1..T."""
    for t in range(1, trace.T + 1):
        yield (trace.weights[:, t - 1], trace.weights[:, t], at(trace.keys, t), at(trace.values, t), at(trace.beta, t),
               at(trace.gate, t))


def b(x: torch.Tensor) -> torch.Tensor:
    """A per-element scalar (batch,) broadcast against matrices (batch, d_v, d_phi)."""
    return x[..., None, None]


# ------------------------------------------------------------------------------------------------ the relations
def explicit(name: str, seed: int) -> None:
    """W_t − W_{t−1} = −β_t ∇ℓ_t(W_{t−1})."""
    rule, trace = run(name, seed, feature_map="elu1")
    for W0, W1, k, v, beta, _ in steps(trace):
        assert_close(W1 - W0, -b(beta) * grad(rule, W0, k, v), TOL, rel_to=W1, what=name)


def explicit_from_decayed(name: str, seed: int) -> None:
    """W_t = α_t W_{t−1} − β_t ∇ℓ_t(α_t W_{t−1}): the gradient is taken at the decayed state, not at W_{t−1}."""
    rule, trace = run(name, seed)
    apart = 0.0
    for W0, W1, k, v, beta, gate in steps(trace):
        decayed = apply_gate(W0, gate)
        assert_close(W1, decayed - b(beta) * grad(rule, decayed, k, v), TOL, rel_to=W1, what=name)
        apart = max(apart, float((W1 - (W0 - b(beta) * grad(rule, W0, k, v))).abs().max()))
    assert apart > 1e-6  # the plain step from W_{t−1} is another rule (the same only from W_0 = 0)


def proximal(name: str, seed: int) -> None:
    """W_t = argmin_W F(W), F(W) = ½‖W − G(W_{t−1})‖² + β_t ℓ_t(W) with G the gate (α_t W, or W diag(a_t) for gla):
    F is strictly convex, so ∇F(W_t) = 0 proves W_t its minimiser; F also rises in random directions from W_t."""
    rule, trace = run(name, seed)
    g = torch.Generator().manual_seed(seed)
    for W0, W1, k, v, beta, gate in steps(trace):
        target = apply_gate(W0, gate)

        def F(W: torch.Tensor) -> torch.Tensor:
            return 0.5 * ((W - target) ** 2).sum((-2, -1)) + beta * rule.local_loss(W, k, v)

        W = W1.detach().clone().requires_grad_(True)
        F(W).sum().backward()
        assert_close(W.grad, torch.zeros_like(W1), TOL, rel_to=W1, what=f"{name}: ∇F(W_t)")
        for _ in range(3):
            d = 1e-3 * torch.randn(W1.shape, generator=g, dtype=W1.dtype)
            assert bool((F(W1 + d) > F(W1)).all())


def substeps(name: str, seed: int) -> None:
    """W_{t,j} = W_{t,j−1} − β_{t,j} ∇ℓ_{t,j}(W_{t,j−1}) from W_{t,0} = α_t W_{t−1}; W_t = W_{t,n_h}."""
    rule, trace = run(name, seed)
    for W0, W1, k, v, beta, gate in steps(trace):
        W = apply_gate(W0, gate)
        for j in range(k.shape[-2]):
            W = W - b(beta[..., j]) * grad(rule, W, k[..., j, :], v[..., j, :])
        assert_close(W1, W, TOL, rel_to=W1, what=name)


def implicit(name: str, seed: int) -> None:
    """W_t − W_{t−1} = −β_t ∇ℓ_t(W_t): the gradient at the new state (so W_t = argmin ½‖W − W_{t−1}‖² + β_t ℓ_t(W)),
    which is the explicit step with ε_t = β_t/(1 + β_t‖φ(k_t)‖²)."""
    rule, trace = run(name, seed, feature_map="elu1")
    for W0, W1, k, v, beta, _ in steps(trace):
        assert_close(W1 - W0, -b(beta) * grad(rule, W1, k, v), TOL, rel_to=W1, what=name)
        eps = beta / (1 + beta * (k * k).sum(-1))
        assert_close(W1 - W0, -b(eps) * grad(rule, W0, k, v), TOL, rel_to=W1, what=f"{name}: ε_t")


def exact_minimiser(name: str, seed: int) -> None:
    """W_t minimises J_t(W) = Σ_{i≤t} β_i ℓ_i(W) + ½λ‖W‖² (with W_0 = 0): ∇J_t(W_t) = 0 for every t, although the
    step itself only sees pair t (P_t, the inverse of J_t's Hessian, carries the earlier pairs)."""
    for ridge in (0.5, 1e-3):
        rule, trace = run(name, seed, ridge=ridge)
        K, V, B = trace.keys, trace.values, trace.beta
        for t in range(1, T + 1):
            W = trace.weights[:, t].detach().clone().requires_grad_(True)
            Wb = W.unsqueeze(1)  # (batch, 1, d_v, d_phi) against the pairs (batch, t, ·)
            J = (B[:, :t] * rule.local_loss(Wb, K[:, :t], V[:, :t])).sum(-1) + 0.5 * ridge * (W**2).sum((-2, -1))
            J.sum().backward()
            scale = float((V[:, :t].abs().max() * K[:, :t].abs().max()))  # the size of J's terms' gradients
            assert float(W.grad.abs().max()) <= 1e-8 * max(1.0, scale), (ridge, t)
        P = trace.final_state["P"]  # and P_T is the inverse Hessian of J_T
        H = ridge * torch.eye(P.shape[-1], dtype=P.dtype) + torch.einsum("bt,bti,btj->bij", B, K, K)
        assert_close(P @ H, torch.eye(P.shape[-1], dtype=P.dtype).expand_as(P), 1e-8, what="P_T H_T")


def momentum(name: str, seed: int) -> None:
    """With the momentum state S: S_t = η S_{t−1} − θ_t ∇ℓ_t(W_{t−1}) (S_0 = 0) and W_t = a_t W_{t−1} + S_t, a_t = 1 − α_t
    the gate. S_t is read off the trace as W_t − a_t W_{t−1}; the last one is the run's final state."""
    rule, trace = run(name, seed)
    eta = float(rule.hparams["momentum"])
    S = torch.zeros_like(trace.weights[:, 0])
    for W0, W1, k, v, theta, gate in steps(trace):
        S_t = W1 - apply_gate(W0, gate)
        assert_close(S_t, eta * S - b(theta) * grad(rule, W0, k, v), TOL, rel_to=W1, what=name)
        S = S_t
    assert_close(S, trace.final_state["S"], TOL, rel_to=S, what=f"{name}: S_T")


def oja(name: str, seed: int) -> None:
    """W_t − W_{t−1} = −β_t ∇ℓ_t(W_{t−1}) − β_t v_t v_tᵀ W_{t−1}: the Hebbian gradient step plus a normalising decay.
    With v_t given the two are one gradient step on ½‖Wᵀv_t − φ(k_t)‖² (ℓ_t plus ½‖Wᵀv_t‖², up to a constant)."""
    rule, trace = run(name, seed)
    extra = 0.0
    for W0, W1, k, v, beta, _ in steps(trace):
        normalising = v.unsqueeze(-1) * (W0.transpose(-1, -2) @ v.unsqueeze(-1)).transpose(-1, -2)  # v vᵀ W
        assert_close(W1 - W0, -b(beta) * (grad(rule, W0, k, v) + normalising), TOL, rel_to=W1, what=name)
        extra = max(extra, float(normalising.abs().max()))
        W = W0.detach().clone().requires_grad_(True)
        (0.5 * ((W.transpose(-1, -2) @ v.unsqueeze(-1)).squeeze(-1) - k).pow(2).sum(-1)).sum().backward()
        assert_close(W1 - W0, -b(beta) * W.grad, TOL, rel_to=W1, what=f"{name}: ½‖Wᵀv − φ(k)‖²")
    assert extra > 1e-6  # the normalising term is there (from W_1 on)


RELATIONS: dict[str, Callable[[str, int], None]] = {
    "hebbian": explicit, "linear_attention": explicit, "delta": explicit, "gated_delta": explicit_from_decayed,
    "decay": proximal, "gated": proximal, "gla": proximal, "delta_product": substeps, "longhorn": implicit,
    "rls": exact_minimiser, "titans": momentum, "oja": oja,
}


def test_every_rule_with_an_objective_has_its_relation_checked() -> None:
    named = {n for n, s in fwp_core.RULES.items() if s.objective is not None}
    assert named == set(RELATIONS)
    for n in named:
        spec = fwp_core.get_spec(n)
        assert spec.cls.has_local_loss and spec.objective_latex and spec.step_kind
        assert spec.objective.loss and spec.objective.step_latex


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(RELATIONS))
def test_the_step_is_the_registered_step_on_the_local_objective(name: str, seed: int) -> None:
    RELATIONS[name](name, seed)


# ------------------------------------------------------------------------------------------------ oja has no objective
def test_oja_with_its_own_output_follows_no_gradient() -> None:
    """With v_t = W_{t−1}φ(k_t) (Oja's own setting) the update is the gradient step on −½‖Wφ(k)‖² (the Hebbian part,
    β v kᵀ) plus −β v vᵀW; not that gradient alone, and not the gradient of any function of W: its Jacobian is not
    symmetric (a gradient field's is, as the Hebbian part's is)."""
    rule = fwp_core.make_rule("oja")
    g = torch.Generator().manual_seed(0)
    d_v, d = 3, 4
    k = torch.randn(d, generator=g, dtype=torch.float64)
    W0 = 0.5 * torch.randn(d_v, d, generator=g, dtype=torch.float64)

    def update(Wf: torch.Tensor) -> torch.Tensor:
        W = Wf.reshape(d_v, d)
        _, rec = rule.step({"W": W}, k, k, W @ k, beta=1.0)
        return rec.update.reshape(-1)

    def hebbian_part(Wf: torch.Tensor) -> torch.Tensor:  # −∇(−½‖Wk‖²) = (Wk)kᵀ
        W = Wf.reshape(d_v, d)
        return torch.outer(W @ k, k).reshape(-1)

    u = update(W0.reshape(-1)).reshape(d_v, d)
    v = W0 @ k
    assert_close(u, torch.outer(v, k) - torch.outer(v, v) @ W0, TOL, what="Hebbian plus normalising term")
    assert float((u - hebbian_part(W0.reshape(-1)).reshape(d_v, d)).abs().max()) > 1e-3
    J = torch.autograd.functional.jacobian(update, W0.reshape(-1))
    H = torch.autograd.functional.jacobian(hebbian_part, W0.reshape(-1))
    assert float((H - H.T).abs().max()) < 1e-12
    assert float((J - J.T).abs().max()) > 1e-2 * float(J.abs().max())


# ------------------------------------------------------------------------------------------------ overshoot
def one_step(name: str, beta: float, k: torch.Tensor, v: torch.Tensor, W0: torch.Tensor) -> tuple[float, float]:
    """ℓ_t(W_{t−1}), ℓ_t(W_t) for one write of (k, v) at β onto W0."""
    rule = fwp_core.make_rule(name, normalize="none")
    _, rec = rule.step({"W": W0}, k, k, v, beta=beta)
    return float(rule.local_loss(W0, rec.key, v)), float(rule.local_loss(rec.weights, rec.key, v))


@pytest.mark.parametrize("seed", SEEDS)
def test_delta_overshoots_its_own_objective_longhorn_never_does(seed: int) -> None:
    """With a unit key the delta step multiplies the residual v − Wk by 1 − β, so ℓ_t(W_t) = (1 − β)² ℓ_t(W_{t−1}):
    lower for β ∈ (0, 2) (overshooting past the fit for β > 1), unchanged at β = 2, higher above 2. Longhorn's implicit
    step divides it by 1 + β‖k‖²: ℓ_t(W_t) = ℓ_t(W_{t−1})/(1 + β‖k‖²)² ≤ ℓ_t(W_{t−1}) for every β ≥ 0 and key."""
    g = torch.Generator().manual_seed(seed)
    d_v, d = 3, 5
    k = torch.nn.functional.normalize(torch.randn(d, generator=g, dtype=torch.float64), dim=0)
    v = torch.randn(d_v, generator=g, dtype=torch.float64)
    W0 = torch.randn(d_v, d, generator=g, dtype=torch.float64)
    for beta in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 10.0):
        before, after = one_step("delta", beta, k, v, W0)
        assert after == pytest.approx((1 - beta) ** 2 * before, rel=1e-12)
        if 0 < beta < 2:
            assert after < before
        elif beta == 2:
            assert after == pytest.approx(before, rel=1e-12)
        elif beta > 2:
            assert after > before
    for beta in (0.0, 0.5, 1.0, 2.0, 2.5, 10.0, 1e3, float(torch.rand(1, generator=g)) * 100):
        for key in (k, 3.0 * k, 0.1 * k):  # any key length
            before, after = one_step("longhorn", beta, key, v, W0)
            assert after == pytest.approx(before / (1 + beta * float(key @ key)) ** 2, rel=1e-10)
            assert after <= before


# ------------------------------------------------------------------------------------------------ local_losses
@pytest.mark.parametrize("name", fwp_core.rule_names())
def test_local_losses_are_the_loss_before_and_after_each_write(name: str) -> None:
    rule, trace = run(name, 0)
    before, after = rule.local_losses(trace)
    assert before.shape == after.shape == (*BATCH, T) and before.dtype == torch.float64
    for t in range(1, T + 1):
        k, v = at(trace.keys, t), at(trace.values, t)
        W0, W1 = trace.weights[:, t - 1], trace.weights[:, t]
        if rule.substeps:  # per token: the sum over its sub-steps
            want0 = sum(rule.local_loss(W0, k[..., j, :], v[..., j, :]) for j in range(k.shape[-2]))
            want1 = sum(rule.local_loss(W1, k[..., j, :], v[..., j, :]) for j in range(k.shape[-2]))
        else:
            want0, want1 = rule.local_loss(W0, k, v), rule.local_loss(W1, k, v)
        assert_close(before[:, t - 1], want0, TOL, rel_to=want0)
        assert_close(after[:, t - 1], want1, TOL, rel_to=want1)


def test_local_losses_are_nan_after_a_divergence() -> None:
    rule = fwp_core.make_rule("delta", normalize="none")
    g = torch.Generator().manual_seed(0)
    k = 3 * torch.randn(12, 4, generator=g, dtype=torch.float64)
    trace = rule.run(k, k, torch.randn(12, 3, generator=g, dtype=torch.float64), beta=1.0)
    assert trace.diverged_at is not None
    before, after = rule.local_losses(trace)
    s = trace.diverged_at
    assert torch.isfinite(before[: s - 1]).all() and torch.isnan(after[s - 1 :]).all()


def test_an_entry_may_name_an_objective_only_for_a_rule_with_a_local_loss() -> None:
    from dataclasses import replace

    from fwp_core.registry import check_spec
    from fwp_core.rules.base import Rule

    spec = fwp_core.get_spec("oja")
    no_loss = type("NoLoss", (Rule,), {"_step": spec.cls._step})
    with pytest.raises(ValueError, match="local_loss"):
        check_spec(replace(spec, cls=no_loss))
    assert check_spec(replace(spec, cls=no_loss, objective=None)).objective is None
