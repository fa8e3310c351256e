"""The Compare page's experiment, pure (no Streamlit, no Plotly): 2 to 4 rules (and optionally softmax attention) on
one shared sequence, each cut before a divergence, with the pairs each still stores and their recall at any step.
``app.cache`` caches it per configuration.

    res = run_compare(CompareConfig(slots=(Slot("hebbian"), Slot("delta")), sequence="overwrite", T=12, d_k=16))
    idx, err = recall_at(res.runs[1], t=12)    # the stored pairs after step 12 and their relative recall errors
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import metrics
from ..registry import make_rule
from ..rules.base import Rule
from ..sequences import SOURCES
from ..rules.softmax import softmax_attention, softmax_read
from ..trace import Trace
from .explorer import ExplorerConfig, build_episode, run_inputs, symmetric_range

SOFTMAX = "softmax"
"""Label of the softmax-attention baseline (it is not an FWP rule)."""
MAX_RULES = 4
MAX_FLOATS = 2 * (1024 + 1) * 128**2  # Σ over rules of (T+1)·d_v·d_phi: two rules at T = 1024, d = 128 (134 MB)
MAX_EIG_STEPS = 64  # eigenvalue ranges are measured on at most this many evenly spaced steps


@dataclass(frozen=True)
class Slot:
    """One rule of a comparison, with its own hyper-parameters and write strength."""

    rule: str
    hparams: tuple[tuple[str, Any], ...] = ()
    beta: float = 1.0
    schedule: str = "constant"
    gate: float = 0.9


@dataclass(frozen=True)
class CompareConfig:
    """2 to 4 rules (and optionally softmax attention) on one shared sequence."""

    slots: tuple[Slot, ...]
    sequence: str = "overwrite"
    T: int = 16
    d_k: int = 8
    d_v: int = 8
    seed: int = 0
    rho: float = 0.5
    text: str = ""
    softmax: bool = False
    softmax_scale: float = 10.0

    def explorer_config(self, slot: Slot) -> ExplorerConfig:
        return ExplorerConfig(
            rule=slot.rule, hparams=slot.hparams, sequence=self.sequence, T=self.T, d_k=self.d_k, d_v=self.d_v,
            seed=self.seed, beta=slot.beta, schedule=slot.schedule, gate=slot.gate, rho=self.rho, text=self.text,
        )


def slot_label(i: int, slot: Slot) -> str:
    """A short, unique name for a slot: ``1·hebbian``; β is added where it is not the plain 1."""
    label = f"{i + 1}·{slot.rule}"
    if slot.schedule == "random":
        label += f" β~U(0,{slot.beta:g})"
    elif slot.schedule == "ramp":
        label += f" β ramp→{slot.beta:g}"
    elif slot.beta != 1.0:
        label += f" β={slot.beta:g}"
    return label


@dataclass(frozen=True)
class RuleRun:
    """One rule's run on the shared sequence, cut before divergence; arrays are numpy, on the CPU."""

    label: str
    rule: str  # a registry name, or ``SOFTMAX``
    weights: np.ndarray | None  # (T+1, d_v, d_phi); None for softmax
    keys: np.ndarray  # (T, d_phi) what the memory is read with (first sub-step key for delta_product)
    values: np.ndarray  # (T, d_v)
    retrieval_error: np.ndarray  # (T,) NaN from the divergence on
    diverged_at: int | None
    valid: int  # steps that are finite
    live: np.ndarray  # (T, T) bool: [t-1, i] pair i is stored (written and not yet overwritten) after step t
    metrics: dict[str, Any] = field(default_factory=dict)
    scale: float = 1.0  # softmax only
    hparams: tuple[tuple[str, Any], ...] = ()  # the rule's hyper-parameters (its read may use them: ε)
    read_extras: dict[str, np.ndarray] = field(default_factory=dict)  # besides W, what the read needs after each
    # step t = 1..T, (T, ...) at index t − 1 (``Rule.read_states``): linear_attention's normaliser z

    def read(self, t: int, keys: np.ndarray) -> np.ndarray:
        """The rule's own read (``Rule.read``) of the memory after step t ≥ 1 with featured keys
        (n, d_phi) -> (n, d_v): W_t φ(k), for linear_attention W_t φ(k) / (z_tᵀφ(k) + ε). Not for softmax."""
        rule = make_rule(self.rule, **dict(self.hparams))
        state = {"W": self.weights[t], **{name: x[t - 1] for name, x in self.read_extras.items()}}
        with torch.no_grad():
            r = rule.read({name: torch.from_numpy(np.asarray(x)) for name, x in state.items()}, torch.from_numpy(keys))
        return r.numpy()


