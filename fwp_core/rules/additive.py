r"""Additive fast weights: purely Hebbian writes, optionally normalised or decayed.

hebbian            W_t = W_{t-1} + β_t v_t k_tᵀ                 Y = (QKᵀ ⊙ M) diag(β) V
linear_attention   as hebbian, z_t = z_{t-1} + β_t k_t,        y_t = W_t q_t / (z_tᵀ q_t + ε)
                   its read is normalised too: r_t = W_{t-1} k_t / (z_{t-1}ᵀ k_t + ε)
decay              W_t = γ W_{t-1} + β_t v_t k_tᵀ               A_ts = γ^{t−s} β_s q_t·k_s
gated              W_t = α_t W_{t-1} + β_t v_t k_tᵀ             A_ts = (Π_{r=s+1..t} α_r) β_s q_t·k_s
gla                W_t = W_{t-1} diag(a_t) + β_t v_t k_tᵀ       A_ts = β_s Σ_j q_tj k_sj Π_{r=s+1..t} a_rj

Local objective (``local_loss``): ℓ_t(W) = −⟨W k_t, v_t⟩, so that ∇ℓ_t = −v_t k_tᵀ. Hebbian and linear attention
(on W, before normalising) take the explicit gradient step W_t = W_{t−1} − β_t ∇ℓ_t(W_{t−1}); decay, gated and gla
the proximal step W_t = argmin_W ½‖W − α_t W_{t−1}‖² + β_t ℓ_t(W) (gla: W_{t−1} diag(a_t) in place of α_t W_{t−1}).
"""

from __future__ import annotations

import torch

from ..chunked import chunked_gated_delta, chunked_gla
from ..trace import ParallelForm, State, Trace
from ._ops import Prepared, decay_products, mv, outer
from .base import Rule


