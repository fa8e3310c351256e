r"""Error-correcting fast weights: the delta rule and its gated, multi-step and implicit variants.

delta          W_t = W_{t-1} + β_t (v_t − r_t) k_tᵀ,   r_t = W_{t-1} k_t
gated_delta    W_t = α_t W_{t-1} + β_t (v_t − α_t r_t) k_tᵀ
delta_product  n_h delta sub-steps per token, each with its own (k, v, β); read after the last
longhorn       a delta step with ε_t = β_t / (1 + β_t ‖k_t‖²) in place of β_t

Local objective (``local_loss``): ℓ_t(W) = ½‖W k_t − v_t‖², ∇ℓ_t(W) = (W k_t − v_t) k_tᵀ. delta takes the explicit
gradient step W_t = W_{t−1} − β_t ∇ℓ_t(W_{t−1}), gated_delta the same from the decayed state α_t W_{t−1},
delta_product one such step per sub-step, longhorn the implicit step W_t = W_{t−1} − β_t ∇ℓ_t(W_t).

Parallel form (W_0 = 0), with Γ_ts = Π_{r=s+1..t} α_r (all ones without a gate):
    U = (I + tril₋₁(diag(β)(K Kᵀ ⊙ Γ)))⁻¹ diag(β) V        (pseudo-values)
    Y = (Q Kᵀ ⊙ Γ ⊙ M) U
"""

from __future__ import annotations

import torch

from ..chunked import chunked_gated_delta
from ..trace import ParallelForm, State, Trace
from ._ops import mv, outer
from .additive import apply_gate, causal_scores
from ._ops import Prepared, decay_products
from .base import Rule


def delta_parallel(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor, alpha: torch.Tensor | None
) -> ParallelForm:
    """The (gated) delta rule all at once. q, k: (..., T, d); v: (..., T, d_v); beta, alpha: (..., T)."""
    T = k.shape[-2]
    scores = causal_scores(q, k)  # (..., T, T)
    G = None if alpha is None else decay_products(alpha)
    KK = k @ k.transpose(-1, -2)  # (..., T, T)
    if G is not None:
        KK = KK * G
    L = torch.tril(beta.unsqueeze(-1) * KK, diagonal=-1)
    eye = torch.eye(T, dtype=k.dtype, device=k.device)
    corr = torch.linalg.solve_triangular(eye + L, torch.diag_embed(beta), upper=False, unitriangular=True)
    U = corr @ v  # (..., T, d_v) pseudo-values
    A = scores if G is None else scores * G
    return ParallelForm(outputs=A @ U, attention=A, values=U, correction=corr, scores=scores)