@dataclass(frozen=True)
class CompareResult:
    cfg: CompareConfig
    tokens: tuple[str, ...]
    T: int
    runs: tuple[RuleRun, ...]
    zmax: float  # one colour range over every rule's W_t at every t (rules that diverged saturate it)


def stored_pairs(k: np.ndarray, beta: np.ndarray | None) -> np.ndarray:
    """(T, T) bool: after step t (row t−1), pair i counts as stored if it was written (β_i > 0) by step t and
    no later write of the same key happened by step t (an overwrite replaces it)."""
    T = k.shape[0]
    writes = np.ones(T, dtype=bool) if beta is None else np.asarray(beta) > 0
    _, key_id = np.unique(k, axis=0, return_inverse=True)
    same = key_id.reshape(-1)[:, None] == key_id.reshape(-1)[None, :]  # [i, j] the same key
    pos = np.arange(T)
    later = same & (pos[None, :] > pos[:, None]) & writes[None, :]  # [i, j]: j overwrites i
    replaced_at = np.where(later, pos[None, :], T).min(axis=1)  # first overwrite step index of pair i
    t_idx = pos[:, None]  # row: after step t_idx + 1
    return (pos[None, :] <= t_idx) & writes[None, :] & (replaced_at[None, :] > t_idx)


def softmax_reads(keys: np.ndarray, values: np.ndarray, reads: np.ndarray, n: int, scale: float) -> np.ndarray:
    """Softmax attention over the cache of the first n pairs, read with every row of ``reads``: (m, d_v).
    An empty cache reads 0."""
    t = torch.from_numpy
    return softmax_read(t(reads), t(keys[: max(n, 0)]), t(values[: max(n, 0)]), scale=scale).numpy()


