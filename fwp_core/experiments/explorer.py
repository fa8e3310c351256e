"""The Explorer's experiment, pure (no Streamlit, no Plotly): a configuration → its episode → the rule's trace, its
parallel form and what the page's views draw. ``app.cache`` caches it per configuration.

    cfg = ExplorerConfig(rule="delta", sequence="overwrite", T=16, beta=1.0)
    res = run_explorer(cfg)            # res.trace (Trace), res.form, res.panels, res.local
    res.trace.retrieval_error          # (T,)

Every function raises ``ValueError`` with a message fit for the page when the configuration cannot be run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from .. import metrics
from ..registry import get_spec, make_rule
from ..rules.base import Rule
from ..sequences import MAX_UPLOAD_BYTES, Episode, make_episode, parse_upload
from ..trace import ParallelForm, Trace

DEFAULT_RULE = "delta"
"""The rule a page shows before anyone picks one."""


@dataclass(frozen=True)
class UploadLimits:
    """What an uploaded sequence may be (the app passes its own limits)."""

    max_bytes: int = MAX_UPLOAD_BYTES
    max_T: int = 1024
    max_d: int = 128


def symmetric_range(*arrays: np.ndarray) -> float:
    """max |x| over the finite entries of all arrays (1 when there are none or all are 0): one colour range."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a, dtype=float)
        finite = a[np.isfinite(a)]
        if finite.size:
            m = max(m, float(np.abs(finite).max()))
    return m if m > 0 else 1.0


@dataclass(frozen=True)
class ExplorerConfig:
    """Everything that determines the Explorer's trace; plain values so it can key a cache."""

    rule: str = DEFAULT_RULE
    hparams: tuple[tuple[str, Any], ...] = ()
    sequence: str = "overwrite"
    T: int = 16
    d_k: int = 8
    d_v: int = 8
    seed: int = 0
    beta: float = 1.0
    schedule: str = "constant"  # constant, ramp (β·t/T) or random (uniform in [0, β], seeded)
    gate: float = 0.9  # constant gate for rules that take one (GLA: a per-channel ramp from gate to 1)
    rho: float = 0.5
    text: str = ""
    device: str = "cpu"
    upload_digest: str = ""  # sha256 of the uploaded file, so a new upload recomputes


