"""Measurements on traces and memories: recall errors, capacity sweeps, eigenvalues, state statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .features import FeatureMap
from .registry import make_rule
from .rules.base import Rule
from .sequences import _gen, _unit, correlated_keys
from .trace import State, Trace

KEY_TYPES: tuple[str, ...] = ("random", "orthogonal", "correlated", "repeated")


def recall_errors(rule: Rule, state: State, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """‖v_i − read(k_i)‖ for every stored pair, with the rule's own read (``Rule.read``: W φ(k_i); for
    linear_attention W φ(k_i) / (zᵀφ(k_i) + ε)). state: ``"W"`` (..., d_v, d_phi) and the rule's extras;
    keys: featured, (..., N, d_phi); values: (..., N, d_v) -> (..., N)."""
    return torch.linalg.vector_norm(values - rule.read(state, keys), dim=-1)


def trace_recall_errors(rule: Rule, trace: Trace, relative: bool = False) -> torch.Tensor:
    """‖v_i − read_T(k_i)‖ of every pair written in the trace, read from the final state with the rule's read
    (``relative``: divided by ‖v_i‖): (..., T). delta_product: each token's first sub-step pair."""
    values = trace.token_values
    err = recall_errors(rule, trace.final_state, trace.token_keys, values)
    if relative:
        err = err / torch.linalg.vector_norm(values, dim=-1).clamp_min(1e-12)
    return err


def effective_rank(W: torch.Tensor) -> torch.Tensor:
    """exp(entropy of the normalised singular values) (Roy & Vetterli): (..., a, b) -> (...,); 0 for W = 0."""
    s = torch.linalg.svdvals(W)
    total = s.sum(-1, keepdim=True)
    p = torch.where(total > 0, s / torch.where(total > 0, total, torch.ones_like(total)), torch.zeros_like(s))
    ent = -(torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))).sum(-1)
    return torch.where(total.squeeze(-1) > 0, torch.exp(ent), torch.zeros_like(ent))


def state_norms(trace: Trace) -> torch.Tensor:
    """‖W_t‖_F for t = 0..T: (..., T+1)."""
    return torch.linalg.matrix_norm(trace.weights, ord="fro")


def transition_eigenvalues(rule: Rule, trace: Trace, t: int) -> torch.Tensor:
    """Complex eigenvalues of step t's transition (see ``Rule.transition``), sorted by real part."""
    if not 1 <= t <= trace.T:
        raise ValueError(f"step t must lie in 1..{trace.T}, got {t}")
    M = rule.transition(trace, t)
    ev = torch.linalg.eigvals(M.to(torch.float64) if M.dtype != torch.float64 else M)
    order = torch.argsort(ev.real, dim=-1)
    return torch.gather(ev, -1, order)


def mean_key_cosine(feature_map: FeatureMap, d_k: int = 64, n: int = 256, seed: int = 0) -> float:
    """Mean cosine between φ of unrelated Gaussian keys (0 for identity; ≈ 0.7 for elu+1 at d = 64)."""
    x = torch.randn(n, d_k, generator=_gen(seed), dtype=torch.float64)
    f = _unit(feature_map(x))
    c = f @ f.T
    off = ~torch.eye(n, dtype=torch.bool)
    return float(c[off].mean())


