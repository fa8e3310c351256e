r"""Oja's rule: a Hebbian neuron that normalises itself and finds the top principal component.

The registered ``oja`` rule against the registered ``hebbian`` rule, one input at a time, plus the fixed
points of Oja's mean dynamics and which of them is stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..registry import make_rule
from ._common import DT, integer, num, orthonormal, ro, seed_of

__all__ = ["OjaResult", "oja_fixed_points", "oja_pca"]


def oja_fixed_points(eigenvalues: Sequence[float]) -> tuple[tuple[str, ...], np.ndarray]:
    r"""The fixed points of Oja's mean dynamics :math:`\dot w = Cw - (w^\top C w)w` and how stable each is.

    With C's eigenvalues λ_1 > λ_2 ≥ … > 0 (eigenvectors u_i), the fixed points are w = 0 and w = ±u_i for
    every i (each of norm 1). The Jacobian at 0 is C itself: every direction grows (largest rate λ_1 > 0).
    At ±u_i it has eigenvalue λ_j − λ_i along u_j (j ≠ i) and −2λ_i along u_i, so ±u_i is stable iff
    λ_i is the largest eigenvalue: only ±u_1. Returns the labels ("0", "±u_1", …) and, for each, the
    largest Jacobian eigenvalue (negative: stable).
    """
    lam = np.sort(np.asarray(eigenvalues, dtype=np.float64))[::-1]
    growth = [float(lam[0])]
    for i in range(lam.size):
        rates = np.append(np.delete(lam, i) - lam[i], -2.0 * lam[i])
        growth.append(float(rates.max()))
    return ("0", *(f"±u_{i + 1}" for i in range(lam.size))), np.asarray(growth)


@dataclass(frozen=True)
class OjaResult:
    """Oja's rule vs plain Hebbian growth on inputs with a clear principal component (see ``oja_pca``)."""

    steps: np.ndarray  # (n_steps+1,) 0..n_steps; entry t is after t inputs
    norm_oja: np.ndarray  # (n_steps+1,) ‖w_t‖, Oja
    norm_hebbian: np.ndarray  # (n_steps+1,) ‖w_t‖, Hebbian (may be huge; inf if beyond float range)
    log10_norm_hebbian: np.ndarray  # (n_steps+1,) log10 ‖w_t‖, Hebbian, exact even where ‖w_t‖ overflows
    angle_oja: np.ndarray  # (n_steps+1,) degrees in [0, 90] between w_t and ±(top eigenvector)
    angle_hebbian: np.ndarray  # (n_steps+1,) the same for the Hebbian weights
    inputs: np.ndarray  # (n_steps, d) the inputs k_t ~ N(0, C)
    covariance: np.ndarray  # (d, d) C
    eigenvalues: np.ndarray  # (d,) of C, largest first
    top_eigenvector: np.ndarray  # (d,) unit, sign chosen so that its first non-zero entry is positive
    weights_oja: np.ndarray  # (n_steps+1, d) w_t, Oja
    initial_weights: np.ndarray  # (d,) w_0, the same for both rules
    learning_rate: float  # β
    fixed_points: tuple[str, ...]  # ("0", "±u_1", ..., "±u_d"): every fixed point of the mean dynamics
    fixed_point_growth: np.ndarray  # (d+1,) largest eigenvalue of the mean dynamics' Jacobian there (< 0: stable)
    fixed_point_stable: np.ndarray  # (d+1,) bool: True only for ±u_1, the top eigenvector