def available_devices() -> list[str]:
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def digest(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest()[:16] if data else ""


def build_episode(cfg: ExplorerConfig, upload: tuple[str, bytes] | None = None, *,
                  limits: UploadLimits = UploadLimits()) -> Episode:
    """The episode of the configuration (an upload overrides T, d_k and d_v)."""
    if cfg.sequence == "upload":
        if upload is None:
            raise ValueError("choose a CSV or NPZ file to upload (arrays k, v and optional q, beta, gate)")
        name, data = upload
        return parse_upload(name, data, max_bytes=limits.max_bytes, max_T=limits.max_T, max_d=limits.max_d)
    params: dict[str, Any] = dict(T=cfg.T, d_k=cfg.d_k, d_v=cfg.d_v, seed=cfg.seed, rho=cfg.rho)
    if cfg.sequence == "text":
        params = dict(text=cfg.text, d_k=cfg.d_k, d_v=cfg.d_v, seed=cfg.seed)
    return make_episode(cfg.sequence, **params)


def beta_schedule(cfg: ExplorerConfig, T: int) -> torch.Tensor:
    """β_t for t = 1..T from the chosen schedule."""
    if cfg.schedule == "constant":
        return torch.full((T,), float(cfg.beta), dtype=torch.float64)
    if cfg.schedule == "ramp":
        return float(cfg.beta) * torch.arange(1, T + 1, dtype=torch.float64) / T
    if cfg.schedule == "random":
        g = torch.Generator().manual_seed(int(cfg.seed) + 104729)
        return float(cfg.beta) * torch.rand(T, generator=g, dtype=torch.float64)
    raise ValueError(f"unknown β schedule {cfg.schedule!r}; allowed: constant, ramp, random")


def run_inputs(cfg: ExplorerConfig, ep: Episode, rule: Rule) -> dict[str, Any]:
    """q, k, v, beta, gate for ``rule`` on ``ep``, on the configured device, float32."""
    spec = get_spec(cfg.rule)
    dev = torch.device(cfg.device)
    T = ep.T
    beta = beta_schedule(cfg, T)
    if ep.beta is not None:
        beta = beta * ep.beta.to(torch.float64)  # the recall task's reads have β = 0
    k, v = ep.k, ep.v
    if spec.substeps:  # rules with sub-steps: two per token, the second writes a shifted copy
        k = torch.stack([k, torch.roll(k, 1, dims=-1)], dim=-2)
        v = torch.stack([v, torch.roll(v, 1, dims=-1)], dim=-2)
        beta = torch.stack([beta, beta], dim=-1)
    gate = None
    if ep.gate is not None and spec.gate_kind is not None:
        gate = ep.gate
    elif spec.needs_gate:  # a constant gate from the slider (a gate that a hyper-parameter fixes needs none)
        d_phi = rule.phi.out_dim(ep.k.shape[-1])
        if spec.gate_kind == "channel":
            gate = torch.linspace(float(cfg.gate), 1.0, d_phi, dtype=torch.float64).expand(T, d_phi)
        else:
            gate = torch.full((T,), float(cfg.gate), dtype=torch.float64)
    f32 = dict(dtype=torch.float32, device=dev)
    return dict(
        q=ep.q.to(**f32), k=k.to(**f32), v=v.to(**f32), beta=beta.to(**f32), gate=None if gate is None else gate.to(**f32)
    )


@dataclass(frozen=True)
class LocalLosses:
    """The local objective around every write: ``before[t−1]`` = ℓ_t(W_{t−1}), ``after[t−1]`` = ℓ_t(W_t) for t = 1..T
    (``Rule.local_losses``; float64, NaN from a divergence on)."""

    before: np.ndarray  # (T,)
    after: np.ndarray  # (T,)

    def raised(self) -> np.ndarray:
        """(T,) bool: the write raised ℓ_t, by more than the float32 rounding of the stored W_t."""
        tol = 1e-6 * (np.abs(self.before) + np.abs(self.after)) + 1e-9
        return self.after - self.before > tol

    def raised_fraction(self, t: int) -> float:
        """The share of the finite steps s ≤ t whose write raised ℓ_s (NaN where there is none)."""
        ok = np.isfinite(self.before[:t]) & np.isfinite(self.after[:t])
        return float(self.raised()[:t][ok].mean()) if ok.any() else float("nan")


def local_losses_of(rule: Rule, trace: Trace) -> LocalLosses | None:
    """ℓ_t before and after each write of a single-sequence trace, or None where the rule's registry entry names no
    objective (``RuleSpec.objective``)."""
    if get_spec(trace.rule).objective is None:
        return None
    with torch.no_grad():
        before, after = rule.local_losses(trace)
    return LocalLosses(before=before.cpu().numpy(), after=after.cpu().numpy())


def local_losses(cfg: ExplorerConfig) -> LocalLosses | None:
    """``local_losses_of`` for the configuration's run (the Compare page's rules: the same inputs as
    ``compare.run_compare``), without the Explorer's parallel form and figures."""
    rule = make_rule(cfg.rule, **dict(cfg.hparams))
    inputs = run_inputs(cfg, build_episode(cfg), rule)
    with torch.no_grad():
        trace = rule.run(inputs["q"], inputs["k"], inputs["v"], beta=inputs["beta"], gate=inputs["gate"])
    return local_losses_of(rule, trace)


@dataclass(frozen=True)
class ExplorerResult:
    """What the Explorer page draws; tensors are on the CPU."""

    cfg: ExplorerConfig
    tokens: tuple[str, ...]
    trace: Trace
    form: ParallelForm | None
    parallel_outputs: np.ndarray | None  # (T, d_v)
    zmax: float  # one colour range for the weights figure over all valid steps
    T: int
    panels: dict[str, Any]  # the attention view's matrices and labels (see attention_panels)
    local: LocalLosses | None = None  # ℓ_t(W_{t−1}) and ℓ_t(W_t) at every step; None: the rule names no objective

    @property
    def valid(self) -> int:
        return self.trace.valid_steps


def _cpu(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if isinstance(x, dict):
        return {k: _cpu(v) for k, v in x.items()}
    return x


def run_explorer(cfg: ExplorerConfig, upload: tuple[str, bytes] | None = None, *, limits: UploadLimits = UploadLimits()) -> ExplorerResult:
    """Run the configured rule on its episode (recurrent and, where one exists, parallel form)."""
    rule = make_rule(cfg.rule, **dict(cfg.hparams))
    ep = build_episode(cfg, upload, limits=limits)
    inputs = run_inputs(cfg, ep, rule)
    with torch.no_grad():
        trace = rule.run(inputs["q"], inputs["k"], inputs["v"], beta=inputs["beta"], gate=inputs["gate"])
        form = rule.parallel(inputs["q"], inputs["k"], inputs["v"], beta=inputs["beta"], gate=inputs["gate"]) if rule.has_parallel else None
    trace = Trace(**{f: _cpu(getattr(trace, f)) for f in Trace.__dataclass_fields__})
    if form is not None:
        form = ParallelForm(**{f: _cpu(getattr(form, f)) for f in ParallelForm.__dataclass_fields__})
    valid = trace.valid_steps
    W = trace.weights[: valid + 1].numpy()
    zmax = symmetric_range(W, trace.updates[:valid].numpy(), trace.values[:valid].numpy(), trace.retrieved[:valid].numpy(),
                           trace.outputs[:valid].numpy(), trace.keys[:valid].numpy(), trace.queries[:valid].numpy())
    return ExplorerResult(
        cfg=cfg, tokens=ep.tokens, trace=trace, form=form,
        parallel_outputs=None if form is None else form.outputs.numpy(), zmax=zmax, T=ep.T,
        panels=attention_panels(trace, form, cfg.rule), local=local_losses_of(rule, trace),
    )


def attention_panels(trace: Trace, form: ParallelForm | None, rule: str) -> dict[str, Any]:
    """The attention view's matrices, as keyword arguments of ``figures.attention_figure``; with W_0 = 0:

    * delta-type rules (``form.correction`` set): ``attention`` A = QKᵀ ⊙ Γ ⊙ M (Γ_ts = α_{s+1}⋯α_t the gate's
      decay, left out without a gate; ``gated`` says which), ``correction`` T = (I + L)⁻¹ diag(step) with
      ``step`` the registry's ``step_symbol`` (β, or Longhorn's ε_t = β_t/(1 + β_t‖φ(k_t)‖²)), ``pseudo_values``
      U = T V and ``contributions`` C = A T, so that Y = A U = C V: row t of C is what each value v_s gives y_t;
    * other rules with a parallel form: ``attention`` A with β, decay, normaliser folded in, Y = A V, so A is
      already the contribution matrix over the values;
    * no parallel form, or DeltaProduct (whose form runs over T·n_h interleaved sub-steps): only the token-level
      ``scores`` QKᵀ ⊙ M (DeltaProduct: first sub-step keys; ``substeps`` says so).

    A diverged run is cut before its first bad step (the matrices are lower triangular, so the top-left block of
    A T is the product of the blocks)."""
    n = trace.valid_steps
    spec = get_spec(rule)
    if form is None or spec.substeps:
        return dict(scores=torch.tril(trace.queries[:n] @ trace.token_keys[:n].T).numpy(), substeps=spec.substeps)
    A = form.attention[:n, :n]
    if form.correction is None:
        return dict(attention=A.numpy())
    corr = form.correction[:n, :n]
    return dict(attention=A.numpy(), correction=corr.numpy(), pseudo_values=form.values[:n].numpy(),
                contributions=(A.double() @ corr.double()).numpy(), gated=trace.gate is not None, step=spec.step_symbol)


def eigenvalues_at(result: ExplorerResult, t: int) -> np.ndarray | None:
    """Eigenvalues of step t's transition, or None where they are not finite."""
    rule = make_rule(result.cfg.rule, **dict(result.cfg.hparams))
    ev = metrics.transition_eigenvalues(rule, result.trace, t).numpy()
    return ev if np.isfinite(ev).all() else None


def explain_divergence(result: ExplorerResult) -> str:
    """Words for a diverged run: where, why (the transition's eigenvalues), and what fixes it."""
    trace = result.trace
    s = trace.diverged_at
    rule = make_rule(result.cfg.rule, **dict(result.cfg.hparams))
    kn = float(torch.linalg.vector_norm(trace.token_keys[s - 1]))
    b = float(trace.beta[s - 1].reshape(-1)[0])
    worst = None
    for t in range(1, s + 1):
        ev = metrics.transition_eigenvalues(rule, trace, t)
        if torch.isfinite(ev).all():
            mag = float(ev.abs().max())
            if worst is None or mag > worst[0]:
                worst = (mag, t, float(ev.real[torch.argmax(ev.abs())]))
    why = ""
    if worst is not None and worst[0] > 1:
        why = (f" Step {worst[1]}'s transition has an eigenvalue λ ≈ {worst[2]:.3g} with |λ| > 1, so each such write "
               "multiplies part of the memory by more than 1 and the state grows geometrically.")
    spec = get_spec(result.cfg.rule)
    detail = ""
    if spec.family == "delta":
        detail = (f" Here ‖φ(k_{s})‖ = {kn:.3g} and β_{s} = {b:.3g}: the delta transition I − β k kᵀ has the eigenvalue "
                  f"1 − β‖k‖² = {1 - b * kn * kn:.3g}, which must stay in [−1, 1]. Normalising keys (‖k‖ = 1) keeps it at "
                  "1 − β ∈ [−1, 1] for β ∈ [0, 2].")
    elif spec.family == "other":
        detail = f" At step {s}, β_{s} = {b:.3g}: this rule is only stable for small enough write strengths."
    return f"The fast weights blew up at step {s} (non-finite or exploding), so steps from {s} on are not shown.{why}{detail}"


BETA_FIXES = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)


def suggest_fix(cfg: ExplorerConfig, upload: tuple[str, bytes] | None = None, *,
                run: Callable[..., ExplorerResult] = run_explorer) -> tuple[str, float] | None:
    """The smallest change that keeps the run finite: unit keys (l2) and the largest β ≤ min(β, 1) from
    ``BETA_FIXES`` that does not diverge, or None if nothing in that list helps. ``run``: how to run a
    configuration (the app passes its cached runner)."""
    for beta in (b for b in BETA_FIXES if b <= max(min(cfg.beta, 1.0), BETA_FIXES[-1])):
        hp = dict(cfg.hparams)
        hp["normalize"] = "l2"
        trial = replace(cfg, beta=beta, hparams=tuple(sorted(hp.items())))
        if run(trial, upload).trace.diverged_at is None:
            return "l2", beta
    return None
