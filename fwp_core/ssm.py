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
    fwp_as_mamba2(q, k, v, beta, gate)                     # and back: x, dt, A, B, C (where one A fits)

``NAME_MAP`` is the dictionary between the three vocabularies (FWP, linear attention, SSM) as data.

Shapes: x (..., T, P), dt (..., T), B and C (..., T, N), A a negative number. Never imports Streamlit or Plotly.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .rules._ops import as_tensor, check_finite


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


def _scan(x: Any, dt: Any, A: Any, B: Any, C: Any, keep_states: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The SSM recurrence: y (..., T, P) and, with ``keep_states``, h_0..h_T (..., T+1, P, N) with h_0 = 0."""
    x, dt, A, B, C = _inputs(x, dt, A, B, C)
    h = x.new_zeros((*x.shape[:-2], x.shape[-1], B.shape[-1]))  # (..., P, N)
    ys, hs = [], [h]
    for t in range(x.shape[-2]):
        decay = torch.exp(dt[..., t] * A)[..., None, None]  # (..., 1, 1)
        h = decay * h + dt[..., t, None, None] * x[..., t, :, None] * B[..., t, None, :]  # (..., P, N)
        ys.append((h @ C[..., t, :, None])[..., 0])  # (..., P)
        if keep_states:
            hs.append(h)
    return torch.stack(ys, dim=-2), (torch.stack(hs, dim=-3) if keep_states else None)  # (..., T, P), (..., T+1, P, N)


def mamba2_scan(x: Any, dt: Any, A: Any, B: Any, C: Any) -> torch.Tensor:
    """y (..., T, P) of the Mamba2 head, by its own recurrence over the state h (..., P, N) (no FWP code)."""
    return _scan(x, dt, A, B, C, keep_states=False)[0]


def mamba2_states(x: Any, dt: Any, A: Any, B: Any, C: Any) -> torch.Tensor:
    """The states h_0 = 0, h_1, …, h_T (..., T+1, P, N) of the same recurrence: the FWP's W_0..W_T."""
    return _scan(x, dt, A, B, C, keep_states=True)[1]


def mamba2_run(x: Any, dt: Any, A: Any, B: Any, C: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``mamba2_scan`` and ``mamba2_states`` from one pass of the recurrence: (y (..., T, P), h (..., T+1, P, N))."""
    y, h = _scan(x, dt, A, B, C, keep_states=True)
    return y, h


def mamba2_as_fwp(x: Any, dt: Any, A: Any, B: Any, C: Any) -> tuple[torch.Tensor, ...]:
    """(q, k, v, beta, gate) such that ``make_rule("gated").run(q, k, v, beta=beta, gate=gate).outputs`` equals
    ``mamba2_scan(x, dt, A, B, C)``: q = C, k = B, v = x, β = Δ, α = exp(ΔA)."""
    x, dt, A, B, C = _inputs(x, dt, A, B, C)
    return C, B, x, dt, torch.exp(dt * A)


def fwp_as_mamba2(q: Any, k: Any, v: Any, beta: Any, gate: Any, *, tol: float | None = None) -> dict[str, Any]:
    """The inverse of ``mamba2_as_fwp``: x = v, B = k, C = q, Δ = β and the one A with α_t = exp(Δ_t A) for every
    token (and every sequence of a batch: a head has one A). Returns a dict with keys x, dt, A, B, C for
    ``mamba2_scan``. ValueError, saying why, where no Mamba2 head has these inputs: no gate or a per-channel gate,
    β < 0, α outside (0, 1], gates that fit no single A (the largest misfit |α_t − exp(Δ_t A)| above ``tol``:
    1e-9 in float64, 1e-5 otherwise), or A = 0 (α = 1 with Δ > 0: a memory that never forgets)."""
    v = as_tensor(v, "v")
    q, k, beta = (as_tensor(a, n).to(dtype=v.dtype, device=v.device) for a, n in ((q, "q"), (k, "k"), (beta, "beta")))
    if gate is None:
        raise ValueError("no gate: the memory never forgets (A = 0); a Mamba2 head decays by α_t = exp(Δ_t A) with A < 0")
    gate = as_tensor(gate, "gate").to(dtype=v.dtype, device=v.device)
    if tuple(gate.shape) != tuple(beta.shape):
        raise ValueError(f"gate must have β's shape {tuple(beta.shape)} (one α_t per token: a Mamba2 head's gate is a "
                         f"scalar), got {tuple(gate.shape)}")
    for name, t in (("beta", beta), ("gate", gate)):
        check_finite(t, name)
    if bool((beta < 0).any()):
        raise ValueError("β must be ≥ 0: it is the head's step size Δ, a softplus")
    if bool(((gate <= 0) | (gate > 1)).any()):
        raise ValueError("every gate α_t must lie in (0, 1]: it is exp(Δ_t A) with A < 0")
    tol = (1e-9 if v.dtype == torch.float64 else 1e-5) if tol is None else float(tol)
    j = int(torch.argmax(beta.reshape(-1)))
    d_max, a_max = float(beta.reshape(-1)[j]), float(gate.reshape(-1)[j])
    if d_max == 0.0:  # no token writes: exp(0 · A) = 1 for every A, so every α_t must be 1
        if bool((gate != 1).any()):
            raise ValueError(f"every Δ = β is 0 while some α_t is below 1 (down to {float(gate.min()):g}): exp(0 · A) = 1 "
                             "for every A")
        A = -1.0
    else:
        A = math.log(a_max) / d_max
        if A >= 0.0:
            raise ValueError(f"α = {a_max:g} with Δ = {d_max:g} means A = 0: no decay, and a Mamba2 head needs A < 0")
    misfit = float((gate - torch.exp(beta * A)).abs().max())
    if misfit > tol:
        raise ValueError(f"the gates fit no single A: with A = ln α / Δ = {A:.4g} (from the token with the largest Δ), "
                         f"|α_t − exp(Δ_t A)| reaches {misfit:.1e} (> {tol:.0e}); a Mamba2 head ties every α_t to its Δ_t")
    return _inputs_dict(v, beta, A, k, q)


def _inputs_dict(x: Any, dt: Any, A: float, B: Any, C: Any) -> dict[str, Any]:
    x, dt, A, B, C = _inputs(x, dt, A, B, C)
    return {"x": x, "dt": dt, "A": A, "B": B, "C": C}


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
                batch: tuple[int, ...] = (), dt: float | None = None) -> dict[str, Any]:
    """Random selective parameters of one Mamba2 head: x, B, C ~ N(0, 1), Δ = softplus(N(0, 1) − 1), the given A.
    ``dt``: one step size Δ ≥ 0 for every token in place of the drawn ones (a non-selective head: constant α = exp(ΔA),
    the ``decay`` rule); x, B and C stay the same. Returns a dict with keys x, dt, A, B, C (seeded, deterministic)."""
    for name, n in (("T", T), ("P", P), ("N", N)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    if isinstance(A, bool) or not isinstance(A, (int, float)) or not math.isfinite(float(A)) or float(A) >= 0:
        raise ValueError(f"A must be a negative finite number (a scalar Mamba2 state matrix), got {A!r}")
    if dt is not None and (isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(float(dt)) or dt < 0):
        raise ValueError(f"dt must be a finite number ≥ 0 (one step size for every token) or None, got {dt!r}")
    g = torch.Generator().manual_seed(int(seed))
    shape = (*batch, T)
    x = torch.randn(*shape, P, generator=g, dtype=dtype)
    B = torch.randn(*shape, N, generator=g, dtype=dtype)
    C = torch.randn(*shape, N, generator=g, dtype=dtype)
    drawn = torch.nn.functional.softplus(torch.randn(*shape, generator=g, dtype=dtype) - 1.0)
    steps = drawn if dt is None else torch.full(shape, float(dt), dtype=dtype)
    return {"x": x, "dt": steps, "A": float(A), "B": B, "C": C}


NAME_MAP: tuple[tuple[str, str, str, str], ...] = (
    # (what, fast weight programmer, linear attention, Mamba2 / SSM)
    ("memory", "fast weights W_t (d_v × d_k)", "state S_t", "state h_t (P × N)"),
    ("written with", "key k_t", "key k_t", "input projection B_t"),
    ("read with", "query q_t", "query q_t", "output projection C_t"),
    ("what is stored", "value v_t", "value v_t", "input x_t"),
    ("how strongly", "write strength β_t", "β_t (1 in plain linear attention)", "step size Δ_t"),
    ("forgetting", "gate α_t", "decay α_t (γ when constant)", "exp(Δ_t A)"),
    ("output", "y_t = W_t q_t", "y_t = Σ_s A_ts v_s", "y_t = h_t C_t"),
    ("all tokens at once", "A = QKᵀ ⊙ Γ ⊙ M · diag β", "decay-masked attention matrix", "(L ⊙ C Bᵀ) · diag Δ (semiseparable)"),
)
"""The one dictionary between the three vocabularies, one row per role, as data (pages draw it as a table)."""