def squared_fit(W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """ℓ(W) = ½‖W k − v‖², the regression loss of one pair (its gradient is (W k − v) kᵀ):
    W (..., d_v, d_phi), k (..., d_phi), v (..., d_v) -> (...)."""
    return 0.5 * ((mv(W, k) - v) ** 2).sum(-1)


def delta_transition(k: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """I − β k kᵀ: (..., d), (...,) -> (..., d, d)."""
    eye = torch.eye(k.shape[-1], dtype=k.dtype, device=k.device)
    return eye - beta.unsqueeze(-1).unsqueeze(-1) * outer(k, k)


class Delta(Rule):
    """DeltaNet: each write is one SGD step on ½‖W k_t − v_t‖², so it corrects what the memory got wrong."""

    def _effective_beta(self, k: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return beta

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """ℓ_t(W) = ½‖W φ(k_t) − v_t‖²: W_t = α_t W_{t−1} − β_t ∇ℓ_t(α_t W_{t−1}) (α ≡ 1 without a gate; longhorn:
        the implicit step W_t = W_{t−1} − β_t ∇ℓ_t(W_t))."""
        return squared_fit(W, k, v)

    def _step(self, state: State, q, k, v, beta, gate):
        W = state["W"]
        r = self._read_token(state, k)  # (..., d_v) read before the write: W_{t-1} φ(k_t)
        Wg = apply_gate(W, gate)
        rg = r if gate is None else r * gate.unsqueeze(-1)
        eb = self._effective_beta(k, beta)
        W_new = Wg + eb.unsqueeze(-1).unsqueeze(-1) * outer(v - rg, k)
        return {"W": W_new}, r, mv(W_new, q), {}

    def _parallel(self, p: Prepared) -> ParallelForm:
        return delta_parallel(p.q, p.k, p.v, self._effective_beta(p.k, p.beta), p.gate)

    def _chunked(self, p: Prepared, chunk_size: int, state: State):
        eb = self._effective_beta(p.k, p.beta)
        Y, S = chunked_gated_delta(p.q, p.k, p.v, eb, p.gate, state["W"], chunk_size, correct=True)
        return Y, {"W": S}

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        tdim = trace.keys.dim() - 2
        k = trace.keys.select(tdim, t - 1)
        M = delta_transition(k, self._effective_beta(k, trace.beta.select(tdim, t - 1)))
        if trace.gate is not None:
            M = trace.gate.select(tdim, t - 1).unsqueeze(-1).unsqueeze(-1) * M
        return M


class GatedDelta(Delta):
    """Gated DeltaNet: decay the memory by α_t, then take a delta step on what is left."""

    gate_kind = "scalar"


class Longhorn(Delta):
    """The implicit (proximal) delta step: ε_t = β_t/(1 + β_t‖k_t‖²) can never overshoot."""

    def _effective_beta(self, k: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return beta / (1.0 + beta * (k * k).sum(-1))


class DeltaProduct(Rule):
    """DeltaProduct: n_h delta sub-steps per token, each a generalised Householder factor I − β k kᵀ (a projection
    at β = 1, a reflection at β = 2); the optional scalar gate decays the memory once per token, before the first
    sub-step."""

    gate_kind = "scalar"
    substeps = True

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """One sub-step's ℓ_{t,j}(W) = ½‖W φ(k_{t,j}) − v_{t,j}‖²: W_{t,j} = W_{t,j−1} − β_{t,j} ∇ℓ_{t,j}(W_{t,j−1}),
        W_{t,0} = α_t W_{t−1}. Per token (``local_losses``): ℓ_t = Σ_j ℓ_{t,j}."""
        return squared_fit(W, k, v)

    def _step(self, state: State, q, k, v, beta, gate):
        # k: (..., n_h, d_phi), v: (..., n_h, d_v), beta: (..., n_h)
        W = state["W"]
        r = self._read_token(state, k[..., 0, :])  # read with the first sub-step's key, before any write
        W = apply_gate(W, gate)
        for j in range(k.shape[-2]):
            kj = k[..., j, :]
            W = W + beta[..., j].unsqueeze(-1).unsqueeze(-1) * outer(v[..., j, :] - mv(W, kj), kj)
        return {"W": W}, r, mv(W, q), {}

    def _interleave(self, p: Prepared) -> tuple[torch.Tensor, ...]:
        n_h = p.k.shape[-2]
        tdim = len(p.batch)
        k = p.k.flatten(tdim, tdim + 1)  # (..., T·n_h, d_phi)
        v = p.v.flatten(tdim, tdim + 1)  # (..., T·n_h, d_v)
        beta = p.beta.flatten(tdim, tdim + 1)  # (..., T·n_h)
        q = torch.zeros(*p.q.shape[:-1], n_h, p.q.shape[-1], dtype=p.q.dtype, device=p.q.device)
        q[..., -1, :] = p.q  # the query reads after the last sub-step
        q = q.flatten(tdim, tdim + 1)
        alpha = None
        if p.gate is not None:
            a = torch.ones(*p.gate.shape, n_h, dtype=p.gate.dtype, device=p.gate.device)
            a[..., 0] = p.gate  # decay once per token, at its first sub-step
            alpha = a.flatten(tdim, tdim + 1)
        return q, k, v, beta, alpha

    def _parallel(self, p: Prepared) -> ParallelForm:
        n_h = p.k.shape[-2]
        form = delta_parallel(*self._interleave(p))
        rows = slice(n_h - 1, None, n_h)
        return ParallelForm(
            outputs=form.outputs[..., rows, :], attention=form.attention[..., rows, :], values=form.values,
            correction=form.correction, scores=form.scores[..., rows, :],
        )

    def _chunked(self, p: Prepared, chunk_size: int, state: State):
        n_h = p.k.shape[-2]
        q, k, v, beta, alpha = self._interleave(p)
        Y, S = chunked_gated_delta(q, k, v, beta, alpha, state["W"], chunk_size * n_h, correct=True)
        return Y[..., n_h - 1 :: n_h, :], {"W": S}

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        tdim = trace.queries.dim() - 2
        k = trace.keys.select(tdim, t - 1)  # (..., n_h, d_phi)
        beta = trace.beta.select(tdim, t - 1)  # (..., n_h)
        M = delta_transition(k[..., 0, :], beta[..., 0])
        for j in range(1, k.shape[-2]):
            M = M @ delta_transition(k[..., j, :], beta[..., j])
        if trace.gate is not None:
            M = trace.gate.select(tdim, t - 1).unsqueeze(-1).unsqueeze(-1) * M
        return M