def oja_pca(
    eigenvalues: Sequence[float] = (3.0, 0.2),
    n_steps: int = 600,
    learning_rate: float = 0.005,
    init_norm: float = 0.3,
    seed: int = 0,
) -> OjaResult:
    r"""Oja's rule converges to the top principal component with ‖w‖ → 1; plain Hebbian growth explodes.

    One linear neuron with weights w (a 1 × d fast weight) sees inputs
    :math:`k_t \sim \mathcal N(0, C)`, :math:`C = R\,\mathrm{diag}(\lambda)R^\top` with a random rotation R.
    Its output is its own read-out, :math:`v_t = w_{t-1} k_t`, and the registered ``oja`` rule writes

    .. math:: w_t = w_{t-1} + \beta\, v_t\,(k_t - w_{t-1}^\top v_t)^\top ,

    Averaged over inputs it drifts as :math:`\dot w = Cw - (w^\top C w)\,w` (Oja 1982). Every unit
    eigenvector ±u_i of C is a fixed point, and so is w = 0; but only ±u_1, the top eigenvector, is
    stable (``oja_fixed_points``), so from almost any w_0 the weights turn to ±u_1 and ‖w‖ → 1. The
    registered ``hebbian``
    rule with the same v_t, :math:`w_t = w_{t-1} + \beta v_t k_t^\top = w_{t-1}(I + \beta k_t k_t^\top)`,
    turns towards the same direction but its norm grows without bound. Both run through
    ``rule.step`` one input at a time (v_t depends on w_{t−1}). The Hebbian step is linear in w, so
    it is run on a rescaled copy and the scale is kept separately: ``log10_norm_hebbian`` stays exact
    even where the norm itself would overflow.

    Args: eigenvalues: 2–16 positive numbers whose largest is strictly larger than the rest;
    n_steps ∈ [1, 5000]; init_norm ‖w_0‖ ∈ (0, 2]; learning_rate β ∈ (0, 0.5] with
    β·Σλ·max(1, ‖w_0‖)² ≤ 0.2 (Σλ = E‖k‖²; larger steps make Oja's rule unstable); seed.
    """
    try:
        lam = np.asarray(eigenvalues, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"eigenvalues={eigenvalues!r} is not allowed; eigenvalues must be a sequence of positive numbers") from exc
    if lam.ndim != 1 or not 2 <= lam.size <= 16:
        raise ValueError(f"eigenvalues must be a flat sequence of 2 to 16 positive numbers, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"eigenvalues={tuple(lam.tolist())} is not allowed; every eigenvalue must be a finite number > 0")
    lam = np.sort(lam)[::-1]
    if lam[0] <= lam[1]:
        raise ValueError(
            f"eigenvalues={tuple(lam.tolist())} have no unique top component; the largest eigenvalue must be strictly "
            "larger than all the others"
        )
    n_steps = integer("n_steps", n_steps, 1, 5000)
    lr = num("learning_rate", learning_rate, 0.0, 0.5, low_open=True)
    init_norm = num("init_norm", init_norm, 0.0, 2.0, low_open=True)
    size = lam.sum() * max(1.0, init_norm) ** 2  # E‖k‖²·max(1, ‖w_0‖)²: what one step is multiplied by
    if lr * size > 0.2 * (1 + 1e-12):
        raise ValueError(
            f"learning_rate={lr:g} is too large for these inputs; Oja's rule is stable only for small steps, so "
            f"learning_rate·(sum of eigenvalues)·max(1, init_norm)² must be at most 0.2, i.e. learning_rate ≤ "
            f"{0.2 / size:.4g}"
        )
    seed = seed_of(seed)

    d = lam.size
    rng = np.random.default_rng(seed)
    R = orthonormal(rng, d, d).T  # (d, d) columns = eigenvectors
    C = (R * lam) @ R.T
    u = R[:, 0] * np.sign(R[np.flatnonzero(np.abs(R[:, 0]) > 1e-12)[0], 0])
    labels, growth = oja_fixed_points(lam)
    x = rng.standard_normal((n_steps, d)) * np.sqrt(lam) @ R.T  # (n, d) ~ N(0, C)
    w0 = rng.standard_normal(d)
    w0 *= init_norm / np.linalg.norm(w0)

    oja, hebb = make_rule("oja"), make_rule("hebbian")
    xs = torch.as_tensor(x, dtype=DT)
    s_oja = {"W": torch.as_tensor(w0, dtype=DT)[None, :]}  # (1, d)
    s_heb = {"W": s_oja["W"].clone()}
    W_oja = [s_oja["W"][0]]
    W_heb = [s_heb["W"][0]]
    log_scale = [0.0]  # w_hebbian,t = 10**log_scale[t] · W_heb[t]
    for t in range(n_steps):
        k_t = xs[t]
        s_oja, _ = oja.step(s_oja, k_t, k_t, s_oja["W"] @ k_t, beta=lr)
        s_heb, _ = hebb.step(s_heb, k_t, k_t, s_heb["W"] @ k_t, beta=lr)
        scale = log_scale[-1]
        nrm = float(torch.linalg.vector_norm(s_heb["W"]))
        if nrm > 1e6:  # the Hebbian step is linear in w: rescaling changes nothing but the bookkeeping
            s_heb = {"W": s_heb["W"] / nrm}
            scale += math.log10(nrm)
        W_oja.append(s_oja["W"][0])
        W_heb.append(s_heb["W"][0])
        log_scale.append(scale)
    Wo = torch.stack(W_oja).numpy()  # (n+1, d)
    Wh = torch.stack(W_heb).numpy()

    def angle(W: np.ndarray) -> np.ndarray:
        cos = np.abs(W @ u) / np.linalg.norm(W, axis=1)
        return np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))

    log_h = np.log10(np.linalg.norm(Wh, axis=1)) + np.asarray(log_scale)
    with np.errstate(over="ignore"):
        norm_h = np.power(10.0, log_h)
    return OjaResult(
        steps=ro(np.arange(n_steps + 1)), norm_oja=ro(np.linalg.norm(Wo, axis=1)), norm_hebbian=ro(norm_h),
        log10_norm_hebbian=ro(log_h), angle_oja=ro(angle(Wo)), angle_hebbian=ro(angle(Wh)), inputs=ro(x),
        covariance=ro(C), eigenvalues=ro(lam), top_eigenvector=ro(u), weights_oja=ro(Wo), initial_weights=ro(w0),
        learning_rate=lr, fixed_points=labels, fixed_point_growth=ro(growth), fixed_point_stable=ro(growth < 0),
    )