def recall_at(run: RuleRun, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs stored after step t (1-based steps at which they were written) and their relative recall errors
    ‖v_i − read_t(k_i)‖ / ‖v_i‖ with the rule's own read (``RuleRun.read``; softmax: read from the cache of the
    first t pairs): 0 is a perfect recall, 1 what an empty memory returns. A diverged rule is read from its last
    finite state."""
    tv = min(max(t, 1), run.keys.shape[0], run.valid)
    if tv < 1:
        return np.zeros(0, dtype=int), np.zeros(0)
    idx = np.flatnonzero(run.live[tv - 1])
    if run.weights is None:
        pred = softmax_reads(run.keys, run.values, run.keys[idx], tv, run.scale)
    else:
        pred = run.read(tv, run.keys[idx])
    err = np.linalg.norm(run.values[idx] - pred, axis=-1) / np.maximum(np.linalg.norm(run.values[idx], axis=-1), 1e-12)
    return idx + 1, err


def eig_range(rule: Rule, trace: Trace, valid: int) -> tuple[float | None, float | None]:
    """(min Re λ, max |λ|) over the transitions of at most MAX_EIG_STEPS evenly spaced valid steps."""
    if valid < 1:
        return None, None
    steps = np.unique(np.linspace(1, valid, min(valid, MAX_EIG_STEPS)).round().astype(int))
    try:
        M = torch.stack([rule.transition(trace, int(s)) for s in steps]).to(torch.float64)
    except NotImplementedError:
        return None, None
    ev = torch.linalg.eigvals(M)
    if not bool(torch.isfinite(ev).all()):
        return None, None
    return round(float(ev.real.min()), 6) + 0.0, round(float(ev.abs().max()), 6) + 0.0  # no "-0.000" in the table


def softmax_run(label: str, ep, scale: float, live: np.ndarray) -> RuleRun:
    k = ep.k.to(torch.float64).numpy()
    v = ep.v.to(torch.float64).numpy()
    T = k.shape[0]
    # read with k_t over the cache of s < t, before pair t joins it
    r = softmax_attention(ep.k.to(torch.float64), ep.k.to(torch.float64), ep.v.to(torch.float64), scale=scale, before=True).outputs.numpy()
    err = np.linalg.norm(v - r, axis=-1)
    run = RuleRun(label=label, rule=SOFTMAX, weights=None, keys=k, values=v, retrieval_error=err, diverged_at=None,
                  valid=T, live=live, scale=scale)
    idx, final = recall_at(run, T)
    run.metrics.update({
        "mean retrieval error": float(err.mean()), "final recall error (relative)": float(final.mean()) if final.size else 0.0,
        "‖W_T‖_F": None, "effective rank": None, "min Re λ": None, "max |λ|": None,
        "state size": f"cache of {T}·({k.shape[1]}+{v.shape[1]}) numbers", "diverged": "no",
    })
    return run


def run_compare(cfg: CompareConfig, *, max_floats: int = MAX_FLOATS) -> CompareResult:
    """Run every slot (and softmax attention) on the shared sequence; at most ``max_floats`` fast-weight numbers
    kept for all steps of all rules together."""
    if not 2 <= len(cfg.slots) <= MAX_RULES:
        raise ValueError(f"compare 2 to {MAX_RULES} rules; got {len(cfg.slots)}")
    if cfg.sequence not in SOURCES:
        raise ValueError(f"unknown sequence {cfg.sequence!r}; allowed: {', '.join(SOURCES)}")
    rules = [make_rule(s.rule, **dict(s.hparams)) for s in cfg.slots]
    ep = build_episode(cfg.explorer_config(cfg.slots[0]))
    T = ep.T
    stored = sum((T + 1) * ep.v.shape[-1] * r.phi.out_dim(ep.k.shape[-1]) for r in rules)
    if stored > max_floats:
        raise ValueError(
            f"these rules would keep {stored / 1e6:.0f} M fast-weight numbers for all steps (at most "
            f"{max_floats / 1e6:.0f} M here); use a smaller T, d_k or d_v, fewer rules or a smaller DPFP ν"
        )
    k0 = ep.k.to(torch.float64).numpy()
    live = stored_pairs(k0, None if ep.beta is None else ep.beta.numpy())
    runs: list[RuleRun] = []
    arrays: list[np.ndarray] = []
    for i, (slot, rule) in enumerate(zip(cfg.slots, rules)):
        label = slot_label(i, slot)
        inputs = run_inputs(cfg.explorer_config(slot), ep, rule)
        with torch.no_grad():
            trace = rule.run(inputs["q"], inputs["k"], inputs["v"], beta=inputs["beta"], gate=inputs["gate"])
        valid = trace.valid_steps
        W = trace.weights.numpy()
        keys = trace.token_keys.numpy()
        values = trace.token_values.numpy()
        extras = {name: x.numpy() for name, x in rule.read_states(trace).items() if name != "W"}
        run = RuleRun(label=label, rule=slot.rule, weights=W, keys=keys, values=values,
                      retrieval_error=trace.retrieval_error.numpy(), diverged_at=trace.diverged_at, valid=valid, live=live,
                      hparams=slot.hparams, read_extras=extras)
        idx, final = recall_at(run, T)
        WT = torch.from_numpy(W[valid]).to(torch.float64)
        lo, hi = eig_range(rule, trace, valid)
        run.metrics.update({
            "mean retrieval error": float(np.mean(run.retrieval_error[:valid])) if valid else None,
            "final recall error (relative)": float(final.mean()) if final.size else 0.0,
            "‖W_T‖_F": float(torch.linalg.matrix_norm(WT)), "effective rank": float(metrics.effective_rank(WT)),
            "min Re λ": lo, "max |λ|": hi,
            "state size": f"W: {W.shape[-2]}×{W.shape[-1]} numbers",
            "diverged": "no" if trace.diverged_at is None else f"at step {trace.diverged_at}",
        })
        runs.append(run)
        arrays.append((trace.diverged_at is not None, W[: valid + 1]))
    if cfg.softmax:
        runs.append(softmax_run(f"{len(cfg.slots) + 1}·softmax", ep, cfg.softmax_scale, live))
    # a run that blows up would wash every other rule out of the shared scale: it saturates it instead
    stable = [W for diverged, W in arrays if not diverged] or [W for _, W in arrays]
    return CompareResult(cfg=cfg, tokens=ep.tokens, T=T, runs=tuple(runs), zmax=symmetric_range(*stable))


