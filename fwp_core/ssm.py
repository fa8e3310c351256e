r"""Fast weight programmers as state-space models: a Mamba2 head is the ``gated`` rule.

A Mamba2 (SSD) head with a scalar, negative state matrix A runs, for t = 1..T,

.. math::  h_t = e^{\Delta_t A}\, h_{t-1} + \Delta_t\, x_t B_t^\top, \qquad y_t = h_t C_t

with the state h of shape (P, N). That is the gated FWP ``W_t = α_t W_{t−1} + β_t v_t k_tᵀ``, ``y_t = W_t q_t``
with k = B, q = C, v = x, β = Δ and α = exp(ΔA): W ↔ S (the linear-attention state) ↔ h (the SSM state).
Its "attention" form is the semiseparable matrix ``L ⊙ (C Bᵀ)`` with ``L_ts = Π_{s<r≤t} α_r`` (s ≤ t, else 0):
``y = (L ⊙ C Bᵀ) diag(Δ) X`` — the decay-masked parallel form of the gated rule.

    y = mamba2_scan(x, dt, A, B, C)                        # the SSM, computed as an SSM
    q, k, v, beta, gate = mamba2_as_fwp(x, dt, A, B, C)
    make_rule("gated").run(q, k, v, beta=beta, gate=gate).outputs    # the same y

Shapes: x (..., T, P), dt (..., T), B and C (..., T, N), A a negative number. Never imports Streamlit or Plotly.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .rules.base import as_tensor, check_finite


def _params(dt: Any, A: Any, B: Any, C: Any, like: torch.Tensor | None = None) -> tuple[torch.Tensor, float, torch.Tensor, torch.Tensor]:
    """Checked dt (..., T), A (a float) and B, C (..., T, N), in ``like``'s dtype and device where given."""
    dt, B, C = (as_tensor(a, n) for a, n in ((dt, "dt"), (B, "B"), (C, "C")))
    ref = like if like is not None else B
    dt, B, C = (t.to(dtype=ref.dtype, device=ref.device) for t in (dt, B, C))
    if dt.dim() < 1:
        raise ValueError(f"dt must have shape (..., T) (one step size per token), got {tuple(dt.shape)}")
    for name, t in (("B", B), ("C", C)):
        if tuple(t.shape[:-1]) != tuple(dt.shape):
            raise ValueError(f"{name} must have shape {tuple(dt.shape)} + (N,) (dt's shape plus the state size), got {tuple(t.shape)}")
    if B.shape[-1] != C.shape[-1]:
        raise ValueError(f"B and C must have the same state size N, got {B.shape[-1]} and {C.shape[-1]}")
    for name, t in (("dt", dt), ("B", B), ("C", C)):
        check_finite(t, name)
    if bool((dt < 0).any()):
        raise ValueError("dt must be ≥ 0 (Mamba2 makes it with a softplus)")
    if isinstance(A, bool) or not isinstance(A, (int, float)) or not math.isfinite(float(A)) or float(A) >= 0:
        raise ValueError(f"A must be a negative finite number (a scalar Mamba2 state matrix), got {A!r}")
    return dt, float(A), B, C


def _inputs(x: Any, dt: Any, A: Any, B: Any, C: Any) -> tuple[torch.Tensor, torch.Tensor, float, torch.Tensor, torch.Tensor]:
    """Checked tensors (one dtype: x's) and A as a float; ValueError saying what is wrong and what is allowed."""
    x = as_tensor(x, "x")
    dt, A, B, C = _params(dt, A, B, C, like=x)
    if x.dim() < 2 or tuple(x.shape[:-1]) != tuple(dt.shape):
        raise ValueError(f"x must have shape {tuple(dt.shape)} + (P,) (dt's shape plus the value size), got {tuple(x.shape)}")
    check_finite(x, "x")
    return x, dt, A, B, C


