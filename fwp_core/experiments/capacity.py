"""The Capacity page's experiments, pure (no Streamlit, no Plotly): capacity sweeps over N stored pairs for each rule
and each feature map, recall error by a pair's age, and the overwrite demo. ``app.cache`` caches them per setting.

    curves = sweep(("hebbian", "delta"), d_k=16, d_v=16, n_max=64, seeds=8, key_type="random", rho=0.5, beta=1.0, gate=0.95)
    curves["delta"].mean                    # mean relative recall error at N = 1..64, cut before any divergence
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import metrics
from ..features import FeatureMap
from ..registry import get_spec, make_rule, rule_names
from ..rules.base import Rule
from ..sequences import _gen, _unit

MAX_READS = 1 << 24  # numbers one capacity sweep may hold per rule (128 MB in float64), see check_size
MAX_SEEDS = 64
MAX_RULES = 6
FEATURE_MAP_SEEDS = 8  # the feature-map comparison runs six maps: at most this many seeds
FEATURE_MAP_VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("identity", {"feature_map": "identity"}),
    ("elu+1", {"feature_map": "elu1"}),
    ("relu", {"feature_map": "relu"}),
    ("DPFP ν=1", {"feature_map": "dpfp", "nu": 1}),
    ("DPFP ν=2", {"feature_map": "dpfp", "nu": 2}),
    ("DPFP ν=3", {"feature_map": "dpfp", "nu": 3}),
)


def capacity_rule_names() -> list[str]:
    """Rules a capacity sweep can run: every registered rule that writes one key per token."""
    return [n for n in rule_names() if not get_spec(n).substeps]


def additive_theory_applies(rule: str) -> bool:
    """Whether ``metrics.additive_theory`` describes the rule: additive writes, no decay, the plain read W φ(k)."""
    spec = get_spec(rule)
    return spec.family == "additive" and spec.gate_kind is None and spec.plain_read


def rule_with_gate(name: str, hparams: Mapping[str, Any], gate: float) -> Rule:
    """The rule, decaying by the constant gate α where its gate is otherwise given per token
    (``RuleSpec.needs_gate``): capacity sweeps pass no per-token gate. A gate fixed by a hyper-parameter stays."""
    rule = make_rule(name, **dict(hparams))
    return rule.with_gate(gate) if get_spec(name).needs_gate and gate < 1.0 else rule


def check_size(n_max: int, d_v: int, d_phi: int, seeds: int) -> int:
    """The number of seeds (≤ ``seeds``) whose sweep fits the memory cap: per seed a capacity sweep keeps every
    W_N ((n_max+1)·d_v·d_phi numbers) and reads every pair from each (n_max²·d_v). ValueError if not one fits."""
    per_seed = max(n_max * n_max * d_v, (n_max + 1) * d_v * d_phi)
    fit = MAX_READS // per_seed
    if fit < 1:
        raise ValueError(
            f"N up to {n_max} with d_v = {d_v} and d_phi = {d_phi} needs {per_seed / 1e6:.0f} M numbers per seed (at most "
            f"{MAX_READS / 1e6:.0f} M here); lower d_k (N goes to 4·d_k) or d_v"
        )
    return min(seeds, fit)


@dataclass(frozen=True)
class Curve:
    """A capacity curve cut before divergence: ``mean``/``std`` hold only N = 1..len(mean)."""

    label: str
    n: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    diverged_at_n: int | None  # first N at which a seed diverged, None if none did


def cut_curve(label: str, c: metrics.CapacityCurve) -> Curve:
    bad = ~np.isfinite(c.per_seed).all(axis=0)
    cut = int(np.argmax(bad)) if bad.any() else len(c.n)
    return Curve(label=label, n=c.n[:cut], mean=c.mean[:cut], std=c.std[:cut],
                 diverged_at_n=int(c.n[cut]) if bad.any() else None)


def sweep_raw(
    rules: tuple[str, ...], *, d_k: int = 32, d_v: int = 32, n_max: int = 128, seeds: int = 16, key_type: str = "random",
    rho: float = 0.5, beta: float = 1.0, gate: float = 0.95, seed: int = 0,
) -> dict[str, metrics.CapacityCurve]:
    """One ``fwp_core.metrics.capacity_curve`` call per rule (each batched over all seeds): no Streamlit."""
    out = {}
    with torch.no_grad():
        for name in rules:
            rule = rule_with_gate(name, {}, gate)
            out[name] = metrics.capacity_curve(rule, d_k=d_k, d_v=d_v, n_max=n_max, seeds=seeds, key_type=key_type,
                                               rho=rho, beta=beta, seed=seed)
    return out


def sweep(
    rules: tuple[str, ...], d_k: int, d_v: int, n_max: int, seeds: int, key_type: str, rho: float, beta: float,
    gate: float, seed: int = 0,
) -> dict[str, Curve]:
    raw = sweep_raw(rules, d_k=d_k, d_v=d_v, n_max=n_max, seeds=seeds, key_type=key_type, rho=rho, beta=beta,
                             gate=gate, seed=seed)
    return {name: cut_curve(name, c) for name, c in raw.items()}


def key_cosine(fm: FeatureMap, key_type: str, d_k: int, n: int = 128, rho: float = 0.5, seed: int = 0) -> float:
    """Mean cosine between φ of the distinct keys a sweep writes (the keys of ``metrics.make_keys``)."""
    keys, idx = metrics.make_keys(key_type, n, d_k, _gen(seed), (), rho=rho)
    f = _unit(fm(keys))
    c = f @ f.T
    distinct = (idx[:, None] != idx[None, :]).numpy()
    return float(c.numpy()[distinct].mean()) if distinct.any() else 0.0


def feature_map_sweep(
    rule: str, d_k: int, d_v: int, n_max: int, seeds: int, key_type: str, rho: float, beta: float, gate: float, seed: int = 0,
) -> tuple[dict[str, Curve], dict[str, tuple[int, float, float]]]:
    """The same capacity sweep of one rule for each feature map (all followed by l2 normalisation, so only the
    direction of φ(k) matters), and per map (d_phi, mean cosine on the sweep's keys, on N(0, 1) inputs)."""
    curves: dict[str, Curve] = {}
    cos: dict[str, tuple[int, float, float]] = {}
    with torch.no_grad():
        for label, hp in FEATURE_MAP_VARIANTS:
            hp = {**hp, "normalize": "l2"}
            r = rule_with_gate(rule, hp, gate)
            c = metrics.capacity_curve(r, d_k=d_k, d_v=d_v, n_max=n_max, seeds=seeds, key_type=key_type, rho=rho,
                                       beta=beta, seed=seed)
            curves[label] = cut_curve(label, c)
            fm = FeatureMap(name=hp["feature_map"], normalize="none", nu=int(hp.get("nu", 1)))
            cos[label] = (fm.out_dim(d_k), key_cosine(fm, key_type, d_k, rho=rho, seed=seed), metrics.mean_key_cosine(fm, d_k))
    return curves, cos


def recency(
    rules: tuple[str, ...], d_k: int, d_v: int, n: int, seeds: int, key_type: str, rho: float, beta: float, gate: float,
    seed: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray, int | None]]:
    """Write n pairs (batched over seeds), then recall each from the final memory: relative error by age
    (0 = the newest pair), mean and std over seeds, cut before any divergence."""
    g = _gen(seed)
    keys, _ = metrics.make_keys(key_type, n, d_k, g, (seeds,), rho=rho)
    vals = torch.randn(seeds, n, d_v, generator=g, dtype=torch.float64)
    out = {}
    with torch.no_grad():
        for name in rules:
            rule = rule_with_gate(name, {}, gate)
            trace = rule.run(keys, keys, vals, beta=beta)
            prof = metrics.recency_profile(rule, trace).numpy()  # (seeds, n)
            ok = np.isfinite(prof).all(axis=0)
            if trace.diverged_at is not None:
                out[name] = (np.zeros(0), np.zeros(0), trace.diverged_at)
            else:
                out[name] = (prof[:, ok].mean(0), prof[:, ok].std(0), None)
    return out


def overwrite_demo(d_k: int, d_v: int, beta: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Write (k, v₁) then (k, v₂) with one unit key; read the memory with k: additive gives v₁ + v₂, the delta
    rule β v₂ + β(1 − β) v₁ (exactly v₂ at β = 1)."""
    g = _gen(seed)
    k = _unit(torch.randn(1, d_k, generator=g, dtype=torch.float64)).expand(2, d_k)
    v = torch.randn(2, d_v, generator=g, dtype=torch.float64)
    with torch.no_grad():
        reads = {}
        for label, name, b in (("additive read", "hebbian", 1.0), ("delta read", "delta", beta)):
            rule = make_rule(name)
            trace = rule.run(k, k, v, beta=b)
            reads[label] = rule.read(trace.final_state, trace.keys[:1])[0].numpy()  # the rule's read with φ(k)
    return {"v1": v[0].numpy(), "v2": v[1].numpy(), "v1+v2": (v[0] + v[1]).numpy(), **reads}
