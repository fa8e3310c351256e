"""Chunkwise-parallel forms: the fast path for long sequences.

A paper listing of the algorithm for the (gated) delta rule, chunk size C, state S (d_v × d_phi)
carried between chunks; Γ are decay products inside a chunk and b_t = Π_{r=first..t} α_r:

1. split every sequence into N = ⌈T/C⌉ chunks (padding writes nothing: k = 0, β = 0, α = 1);
2. for all chunks at once, the WY correction  T_c = (I + tril₋₁(diag(β)(K Kᵀ ⊙ Γ)))⁻¹ diag(β)
   and the causal intra-chunk scores  A_c = Q Kᵀ ⊙ Γ;
3. chunk by chunk, only the small state recurrence:
   U_c = T_c (V_c − diag(b) K_c Sᵀ),   S ← b_C S + (Γ_{C,·} ⊙ U_c)ᵀ K_c;
4. for all chunks at once, the outputs  Y_c = diag(b) Q_c Sᵀ + A_c U_c.

Additive rules skip the correction (U_c = diag(β) V_c). Per-channel gates (GLA) use the same four
steps with the decay products taken per key channel.
"""

from __future__ import annotations

import torch

from .rules.base import channel_decay_products, decay_products


def _split(x: torch.Tensor, tdim: int, C: int, fill: float) -> torch.Tensor:
    """Pad axis ``tdim`` to a multiple of C with ``fill`` and split it into (N, C)."""
    tdim = tdim % x.dim()
    T = x.shape[tdim]
    N = -(-T // C)
    pad = N * C - T
    if pad:
        shape = list(x.shape)
        shape[tdim] = pad
        x = torch.cat([x, torch.full(shape, fill, dtype=x.dtype, device=x.device)], dim=tdim)
    return x.reshape(*x.shape[:tdim], N, C, *x.shape[tdim + 1 :])


def chunked_gated_delta(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    S: torch.Tensor,
    chunk_size: int,
    correct: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs (..., T, d_v) and the final state (..., d_v, d_phi) of the additive (``correct=False``)
    or delta (``correct=True``) rule, scalar-gated by α (None: no decay).

    q, k: (..., T, d_phi); v: (..., T, d_v); beta, alpha: (..., T); S: (..., d_v, d_phi).
    """
    T = k.shape[-2]
    C = min(chunk_size, T)
    qc, kc, vc = _split(q, -2, C, 0.0), _split(k, -2, C, 0.0), _split(v, -2, C, 0.0)  # (..., N, C, d)
    bc = _split(beta, -1, C, 0.0)  # (..., N, C)
    N = kc.shape[-3]
    # 1. decays inside each chunk (none without a gate: Γ is the causal mask, b ≡ 1)
    if alpha is None:
        G = b = None
        to_end = torch.ones(C, dtype=k.dtype, device=k.device)  # Π_{r=s+1..last} α_r ≡ 1
    else:
        ac = _split(alpha, -1, C, 1.0)
        b = torch.cumprod(ac, dim=-1)  # (..., N, C)
        G = decay_products(ac)  # (..., N, C, C)
        to_end = G[..., -1, :]  # (..., N, C)
    gamma = (lambda x: torch.tril(x)) if G is None else (lambda x: x * G)  # noqa: E731  ⊙ Γ (the causal mask without a gate)
    # 2. all chunks at once: WY correction and causal scores
    if correct:
        # unitriangular=True reads only the strict lower triangle, so L stands for I + L without adding I
        L = bc.unsqueeze(-1) * gamma(kc @ kc.transpose(-1, -2))  # (..., N, C, C)
        Tm = torch.linalg.solve_triangular(L, torch.diag_embed(bc), upper=False, unitriangular=True)
        d_v = vc.shape[-1]
        TVK = Tm @ torch.cat([vc, kc if b is None else b.unsqueeze(-1) * kc], dim=-1)  # (..., N, C, d_v + d_phi)
        TV, TK = TVK[..., :d_v], TVK[..., d_v:]
    else:
        TV = bc.unsqueeze(-1) * vc
        TK = None
    A = gamma(qc @ kc.transpose(-1, -2))  # (..., N, C, C)
    # 3. chunk by chunk: the state recurrence only, on Sᵀ (d_phi, d_v) with the batch flattened, two fused
    #    multiply-adds per chunk
    batch = kc.shape[:-3]
    flat = lambda x: x.reshape(-1, *x.shape[len(batch):])  # noqa: E731  (B, N, ...)
    TVs = flat(TV).unbind(1)  # N × (B, C, d_v)
    TKs = flat(TK).unbind(1) if TK is not None else None  # N × (B, C, d_phi)
    KTs = flat(kc * to_end.unsqueeze(-1)).transpose(-1, -2).unbind(1)  # N × (B, d_phi, C): keys decayed to chunk end
    last = None if b is None else flat(b)[..., -1]  # (B, N)
    St = flat(S.transpose(-1, -2).unsqueeze(-3)).squeeze(1)  # (B, d_phi, d_v)
    Bsz, d_phi, d_v = St.shape
    U = torch.empty(N, Bsz, C, d_v, dtype=St.dtype, device=St.device)  # filled in place, chunk by chunk
    Sn = torch.empty(N, Bsz, d_phi, d_v, dtype=St.dtype, device=St.device)  # Sᵀ entering each chunk
    for n in range(N):
        Sn[n] = St
        if TKs is None:
            U[n] = TVs[n]
        else:
            torch.baddbmm(TVs[n], TKs[n], St, alpha=-1.0, out=U[n])  # (B, C, d_v)
        St = torch.baddbmm(St if last is None else St * last[:, n, None, None], KTs[n], U[n])
    U = U.transpose(0, 1).reshape(*batch, N, C, d_v)  # (..., N, C, d_v)
    Sn = Sn.transpose(0, 1).reshape(*batch, N, d_phi, d_v)  # (..., N, d_phi, d_v)
    # 4. all chunks at once: outputs
    inter = qc @ Sn  # (..., N, C, d_v) what the state entering the chunk contributes
    Y = (inter if b is None else b.unsqueeze(-1) * inter) + A @ U  # (..., N, C, d_v)
    S = St.reshape(*batch, *St.shape[-2:]).transpose(-1, -2)
    return Y.reshape(*Y.shape[:-3], N * C, Y.shape[-1])[..., :T, :], S


def chunked_gla(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor, alpha: torch.Tensor, S: torch.Tensor, chunk_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """GLA: W_t = W_{t−1} diag(a_t) + β_t v_t k_tᵀ chunkwise. alpha: (..., T, d_phi)."""
    T = k.shape[-2]
    C = min(chunk_size, T)
    qc, kc, vc = _split(q, -2, C, 0.0), _split(k, -2, C, 0.0), _split(v, -2, C, 0.0)  # (..., N, C, d)
    bc, ac = _split(beta, -1, C, 0.0), _split(alpha, -2, C, 1.0)  # (..., N, C), (..., N, C, d_phi)
    N = kc.shape[-3]
    b = torch.cumprod(ac, dim=-2)  # (..., N, C, d_phi)
    G = channel_decay_products(ac)  # (..., N, C, C, d_phi)
    to_end = G[..., -1, :, :]  # (..., N, C, d_phi)
    A = torch.einsum("...tj,...sj,...tsj->...ts", qc, kc, G) * bc.unsqueeze(-2)  # (..., N, C, C)
    BV = bc.unsqueeze(-1) * vc  # (..., N, C, d_v)
    Ss = []
    for n in range(N):
        Ss.append(S)
        S = S * b[..., n, -1, None, :] + BV[..., n, :, :].transpose(-1, -2) @ (kc[..., n, :, :] * to_end[..., n, :, :])
    Sn = torch.stack(Ss, dim=-3)  # (..., N, d_v, d_phi)
    Y = (qc * b) @ Sn.transpose(-1, -2) + A @ vc  # (..., N, C, d_v)
    return Y.reshape(*Y.shape[:-3], N * C, Y.shape[-1])[..., :T, :], S
