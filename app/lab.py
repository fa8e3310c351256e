"""Cached computations of the lab pages: Compare, Capacity and Forms.

Pure functions of plain (hashable) configurations, cached with ``st.cache_data`` bounded by
``LIMITS.cache_entries``. They return numpy arrays ready for ``app.figures`` and raise ``ValueError``
with a message fit for ``st.error`` when a configuration cannot run. ``time_forms`` (the measured timing
of the forms) and ``capacity_sweep_raw`` take no Streamlit at all, so the benchmarks reuse them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException
import torch

import fwp_core
from fwp_core import forms as forms_core
from fwp_core import metrics
from fwp_core import ssm as fwp_ssm
from fwp_core.experiments import capacity
from fwp_core.sequences import MAMBA2_A, SOURCES

from . import compute
from .figures import symmetric_range
from .state import LIMITS

SOFTMAX = "softmax"
"""Label of the softmax-attention baseline on the Compare page (it is not an FWP rule)."""

MAX_COMPARE_RULES = 4
MAX_COMPARE_FLOATS = 2 * (LIMITS.max_T + 1) * LIMITS.max_d**2  # Σ over rules of (T+1)·d_v·d_phi: two rules at the limits (134 MB)
MAX_CAPACITY_SEEDS, MAX_CAPACITY_RULES, FEATURE_MAP_SEEDS = capacity.MAX_SEEDS, capacity.MAX_RULES, capacity.FEATURE_MAP_SEEDS
MAX_EIG_STEPS = 64  # eigenvalue ranges are measured on at most this many evenly spaced steps
capacity_rule_names = capacity.capacity_rule_names
additive_theory_applies = capacity.additive_theory_applies


def forms_rule_names() -> list[str]:
    """Rules the Forms page shows: every registered rule with a parallel (and so a chunked) form that writes one
    key per token (a rule with sub-steps runs its parallel form over T·n_h interleaved sub-steps)."""
    return forms_core.form_rule_names()


# ---------------------------------------------------------------------------------------------- stepping
class KeyedSession(MutableMapping):
    """A view of ``st.session_state`` under other key names, so ``app.state``'s stepping helpers (which use
    ``t``, ``playing`` and ``_play_tick``) drive a page's own keys (e.g. ``cmp_t``) without clashing with
    the Explorer's URL parameter ``t``."""

    def __init__(self, session: MutableMapping, names: Mapping[str, str]):
        self._s = session
        self._names = dict(names)

    def _k(self, key: str) -> str:
        return self._names.get(key, key)

    def __getitem__(self, key: str) -> Any:
        return self._s[self._k(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        self._s[self._k(key)] = value

    def __delitem__(self, key: str) -> None:
        del self._s[self._k(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._k(key) in self._s

    def get(self, key: str, default: Any = None) -> Any:
        k = self._k(key)
        return self._s[k] if k in self._s else default

    def __iter__(self) -> Iterator[str]:
        inverse = {v: k for k, v in self._names.items()}
        return (inverse.get(k, k) for k in list(self._s.keys()))

    def __len__(self) -> int:
        return len(list(self._s.keys()))


def _url_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def set_bound(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Set URL-bound widgets from a callback (a preset), so that the link follows.

    Streamlit writes a programmatic value to the URL only for a widget that existed in the previous run;
    a preset that also adds widgets (a third rule, a γ control) would leave those out of the link. So
    each value goes into the session state and, where no widget is bound to its key yet, into the URL
    directly (omitted where it equals the widget's default, as Streamlit does)."""
    for key, value in values.items():
        st.session_state[key] = value
        try:
            if key in defaults and defaults[key] == value:
                if key in st.query_params:
                    del st.query_params[key]
            else:
                st.query_params[key] = _url_text(value)
        except StreamlitAPIException:
            pass  # bound to a widget of the last run: Streamlit syncs the URL with the session value itself


# ---------------------------------------------------------------------------------------------- compare
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

    def explorer_config(self, slot: Slot) -> compute.ExplorerConfig:
        return compute.ExplorerConfig(
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
        """The rule's own read (``fwp_core.Rule.read``) of the memory after step t ≥ 1 with featured keys
        (n, d_phi) -> (n, d_v): W_t φ(k), for linear_attention W_t φ(k) / (z_tᵀφ(k) + ε). Not for softmax."""
        rule = fwp_core.make_rule(self.rule, **dict(self.hparams))
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
    if n <= 0:
        return np.zeros((reads.shape[0], values.shape[1]))
    logits = scale * reads @ keys[:n].T  # (m, n)
    logits = logits - logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    w /= w.sum(axis=1, keepdims=True)
    return w @ values[:n]


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


def _eig_range(rule: fwp_core.Rule, trace: fwp_core.Trace, valid: int) -> tuple[float | None, float | None]:
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


def _softmax_run(label: str, ep, scale: float, live: np.ndarray) -> RuleRun:
    k = ep.k.to(torch.float64).numpy()
    v = ep.v.to(torch.float64).numpy()
    T = k.shape[0]
    logits = scale * k @ k.T  # [t, s]: read with k_t over the cache of s < t (before "writing" pair t)
    mask = np.tril(np.ones((T, T), dtype=bool), k=-1)
    logits = np.where(mask, logits, -np.inf)
    r = np.zeros_like(v)
    if T > 1:
        lg = logits[1:]
        lg = lg - lg.max(axis=1, keepdims=True)
        w = np.where(mask[1:], np.exp(lg), 0.0)
        w /= w.sum(axis=1, keepdims=True)
        r[1:] = w @ v
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


@st.cache_data(max_entries=LIMITS.cache_entries, show_spinner=False)
def compare_result(cfg: CompareConfig) -> CompareResult:
    """Run every slot (and softmax attention) on the shared sequence."""
    if not 2 <= len(cfg.slots) <= MAX_COMPARE_RULES:
        raise ValueError(f"compare 2 to {MAX_COMPARE_RULES} rules; got {len(cfg.slots)}")
    if cfg.sequence not in SOURCES:
        raise ValueError(f"unknown sequence {cfg.sequence!r}; allowed: {', '.join(SOURCES)}")
    rules = [fwp_core.make_rule(s.rule, **dict(s.hparams)) for s in cfg.slots]
    ep = compute.build_episode(cfg.explorer_config(cfg.slots[0]))
    T = ep.T
    stored = sum((T + 1) * ep.v.shape[-1] * r.phi.out_dim(ep.k.shape[-1]) for r in rules)
    if stored > MAX_COMPARE_FLOATS:
        raise ValueError(
            f"these rules would keep {stored / 1e6:.0f} M fast-weight numbers for all steps (at most "
            f"{MAX_COMPARE_FLOATS / 1e6:.0f} M here); use a smaller T, d_k or d_v, fewer rules or a smaller DPFP ν"
        )
    k0 = ep.k.to(torch.float64).numpy()
    live = stored_pairs(k0, None if ep.beta is None else ep.beta.numpy())
    runs: list[RuleRun] = []
    arrays: list[np.ndarray] = []
    for i, (slot, rule) in enumerate(zip(cfg.slots, rules)):
        label = slot_label(i, slot)
        inputs = compute.run_inputs(cfg.explorer_config(slot), ep, rule)
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
        lo, hi = _eig_range(rule, trace, valid)
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
        runs.append(_softmax_run(f"{len(cfg.slots) + 1}·softmax", ep, cfg.softmax_scale, live))
    # a run that blows up would wash every other rule out of the shared scale: it saturates it instead
    stable = [W for diverged, W in arrays if not diverged] or [W for _, W in arrays]
    return CompareResult(cfg=cfg, tokens=ep.tokens, T=T, runs=tuple(runs), zmax=symmetric_range(*stable))


# ---------------------------------------------------------------------------------------------- capacity
# the experiments are pure, in fwp_core.experiments.capacity; here they are cached per setting for every session
Curve = capacity.Curve
check_capacity_size = capacity.check_size
capacity_sweep = st.cache_data(max_entries=LIMITS.cache_entries, show_spinner=False)(capacity.sweep)
feature_map_sweep = st.cache_data(max_entries=LIMITS.cache_entries, show_spinner=False)(capacity.feature_map_sweep)
recency = st.cache_data(max_entries=LIMITS.cache_entries, show_spinner=False)(capacity.recency)
overwrite_demo = st.cache_data(max_entries=LIMITS.cache_entries, show_spinner=False)(capacity.overwrite_demo)


# ---------------------------------------------------------------------------------------------- forms
@dataclass(frozen=True)
class FormsResult:
    rule: str
    T: int
    chunk_size: int
    recurrent: np.ndarray  # (T, d_v)
    parallel: np.ndarray
    chunked: np.ndarray
    diffs: dict[str, float]  # max |difference| of each pair of forms ("a vs b", fwp_core.forms.FORMS order)
    panels: tuple[tuple[str, str, np.ndarray, str], ...]  # (trace name, title, T×T matrix, x-axis title)
    values: dict[str, np.ndarray]  # V, and the pseudo-values U for delta rules: (T, d_v) each
    chunk_sizes: np.ndarray  # every chunk size tried
    chunk_diffs: np.ndarray  # max |chunked(C) − recurrent| for each
    ssm: np.ndarray | None = None  # (T, d_v) from the SSM scan, where a Mamba2 head computes this rule on these inputs
    ssm_note: str = ""  # why there is no SSM scan ("" where there is one)
    inputs: str = "gaussian"  # the episode: fwp_core.forms.INPUTS
    A: float | None = None  # the SSM's state matrix A (None without the scan)
    dt_range: tuple[float, float] | None = None  # smallest and largest Δ_t the scan ran with
    mapping: tuple[dict[str, Any], ...] = ()  # ssm.NAME_MAP rows with "here": max |FWP − SSM| of that role
    diff_matrix: tuple[tuple[float, ...], ...] = ()  # max |Y_a − Y_b| for every pair of ``outputs`` (0 on the diagonal)

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        """Y of every form that ran, in fwp_core.forms.FORMS order."""
        outs = {"recurrent": self.recurrent, "parallel": self.parallel, "chunked": self.chunked}
        return outs if self.ssm is None else {**outs, "ssm": self.ssm}

    @property
    def largest(self) -> float:
        return max(self.diffs.values(), default=0.0)


@st.cache_data(max_entries=LIMITS.cache_entries, show_spinner=False)
def forms_result(rule: str, T: int, d_k: int, d_v: int, seed: int, beta: float, gate: float, chunk_size: int,
                 window: int = 128, inputs: str | None = None, A: float = MAMBA2_A) -> FormsResult:
    """The recurrence, the parallel form, the chunked form and, where a Mamba2 head is this rule on these inputs,
    the SSM scan, on one episode (float64): ``fwp_core.forms.run_forms``, as arrays for the page's figures."""
    r, ep = forms_core.forms_episode(rule, T, d_k, d_v, seed, beta=beta, gate=gate, inputs=inputs, A=A)
    C = int(min(max(chunk_size, 1), T))
    run = forms_core.run_forms(r, ep, C, forms_core.chunk_grid(T, C))
    form = run.form
    n = min(T, window)
    spec = fwp_core.get_spec(rule)
    gated = ep.gate is not None
    if form.correction is not None:
        A_ = form.attention[:n, :n].numpy()
        corr = form.correction[:n, :n].numpy()
        qk = "QKᵀ ⊙ Γ ⊙ M" if gated else "QKᵀ ⊙ M"
        panels = (
            ("scores", qk, A_, "token s →"),
            ("correction", f"correction T = (I + L)⁻¹ diag {spec.step_symbol}", corr, "token s →"),
            ("product", f"product ({qk}) · T", (form.attention @ form.correction)[:n, :n].numpy(), "token s →"),
        )
        values = {"values V": ep.v[:n].numpy(), "pseudo-values U": form.values[:n].numpy()}
    else:
        plain = spec.family == "additive" and spec.plain_read  # otherwise A folds in more (a normaliser, RLS's C_t⁻¹)
        title = "A = QKᵀ ⊙ " + ("Γ ⊙ " if gated else "") + "M · diag β" if plain else "A, the parallel form's attention"
        if run.head is not None:
            title = "A = QKᵀ ⊙ Γ ⊙ M · diag β = (L ⊙ C Bᵀ) · diag Δ"
        panels = (("attention", title, form.attention[:n, :n].numpy(), "token s →"),)
        values = {"values V": form.values[:n].numpy()}
    outs = {name: y.numpy() for name, y in run.outputs.items()}
    head = run.head
    return FormsResult(
        rule=rule, T=T, chunk_size=run.chunk_size, recurrent=outs["recurrent"], parallel=outs["parallel"],
        chunked=outs["chunked"], diffs=dict(run.diffs), panels=panels, values=values, chunk_sizes=np.array(run.chunk_sizes),
        chunk_diffs=np.array(run.chunk_diffs), ssm=outs.get("ssm"), ssm_note=run.ssm_note,
        inputs=inputs or forms_core.input_choices(rule)[0], A=None if head is None else float(head["A"]),
        dt_range=None if head is None else (float(head["dt"].min()), float(head["dt"].max())), mapping=run.mapping,
        diff_matrix=tuple(tuple(row) for row in run.difference_matrix()),
    )


FORM_COMPLEXITY: dict[str, str] = {
    "recurrent": "O(T·d_k·d_v) work in T sequential steps; O(d_k·d_v) state",
    "parallel": "O(T²·(d_k + d_v)) work, all at once (delta rules add an O(T³) triangular solve); O(T²) memory",
    "chunked": "O(T·C·(d_k + d_v) + T·d_k·d_v) work in T/C sequential steps (delta rules add O(T·C²)); O(C² + d_k·d_v) per chunk",
    "ssm": "O(T·P·N) work in T sequential steps over h (P = d_v, N = d_k); O(P·N) state: the recurrence, written as an SSM",
}


def forms_of(rule: str) -> tuple[str, ...]:
    """The forms the Forms page computes for a rule on its first choice of inputs (the SSM scan where it exists)."""
    three = ("recurrent", "parallel", "chunked")
    return (*three, "ssm") if rule in forms_core.ssm_rule_names() else three


def time_forms(
    rule: str, Ts: tuple[int, ...], *, d_k: int = 64, d_v: int = 64, chunk_size: int = 64, reps: int = 3,
    progress: Callable[[float, str], None] | None = None,
) -> list[dict[str, Any]]:
    """Measured seconds of each form (best of ``reps`` after one warm-up, float32, CPU) for every T in Ts, on the
    rule's first choice of inputs (the SSM scan too where it exists). ``progress(fraction, text)`` is called after
    each measurement. No Streamlit here."""
    forms = forms_of(rule)

    def calls(T: int) -> dict[str, Callable[[], Any]]:
        r, ep = forms_core.forms_episode(rule, int(T), d_k, d_v, 0, beta=0.5, gate=0.9, dtype=torch.float32)
        q, k, v, kw = ep.q, ep.k, ep.v, ep.run_kwargs()
        out = {
            "recurrent": lambda: r.run(q, k, v, **kw),
            "parallel": lambda: r.parallel(q, k, v, **kw),
            "chunked": lambda: r.chunked(q, k, v, chunk_size=chunk_size, **kw),
        }
        if "ssm" in forms:
            head = fwp_ssm.fwp_as_mamba2(q, k, v, ep.beta, ep.gate)
            out["ssm"] = lambda: fwp_ssm.mamba2_scan(**head)
        return out

    with torch.no_grad():  # warm every code path once before anything is timed
        for call in calls(min(Ts)).values():
            call()
    rows: list[dict[str, Any]] = []
    total = len(Ts) * len(forms)
    done = 0
    for T in Ts:
        fns = calls(int(T))
        for name in forms:
            with torch.no_grad():
                fns[name]()
                best = float("inf")
                for _ in range(reps):
                    t0 = time.perf_counter()
                    fns[name]()
                    best = min(best, time.perf_counter() - t0)
            rows.append({"T": int(T), "form": name, "seconds": best})
            done += 1
            if progress is not None:
                progress(done / total, f"{name} form at T = {T}: {best * 1e3:.1f} ms")
    return rows