def make_keys(key_type: str, n: int, d_k: int, g: torch.Generator, batch: tuple[int, ...], rho: float = 0.5, n_distinct: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit keys (…, n, d_k) of one of ``KEY_TYPES`` and, per position, the index of the distinct key."""
    if key_type == "random":
        return _unit(torch.randn(*batch, n, d_k, generator=g, dtype=torch.float64)), torch.arange(n)
    if key_type == "orthogonal":
        Q, _ = torch.linalg.qr(torch.randn(*batch, d_k, d_k, generator=g, dtype=torch.float64))
        basis = Q.transpose(-1, -2)
        idx = torch.arange(n) % d_k  # beyond d_k, the basis repeats: there are no more orthogonal keys
        return basis[..., idx, :], idx
    if key_type == "correlated":
        return correlated_keys(n, d_k, rho, g, batch), torch.arange(n)
    if key_type == "repeated":
        m = n_distinct or max(1, d_k // 2)
        base = _unit(torch.randn(*batch, m, d_k, generator=g, dtype=torch.float64))
        idx = torch.arange(n) % m
        return base[..., idx, :], idx
    raise ValueError(f"unknown key type {key_type!r}; allowed: {', '.join(KEY_TYPES)}")


@dataclass(frozen=True)
class CapacityCurve:
    """Mean relative recall error after N writes, for N = 1..n_max, over seeds."""

    rule: str
    n: np.ndarray  # (n_max,)
    mean: np.ndarray  # (n_max,) NaN from the first N at which any seed diverged
    std: np.ndarray  # (n_max,)
    per_seed: np.ndarray  # (seeds, n_max)
    diverged: bool


def capacity_curve(
    rule: str | Rule, *, d_k: int = 32, d_v: int = 32, n_max: int = 128, seeds: int = 16, key_type: str = "random",
    rho: float = 0.5, beta: float = 1.0, seed: int = 0, hparams: dict | None = None,
) -> CapacityCurve:
    """Write n_max key/value pairs once (batched over seeds: one ``run`` for all), and after each write N
    query every key written so far: mean relative recall error ‖v_i − read_N(k_i)‖/‖v_i‖ over the pairs
    still meant to be stored (for repeated keys, the latest value of each key). read_N is the rule's own read
    (``Rule.read``) of the state after N writes: W_N φ(k_i), normalised by z_N for linear_attention."""
    if not (isinstance(n_max, int) and 1 <= n_max <= 4096):
        raise ValueError(f"n_max must be an integer in [1, 4096], got {n_max!r}")
    if not (isinstance(seeds, int) and 1 <= seeds <= 256):
        raise ValueError(f"seeds must be an integer in [1, 256], got {seeds!r}")
    r = rule if isinstance(rule, Rule) else make_rule(rule, **(hparams or {}))
    g = _gen(seed)
    keys, idx = make_keys(key_type, n_max, d_k, g, (seeds,), rho=rho)
    vals = torch.randn(seeds, n_max, d_v, generator=g, dtype=torch.float64)
    trace = r.run(keys, keys, vals, beta=beta)  # (seeds, n_max+1, d_v, d_phi)
    fk = trace.keys  # (seeds, n_max, d_phi)
    pred = r.read(r.read_states(trace), fk.unsqueeze(1))  # (seeds, N, n_max, d_v): read_N(φ(k_i))
    err = torch.linalg.vector_norm(vals.unsqueeze(1) - pred, dim=-1) / torch.linalg.vector_norm(vals, dim=-1).unsqueeze(1)
    # pair i counts at N if it was written by N and is the latest write of its key
    pos = torch.arange(n_max)
    later_same = (idx.unsqueeze(0) == idx.unsqueeze(1)) & (pos.unsqueeze(0) > pos.unsqueeze(1))  # [i, j]: j later, same key
    first_overwrite = torch.where(later_same, pos.unsqueeze(0).expand(n_max, n_max), torch.full((n_max, n_max), n_max)).min(1).values
    N = pos + 1  # after N writes
    live = (pos.unsqueeze(0) < N.unsqueeze(1)) & (first_overwrite.unsqueeze(0) >= N.unsqueeze(1))  # (N, i)
    live = live.to(err.dtype)
    per_seed = (err * live).sum(-1) / live.sum(-1)  # (seeds, n_max); NaN where a seed diverged
    arr = per_seed.numpy()
    return CapacityCurve(
        rule=r.name, n=N.numpy(), mean=arr.mean(0), std=arr.std(0), per_seed=arr, diverged=trace.diverged_at is not None
    )


def additive_theory(n: np.ndarray, d_k: int) -> np.ndarray:
    """The additive rule's expected relative recall error with random unit keys: √((N−1)/d_k)."""
    return np.sqrt((np.asarray(n, dtype=float) - 1.0) / d_k)


def recency_profile(rule: Rule, trace: Trace) -> torch.Tensor:
    """Relative recall error of each pair at the end (the rule's read), indexed by age (0 = newest): (..., T)."""
    return torch.flip(trace_recall_errors(rule, trace, relative=True), dims=[-1])
