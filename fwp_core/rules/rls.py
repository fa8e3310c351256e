r"""Recursive least squares: the optimal linear memory (the Mesa layer).

    P_t = P_{t-1} − β_t (P_{t-1}k_t)(P_{t-1}k_t)ᵀ / (1 + β_t k_tᵀP_{t-1}k_t),   P_0 = I/λ
    W_t = W_{t-1} + β_t (v_t − r_t)(P_t k_t)ᵀ

so that W_t = (Σ β_i v_i k_iᵀ)(Σ β_i k_i k_iᵀ + λI)⁻¹ exactly. β_t weights each sample (β ≡ 1 is the
plain rule of the spec; β = 0 reads without writing).

Local objective: the per-token term ℓ_t(W) = ½‖W k_t − v_t‖² (``local_loss``). W_t is the exact minimiser of
Σ_{i≤t} β_i ℓ_i(W) + ½λ‖W − W_0‖², i.e. of every pair so far (P_t is the inverse of that sum's Hessian).
"""

from __future__ import annotations

import torch

from ..trace import ParallelForm, State, Trace
from ._ops import mv, outer
from .additive import causal_scores
from ._ops import Prepared
from .base import Rule
from .delta import squared_fit


class RLS(Rule):
    """Recursive least squares: stores up to d_phi pairs exactly (ridge λ = ``ridge``)."""

    def _fresh_state(self, W0: torch.Tensor) -> State:
        d = W0.shape[-1]
        eye = torch.eye(d, dtype=W0.dtype, device=W0.device) / float(self.hparams["ridge"])
        return {"W": W0, "P": eye.expand(*W0.shape[:-2], d, d).clone()}

    def _step(self, state: State, q, k, v, beta, gate):
        W, P = state["W"], state["P"]
        Pk = mv(P, k)  # (..., d_phi)
        denom = 1.0 + beta * (k * Pk).sum(-1)  # (...,)
        P_new = P - (beta / denom).unsqueeze(-1).unsqueeze(-1) * outer(Pk, Pk)
        gain = Pk / denom.unsqueeze(-1)  # P_t k_t
        r = self._read_token(state, k)
        W_new = W + beta.unsqueeze(-1).unsqueeze(-1) * outer(v - r, gain)
        return {"W": W_new, "P": P_new}, r, mv(W_new, q), {"gain": gain}

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """ℓ_t(W) = ½‖W φ(k_t) − v_t‖²; W_t = argmin_W Σ_{i≤t} β_i ℓ_i(W) + ½λ‖W − W_0‖² (exactly)."""
        return squared_fit(W, k, v)

    def _parallel(self, p: Prepared) -> ParallelForm:
        d = p.k.shape[-1]
        eye = torch.eye(d, dtype=p.k.dtype, device=p.k.device)
        C = float(self.hparams["ridge"]) * eye + torch.cumsum(p.beta[..., None, None] * outer(p.k, p.k), dim=-3)  # (..., T, d, d)
        X = torch.linalg.solve(C, p.q.unsqueeze(-1)).squeeze(-1)  # (..., T, d) = C_t⁻¹ q_t
        A = torch.tril(X @ p.k.transpose(-1, -2)) * p.beta.unsqueeze(-2)  # A_ts = β_s k_sᵀ C_t⁻¹ q_t
        return ParallelForm(outputs=A @ p.v, attention=A, values=p.v, scores=causal_scores(p.q, p.k))

    def _chunked(self, p: Prepared, chunk_size: int, state: State):
        # W_t = S_t C_t⁻¹ with running sums C_t = C_0 + Σ β k kᵀ, S_t = S_0 + Σ β v kᵀ: a prefix sum, so
        # each chunk is one batched cumsum and one batched solve.
        C = torch.linalg.inv(state["P"])  # (..., d, d)
        S = state["W"] @ C  # (..., d_v, d)
        T = p.k.shape[-2]
        outs = []
        for t0 in range(0, T, chunk_size):
            sl = slice(t0, min(T, t0 + chunk_size))
            k, v, q, b = p.k[..., sl, :], p.v[..., sl, :], p.q[..., sl, :], p.beta[..., sl]
            Cc = C.unsqueeze(-3) + torch.cumsum(b[..., None, None] * outer(k, k), dim=-3)  # (..., c, d, d)
            Sc = S.unsqueeze(-3) + torch.cumsum(b[..., None, None] * outer(v, k), dim=-3)  # (..., c, d_v, d)
            X = torch.linalg.solve(Cc, q.unsqueeze(-1))  # (..., c, d, 1)
            outs.append((Sc @ X).squeeze(-1))
            C, S = Cc[..., -1, :, :], Sc[..., -1, :, :]
        P = torch.linalg.inv(C)
        return torch.cat(outs, dim=-2), {"W": S @ P, "P": P}

    def _write_direction(self, p: Prepared, trace: Trace) -> torch.Tensor:
        return trace.aux["gain"]  # RLS writes along P_t φ(k_t)

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        tdim = trace.keys.dim() - 2
        k = trace.keys.select(tdim, t - 1)
        g = trace.aux["gain"].select(tdim, t - 1)
        b = trace.beta.select(tdim, t - 1)
        eye = torch.eye(k.shape[-1], dtype=k.dtype, device=k.device)
        return eye - b.unsqueeze(-1).unsqueeze(-1) * outer(k, g)
