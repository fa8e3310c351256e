"""Chunkwise-parallel forms: the fast path for long sequences.

A paper listing of the algorithm for the (gated) delta rule, chunk size C, state S (d_v × d_phi)
carried between chunks; Γ are decay products inside a chunk and b_t = Π_{r=first..t} α_r:

1. split every sequence into N = ⌈T/C⌉ chunks (padding writes nothing: k = 0, β = 0, α = 1);
2. for all chunks at once, the WY correction  T_c = (I + tril₋₁(diag(β)(K Kᵀ ⊙ Γ)))⁻¹ diag(β)
   and the causal intra-chunk scores  A_c = Q Kᵀ ⊙ Γ;
3. chunk by chunk, only the small state recurrence, S ← b_C S + (Γ_{C,·} ⊙ U_c)ᵀ K_c with
   U_c = T_c (V_c − diag(b) K_c Sᵀ); written as Sᵀ ← M_c Sᵀ + B_c, where M_c and B_c are
   computed for all chunks at once, so it is one matrix multiply-add per chunk;
4. for all chunks at once, U_c from the states entering each chunk, and the outputs
   Y_c = diag(b) Q_c Sᵀ + A_c U_c.

Additive rules skip the correction (U_c = diag(β) V_c). Per-channel gates (GLA) use the same four
steps with the decay products taken per key channel.
"""

from __future__ import annotations

import torch

from .rules._ops import channel_decay_products, decay_products


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
        to_end = None  # Π_{r=s+1..last} α_r ≡ 1
    else:
        ac = _split(alpha, -1, C, 1.0)
        b = torch.cumprod(ac, dim=-1)  # (..., N, C)
        G = decay_products(ac)  # (..., N, C, C)
        to_end = G[..., -1, :]  # (..., N, C)
    gamma = (lambda x: torch.tril(x)) if G is None else (lambda x: x * G)  # noqa: E731  ⊙ Γ (the causal mask without a gate)
    # 2. all chunks at once: WY correction (solved straight against the right-hand sides) and causal scores
    d_v = vc.shape[-1]
    if correct:
        # unitriangular=True reads only the strict lower triangle, so L stands for I + L without adding I
        L = bc.unsqueeze(-1) * gamma(kc @ kc.transpose(-1, -2))  # (..., N, C, C)
        rhs = bc.unsqueeze(-1) * torch.cat([vc, kc if b is None else b.unsqueeze(-1) * kc], dim=-1)
        TVK = torch.linalg.solve_triangular(L, rhs, upper=False, unitriangular=True)  # (..., N, C, d_v + d_phi)
        TV, TK = TVK[..., :d_v], TVK[..., d_v:]
    else:
        TV, TK = bc.unsqueeze(-1) * vc, None
    A = gamma(qc @ kc.transpose(-1, -2))  # (..., N, C, C)
    # 3. the state recurrence on Sᵀ (d_phi, d_v), batch and chunks flattened to one axis of B·N matrices.
    #    Substituting U into the update gives Sᵀ ← M Sᵀ + B with M = b_C I − K̃ᵀ TK and B = K̃ᵀ TV (K̃: keys
    #    decayed to the chunk end), both computed for all chunks at once, so one fused multiply-add per
    #    chunk is all that runs in sequence, written straight into the tensor of chunk-entry states.
    batch = kc.shape[:-3]
    flat = lambda x: x.reshape(-1, *x.shape[-2:])  # noqa: E731  (..., N, r, c) -> (B·N, r, c)
    KT = flat(kc if alpha is None else kc * to_end.unsqueeze(-1)).transpose(-1, -2)  # (B·N, d_phi, C)
    St0 = S.transpose(-1, -2).reshape(-1, *S.shape[-2:][::-1])  # (B, d_phi, d_v)
    Bsz, d_phi, _ = St0.shape
    last = None if b is None else b[..., -1].reshape(Bsz, N)  # decay over each whole chunk
    if TK is not None:
        KTVK = torch.bmm(KT, flat(TVK))  # (B·N, d_phi, d_v + d_phi): B and K̃ᵀTK in one product
        Bm = KTVK[..., :d_v].reshape(Bsz, N, d_phi, d_v)
        M = (torch.eye(d_phi, dtype=KT.dtype, device=KT.device) if last is None
             else torch.diag_embed(last.reshape(-1, 1).expand(-1, d_phi))) - KTVK[..., d_v:]
        M = M.reshape(Bsz, N, d_phi, d_phi)
        step = lambda n, prev, out=None: torch.baddbmm(Bm[:, n], M[:, n], prev, out=out)  # noqa: E731
    else:
        Bm = torch.bmm(KT, flat(TV)).reshape(Bsz, N, d_phi, d_v)
        step = None if last is None else (  # additive without decay: the states are a running sum
            lambda n, prev, out=None: torch.addcmul(Bm[:, n], last[:, n, None, None], prev, out=out))
    if step is None:
        Sn = torch.cat([St0.unsqueeze(1), St0.unsqueeze(1) + torch.cumsum(Bm, dim=1)], dim=1)
    elif torch.is_grad_enabled() and any(x is not None and x.requires_grad for x in (q, k, v, beta, alpha, S)):
        states = [St0]  # autograd records no writes through out=, so build the list of states instead
        for n in range(N):
            states.append(step(n, states[-1]))
        Sn = torch.stack(states, dim=1)
    else:
        Sn = torch.empty(Bsz, N + 1, d_phi, d_v, dtype=St0.dtype, device=St0.device)  # Sᵀ entering chunk n; n = N: final
        Sn[:, 0] = St0
        for n in range(N):
            step(n, Sn[:, n], out=Sn[:, n + 1])
    St = Sn[:, N]
    Snf = Sn[:, :N].reshape(Bsz * N, d_phi, d_v)
    # 4. all chunks at once: the corrected values U = TV − TK Sᵀ and the outputs diag(b) Q Sᵀ + A U
    U = flat(TV) if TK is None else torch.baddbmm(flat(TV), flat(TK), Snf, alpha=-1.0)  # (B·N, C, d_v)
    inter = torch.bmm(flat(qc), Snf)  # what the state entering the chunk contributes
    if b is not None:
        inter = inter * b.reshape(-1, C, 1)
    Y = torch.baddbmm(inter, flat(A), U).reshape(*batch, N, C, d_v)
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