def hebbian_fit(W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """ℓ(W) = −⟨W k, v⟩, the fit term of a Hebbian write (its gradient is −v kᵀ):
    W (..., d_v, d_phi), k (..., d_phi), v (..., d_v) -> (...)."""
    return -(mv(W, k) * v).sum(-1)


def apply_gate(W: torch.Tensor, gate: torch.Tensor | None) -> torch.Tensor:
    """α W for a scalar gate (...,) or W diag(a) for a per-channel gate (..., d_phi)."""
    if gate is None:
        return W
    if gate.dim() == W.dim() - 1:  # per-channel
        return W * gate.unsqueeze(-2)
    return W * gate.unsqueeze(-1).unsqueeze(-1)


def causal_scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """QKᵀ ⊙ M with M the causal mask including the diagonal: (..., T, T)."""
    return torch.tril(q @ k.transpose(-1, -2))


class Additive(Rule):
    """hebbian / decay / gated: W_t = α_t W_{t−1} + β_t v_t k_tᵀ (α ≡ 1 without a gate)."""

    def _step(self, state: State, q, k, v, beta, gate):
        W = state["W"]
        r = self._read_token(state, k)  # (..., d_v) read before the write: W_{t-1} φ(k_t)
        W_new = apply_gate(W, gate) + beta.unsqueeze(-1).unsqueeze(-1) * outer(v, k)
        return {"W": W_new}, r, mv(W_new, q), {}

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """ℓ_t(W) = −⟨W φ(k_t), v_t⟩; the write is argmin_W ½‖W − α_t W_{t−1}‖² + β_t ℓ_t(W) (α ≡ 1: the plain
        gradient step W_{t−1} − β_t ∇ℓ_t(W_{t−1}))."""
        return hebbian_fit(W, k, v)

    def _parallel(self, p: Prepared) -> ParallelForm:
        scores = causal_scores(p.q, p.k)  # (..., T, T)
        A = scores if p.gate is None else scores * decay_products(p.gate)
        A = A * p.beta.unsqueeze(-2)  # β_s on column s
        return ParallelForm(outputs=A @ p.v, attention=A, values=p.v, scores=scores)

    def _chunked(self, p: Prepared, chunk_size: int, state: State):
        Y, S = chunked_gated_delta(p.q, p.k, p.v, p.beta, p.gate, state["W"], chunk_size, correct=False)
        return Y, {"W": S}

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        d = trace.keys.shape[-1]
        eye = torch.eye(d, dtype=trace.keys.dtype, device=trace.keys.device)
        if trace.gate is None:
            return eye.expand(*trace.keys.shape[:-2], d, d)
        g = trace.gate.select(trace.keys.dim() - 2, t - 1)  # (...,)
        return g.unsqueeze(-1).unsqueeze(-1) * eye


class Hebbian(Additive):
    """The vanilla FWP: purely additive outer-product writes = unnormalised linear attention."""


class Decay(Additive):
    """Fixed forgetting: every step multiplies the old memory by γ (RetNet); a gate overrides γ."""

    gate_kind = "scalar"

    def _hparam_gate(self) -> float:
        return float(self.hparams["gamma"])


class Gated(Additive):
    """Selective forgetting: a data-dependent scalar gate α_t decays the memory (Mamba2, mLSTM)."""

    gate_kind = "scalar"


class GLA(Additive):
    """Per-channel forgetting: the gate a_t scales each key channel of the memory (GLA)."""

    gate_kind = "channel"

    def _parallel(self, p: Prepared) -> ParallelForm:
        if p.gate is None or p.gate.dim() == p.beta.dim():
            return super()._parallel(p)
        scores = causal_scores(p.q, p.k)
        A = gla_attention(p.q, p.k, p.gate) * p.beta.unsqueeze(-2)
        return ParallelForm(outputs=A @ p.v, attention=A, values=p.v, scores=scores)

    def _chunked(self, p: Prepared, chunk_size: int, state: State):
        if p.gate is None or p.gate.dim() == p.beta.dim():
            return super()._chunked(p, chunk_size, state)
        Y, S = chunked_gla(p.q, p.k, p.v, p.beta, p.gate, state["W"], chunk_size)
        return Y, {"W": S}

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        if trace.gate is None or trace.gate.dim() == trace.beta.dim():
            return super().transition(trace, t)
        a = trace.gate.select(trace.keys.dim() - 2, t - 1)  # (..., d_phi)
        return torch.diag_embed(a)


def gla_attention(q: torch.Tensor, k: torch.Tensor, a: torch.Tensor, block_elems: int = 1 << 24) -> torch.Tensor:
    """A_ts = Σ_j q_tj k_sj Π_{r=s+1..t} a_rj (s ≤ t), computed in row blocks of bounded memory.

    The products are exp(Λ_t − Λ_s) of cumulative log-gates over the non-zero gates, and exactly 0
    where a zero gate lies in (s, t]. q, k, a: (..., T, d) -> (..., T, T).
    """
    T, d = k.shape[-2], k.shape[-1]
    zero = a == 0
    logs = torch.cumsum(torch.where(zero, torch.zeros_like(a), torch.log(torch.where(zero, torch.ones_like(a), a))), dim=-2)
    zeros = torch.cumsum(zero.to(torch.int32), dim=-2)  # (..., T, d)
    rows = max(1, block_elems // max(1, T * d * max(1, q[..., 0, 0].numel())))
    out = []
    s_idx = torch.arange(T, device=k.device)
    for t0 in range(0, T, rows):
        t1 = min(T, t0 + rows)
        diff = logs[..., t0:t1, None, :] - logs[..., None, :, :]  # (..., B, T, d)
        cut = (zeros[..., t0:t1, None, :] - zeros[..., None, :, :]) > 0
        prod = torch.where(cut, torch.zeros_like(diff), torch.exp(torch.clamp(diff, max=0.0)))
        blk = torch.einsum("...tj,...sj,...tsj->...ts", q[..., t0:t1, :], k, prod)
        causal = s_idx[None, :] <= torch.arange(t0, t1, device=k.device)[:, None]
        out.append(torch.where(causal, blk, torch.zeros_like(blk)))
    return torch.cat(out, dim=-2)


class LinearAttention(Rule):
    """The normalised linear transformer: the additive memory divided by a key-sum normaliser z."""

    def _fresh_state(self, W0: torch.Tensor) -> State:
        return {"W": W0, "z": torch.zeros(W0.shape[:-2] + W0.shape[-1:], dtype=W0.dtype, device=W0.device)}

    def _step(self, state: State, q, k, v, beta, gate):
        W, z = state["W"], state["z"]
        r = self._read_token(state, k)  # normalised read before the write, with z_{t-1}
        W_new = W + beta.unsqueeze(-1).unsqueeze(-1) * outer(v, k)
        z_new = z + beta.unsqueeze(-1) * k  # (..., d_phi)
        den = (z_new * q).sum(-1, keepdim=True) + float(self.hparams["eps"])
        return {"W": W_new, "z": z_new}, r, mv(W_new, q) / den, {"z": z_new}

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """ℓ_t(W) = −⟨W φ(k_t), v_t⟩ on the unnormalised W: W_t = W_{t−1} − β_t ∇ℓ_t(W_{t−1})."""
        return hebbian_fit(W, k, v)

    def read(self, state: State, phi_k: torch.Tensor) -> torch.Tensor:
        """The normalised read, like the output: r = W φ(k) / (zᵀ φ(k) + ε).

        state: ``"W"`` (..., d_v, d_phi) and ``"z"`` (..., d_phi); phi_k: (..., n, d_phi) -> (..., n, d_v).
        From the empty memory (W = 0, z = 0) it reads 0.
        """
        den = phi_k @ state["z"].unsqueeze(-1) + float(self.hparams["eps"])  # (..., n, 1) = zᵀφ(k) + ε
        return super().read(state, phi_k) / den

    def read_states(self, trace: Trace) -> State:
        """W_t (..., T, d_v, d_phi) and z_t (..., T, d_phi) after every step t = 1..T (z_t from ``trace.aux``)."""
        return {**super().read_states(trace), "z": trace.aux["z"]}

    def _parallel(self, p: Prepared) -> ParallelForm:
        scores = causal_scores(p.q, p.k)
        A = scores * p.beta.unsqueeze(-2)
        A = A / (A.sum(-1, keepdim=True) + float(self.hparams["eps"]))
        return ParallelForm(outputs=A @ p.v, attention=A, values=p.v, scores=scores)

    def _chunked(self, p: Prepared, chunk_size: int, state: State):
        ones = torch.ones_like(p.v[..., :1])
        v_aug = torch.cat([p.v, ones], dim=-1)  # (..., T, d_v + 1): the last row of the state is zᵀ
        S = torch.cat([state["W"], state["z"].unsqueeze(-2)], dim=-2)
        Y, S = chunked_gated_delta(p.q, p.k, v_aug, p.beta, None, S, chunk_size, correct=False)
        out = Y[..., :-1] / (Y[..., -1:] + float(self.hparams["eps"]))
        return out, {"W": S[..., :-1, :], "z": S[..., -1, :]}

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        d = trace.keys.shape[-1]
        return torch.eye(d, dtype=trace.keys.dtype, device=trace.keys.device).expand(*trace.keys.shape[:-2], d, d)
