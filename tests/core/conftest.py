"""Shared helpers for the core tests: input generators that keep every rule stable, comparisons.

Everything here is derived from the registry (``fwp_core.RULES``); no list of rule names is kept.
"""

from __future__ import annotations

import math

import torch

import fwp_core

# pytest-xdist runs one process per core: one intra-op thread each avoids oversubscribing the CPUs

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
ALL_RULES = fwp_core.rule_names()
PARALLEL_RULES = fwp_core.rule_names(parallel=True)
SERIAL_RULES = fwp_core.rule_names(parallel=False)
TOL64 = 1e-9


def spec(name: str) -> fwp_core.RuleSpec:
    return fwp_core.RULES[name]


def make(
    name: str,
    T: int,
    *,
    d_k: int = 4,
    d_v: int = 3,
    batch: tuple[int, ...] = (),
    n_h: int = 2,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
    channel_gate: bool = True,
    beta_range: tuple[float, float] = (0.2, 0.9),
    gate_range: tuple[float, float] = (0.6, 1.0),
    rule: fwp_core.Rule | None = None,
    **hparams,
) -> tuple[fwp_core.Rule, dict]:
    """A rule and random inputs (q, k, v, beta, gate) it can run without diverging.

    beta is drawn from ``beta_range`` and divided, per token (and sub-step), by
    max(1, ‖φ(k)‖², ‖v‖²): that keeps every delta-type transition I − β k kᵀ, Oja's I − β v vᵀ and
    Titans' joint map contracting, whatever the feature map and normalisation.
    """
    s = spec(name)
    rule = rule if rule is not None else fwp_core.make_rule(name, **hparams)
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    def rand(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)

    sub = (n_h,) if s.substeps else ()
    q = randn(*batch, T, d_k)
    k = randn(*batch, T, *sub, d_k)
    v = randn(*batch, T, *sub, d_v)
    fk = rule.phi(k)
    knorm2 = (fk * fk).sum(-1)
    vnorm2 = (v * v).sum(-1)
    beta = rand(*beta_range, *batch, T, *sub) / torch.clamp(torch.maximum(knorm2, vnorm2), min=1.0)
    gate = None
    if s.gate_kind == "channel" and channel_gate:
        gate = rand(*gate_range, *batch, T, rule.phi.out_dim(d_k))
    elif s.gate_kind is not None:
        gate = rand(*gate_range, *batch, T)
    inputs = {"q": q, "k": k, "v": v, "beta": beta, "gate": gate}
    return rule, {key: None if x is None else x.to(dtype=dtype, device=device) for key, x in inputs.items()}


def slice_time(inp: dict, sl: slice, name: str) -> dict:
    """Inputs restricted to the time steps ``sl`` of rule ``name`` (T is the axis after the batch axes)."""
    assert name in ALL_RULES
    nb = inp["q"].dim() - 2
    out = {}
    for key, x in inp.items():
        if x is None:
            out[key] = None
            continue
        idx = (slice(None),) * nb + (sl,)
        out[key] = x[idx]
    return out


def maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, f"shape mismatch {tuple(a.shape)} vs {tuple(b.shape)}"
    return float((a.detach().cpu().double() - b.detach().cpu().double()).abs().max())


def assert_close(a: torch.Tensor, b: torch.Tensor, tol: float = TOL64, rel_to: torch.Tensor | None = None, what: str = ""):
    """max |a − b| ≤ tol · max(1, max |rel_to|) (rel_to defaults to nothing: a plain absolute bound)."""
    scale = 1.0 if rel_to is None else max(1.0, float(rel_to.detach().abs().max()))
    err = maxdiff(a, b)
    assert math.isfinite(err), f"{what}: non-finite difference"
    assert err <= tol * scale, f"{what}: max abs difference {err:.3e} > {tol * scale:.3e}"