def mamba2_scan(x: Any, dt: Any, A: Any, B: Any, C: Any) -> torch.Tensor:
    """y (..., T, P) of the Mamba2 head, by its own recurrence over the state h (..., P, N) (no FWP code)."""
    x, dt, A, B, C = _inputs(x, dt, A, B, C)
    h = x.new_zeros((*x.shape[:-2], x.shape[-1], B.shape[-1]))  # (..., P, N)
    ys = []
    for t in range(x.shape[-2]):
        decay = torch.exp(dt[..., t] * A)[..., None, None]  # (..., 1, 1)
        h = decay * h + dt[..., t, None, None] * x[..., t, :, None] * B[..., t, None, :]  # (..., P, N)
        ys.append((h @ C[..., t, :, None])[..., 0])  # (..., P)
    return torch.stack(ys, dim=-2)  # (..., T, P)


def mamba2_as_fwp(x: Any, dt: Any, A: Any, B: Any, C: Any) -> tuple[torch.Tensor, ...]:
    """(q, k, v, beta, gate) such that ``make_rule("gated").run(q, k, v, beta=beta, gate=gate).outputs`` equals
    ``mamba2_scan(x, dt, A, B, C)``: q = C, k = B, v = x, β = Δ, α = exp(ΔA)."""
    x, dt, A, B, C = _inputs(x, dt, A, B, C)
    return C, B, x, dt, torch.exp(dt * A)


def decay_products(dt: Any, A: Any) -> torch.Tensor:
    """L (..., T, T): L_ts = Π_{s<r≤t} exp(Δ_r A) = exp(A Σ_{s<r≤t} Δ_r) for s ≤ t, and 0 above the diagonal."""
    dt = as_tensor(dt, "dt")
    cum = torch.cumsum(dt, dim=-1)  # (..., T)
    diff = cum[..., :, None] - cum[..., None, :]  # (..., T, T): Σ_{s<r≤t} Δ_r
    T = dt.shape[-1]
    mask = torch.ones(T, T, dtype=torch.bool, device=dt.device).tril()
    return torch.where(mask, torch.exp(float(A) * diff.clamp(min=0)), torch.zeros((), dtype=dt.dtype, device=dt.device))


def semiseparable_matrix(dt: Any, A: Any, B: Any, C: Any) -> torch.Tensor:
    """M = L ⊙ (C Bᵀ) (..., T, T), the SSD "attention" matrix: y = M diag(Δ) X."""
    dt, A, B, C = _params(dt, A, B, C)
    return decay_products(dt, A) * (C @ B.transpose(-1, -2))


def ssd_outputs(x: Any, dt: Any, A: Any, B: Any, C: Any) -> torch.Tensor:
    """y (..., T, P) from the semiseparable form, all tokens at once: (L ⊙ C Bᵀ) diag(Δ) X."""
    x, dt, A, B, C = _inputs(x, dt, A, B, C)
    return semiseparable_matrix(dt, A, B, C) @ (dt[..., None] * x)


def random_head(T: int, P: int, N: int, seed: int = 0, *, A: float = -1.0, dtype: torch.dtype = torch.float64,
                batch: tuple[int, ...] = ()) -> dict[str, Any]:
    """Random selective parameters of one Mamba2 head: x, B, C ~ N(0, 1), Δ = softplus(N(0, 1) − 1), the given A.
    Returns a dict with keys x, dt, A, B, C (seeded, deterministic)."""
    for name, n in (("T", T), ("P", P), ("N", N)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    g = torch.Generator().manual_seed(int(seed))
    shape = (*batch, T)
    x = torch.randn(*shape, P, generator=g, dtype=dtype)
    B = torch.randn(*shape, N, generator=g, dtype=dtype)
    C = torch.randn(*shape, N, generator=g, dtype=dtype)
    dt = torch.nn.functional.softplus(torch.randn(*shape, generator=g, dtype=dtype) - 1.0)
    return {"x": x, "dt": dt, "A": float(A), "B": B, "C": C}
