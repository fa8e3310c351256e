r"""One model, several computations: the forms of one rule on one episode, compared pair by pair.

Every rule with a parallel form that writes one key per token (``form_rule_names``) has three: the recurrence
(``Rule.run``), the parallel form — one causal attention matrix, for a gated rule the semiseparable matrix
``Γ ⊙ QKᵀ ⊙ M · diag β`` — (``Rule.parallel``) and the chunked form (``Rule.chunked``). The rules a Mamba2 head *is*
(``ssm_rule_names``: additive writes, one scalar gate per token and the plain read W q; run with identity φ, no
normalisation and scale 1) have a fourth: the SSM scan ``ssm.mamba2_scan`` over h, on the same inputs translated
back by ``ssm.fwp_as_mamba2`` (x = v, B = k, C = q, Δ = β, and the one A with α_t = exp(Δ_t A)). That translation
exists only where the gates are tied to the write strengths by one A: a ``"mamba2"`` episode (made from a Mamba2
head, ``sequences.mamba2_episode``) always, a ``"gaussian"`` episode with a constant β and a constant gate (the
``decay`` rule: Δ = β, A = ln γ / β) too, a Gaussian episode with data-dependent gates drawn apart from β never —
``FormsRun.ssm_note`` then says why.

    rule, ep = forms_episode("gated", T=16, d_k=8, d_v=8, seed=0, inputs="mamba2")
    run = run_forms(rule, ep, chunk_size=4)
    run.outputs["ssm"], run.diffs["recurrent vs ssm"], run.mapping

Everything is computed in the episode's dtype (the Forms page: float64). Never imports Streamlit or Plotly.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from . import ssm
from .registry import get_spec, make_rule, rule_names
from .rules.base import Rule
from .sequences import MAMBA2_A, Episode, _gen, mamba2_episode, random_episode
from .trace import ParallelForm, Trace

FORMS: tuple[str, ...] = ("recurrent", "parallel", "chunked", "ssm")
"""Every form, in the order the pages show them (``ssm`` only for the rules a Mamba2 head is)."""
FORM_TITLES: dict[str, str] = {"recurrent": "recurrence", "parallel": "parallel (attention) form",
                               "chunked": "chunked form", "ssm": "SSM scan"}
INPUTS: tuple[str, ...] = ("mamba2", "gaussian")
"""Where the Forms episode comes from: a random Mamba2 head, or Gaussian q, k, v with a β and gates of one's choosing."""
INPUT_TITLES: dict[str, str] = {"mamba2": "Mamba2 head", "gaussian": "Gaussian"}
AGREE = 1e-9
"""The float64 agreement every pair of forms reaches, relative to max(1, max |y|) (the Forms page's tests hold it)."""
SSM_PHI = {"feature_map": "identity", "normalize": "none", "scale": 1.0}
"""The feature map a Mamba2 head reads and writes with: B and C enter as they are."""


def form_rule_names() -> list[str]:
    """Rules with every form but perhaps the SSM scan: a parallel (and so a chunked) form that writes one key per
    token (a rule with sub-steps runs its parallel form over T·n_h interleaved sub-steps)."""
    return [n for n in rule_names(parallel=True) if not get_spec(n).substeps]


def _spec_blocker(name: str) -> str | None:
    spec = get_spec(name)
    if name not in form_rule_names():
        return f"{name} has no parallel form over its tokens"
    if spec.family != "additive":
        return f"{name}'s writes are not additive ({spec.family} family): an SSM only adds Δ_t x_t B_tᵀ"
    if spec.gate_kind != "scalar":
        what = "no gate" if spec.gate_kind is None else f"a {spec.gate_kind} gate"
        return f"{name} has {what}: an SSM decays its whole state by one number exp(Δ_t A) per token"
    if not spec.plain_read:
        return f"{name} reads its memory through a normaliser: an SSM reads y_t = h_t C_t"
    return None


def ssm_rule_names() -> list[str]:
    """The rules a Mamba2 head is, from the registry: additive family, a scalar gate, the plain read."""
    return [n for n in form_rule_names() if _spec_blocker(n) is None]


def ssm_blocker(rule: Rule) -> str | None:
    """Why the SSM scan cannot compute this rule as configured, or None where it can."""
    why = _spec_blocker(rule.name)
    if why is not None:
        return why
    off = [f"{k} = {rule.hparams[k]!r}" for k, want in SSM_PHI.items() if rule.hparams[k] != want]
    if off:
        return f"{rule.name} runs with {', '.join(off)}: a Mamba2 head uses B and C as they are (identity φ, no normalisation, scale 1)"
    return None


def input_choices(rule: str) -> tuple[str, ...]:
    """The episodes the Forms page offers for a rule. A rule a Mamba2 head is whose gate is data-dependent (``gated``)
    gets the Mamba2 head first: its gates must come from Δ_t and one A for the SSM scan to exist. Every other rule
    runs on Gaussian inputs (``decay``'s constant γ and β are a head with Δ = β, A = ln γ / β already)."""
    spec = get_spec(rule)
    return INPUTS if rule in ssm_rule_names() and spec.needs_gate else ("gaussian",)


def forms_episode(rule: str, T: int, d_k: int, d_v: int, seed: int, *, beta: float = 1.0, gate: float = 0.9,
                  inputs: str | None = None, A: float = MAMBA2_A, dtype: torch.dtype = torch.float64,
                  ) -> tuple[Rule, Episode]:
    """The rule (registry defaults) and the episode of the Forms page.

    ``inputs="mamba2"``: a random Mamba2 head (``sequences.mamba2_episode``: Δ_t = softplus(N(0, 1) − 1), the given
    A; β and gate unused). ``inputs="gaussian"``: Gaussian q, k, v with β_t = ``beta``; a rule whose gate a
    hyper-parameter fixes (decay's γ) gets the constant gate ``gate`` in its place, a rule that needs a gate gets
    data-dependent α_t ~ U(gate, 1) (seeded; per channel for a per-channel gate), so the decay products Γ are not
    constant. None: the rule's first choice (``input_choices``)."""
    names = form_rule_names()
    if rule not in names:
        raise ValueError(f"the Forms page shows the rules with a parallel form ({', '.join(names)}); got {rule!r}")
    choices = input_choices(rule)
    inputs = choices[0] if inputs is None else inputs
    if inputs not in choices:
        raise ValueError(f"{rule}'s forms run on {' or '.join(choices)} inputs, got {inputs!r}")
    spec = get_spec(rule)
    r = make_rule(rule)
    if inputs == "mamba2":
        return r, mamba2_episode(T, d_k, d_v, seed, A=A, dtype=dtype)
    ep = random_episode(T, d_k, d_v, seed, dtype=dtype)
    g = None
    if spec.needs_gate:
        shape = (T, r.phi.out_dim(d_k)) if spec.gate_kind == "channel" else (T,)
        u = torch.rand(shape, generator=_gen(seed + 31337), dtype=torch.float64)
        g = (gate + (1.0 - gate) * u).to(dtype)
    elif spec.gate_kind is not None:  # in place of the constant its hyper-parameter fixes
        g = torch.full((T,), float(gate), dtype=dtype)
    return r, dataclasses.replace(ep, beta=torch.full((T,), float(beta), dtype=dtype), gate=g)


def chunk_grid(T: int, chosen: int) -> list[int]:
    """The chunk sizes the Forms page tries: every C from 1 to T up to T = 64, a spread beyond."""
    if T <= 64:
        return list(range(1, T + 1))
    grid = {1, 2, 3, 4, 5, 7, T, chosen} | {2**i for i in range(3, 11) if 2**i < T} | {T // 3, T // 2}
    return sorted(c for c in grid if 1 <= c <= T)


def _maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max()) if a.numel() else 0.0


@dataclass(frozen=True)
class FormsRun:
    """The forms of one rule on one episode. ``outputs`` holds (T, d_v) per form (``ssm`` only where the scan ran);
    ``diffs`` the max |difference| of every pair ("a vs b", in ``FORMS`` order); ``head`` the x, dt, A, B, C the
    SSM scan ran on (None, and ``ssm_note`` says why, where it did not); ``mapping`` the rows of ``ssm.NAME_MAP``,
    each with ``here``: the max |FWP − SSM| of that role in this run (None without the scan)."""

    rule: str
    episode: Episode
    chunk_size: int
    trace: Trace
    form: ParallelForm
    outputs: dict[str, torch.Tensor]
    diffs: dict[str, float]
    head: dict[str, Any] | None
    ssm_note: str
    chunk_sizes: tuple[int, ...]
    chunk_diffs: tuple[float, ...]
    mapping: tuple[dict[str, Any], ...]

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(self.outputs)

    @property
    def largest(self) -> float:
        """The largest max |difference| over every pair of forms."""
        return max(self.diffs.values(), default=0.0)

    def difference_matrix(self) -> list[list[float]]:
        """max |Y_a − Y_b| for every pair (a, b) of ``forms`` (0 on the diagonal), as nested lists."""
        return [[0.0 if a == b else self.diffs.get(f"{a} vs {b}", self.diffs.get(f"{b} vs {a}", 0.0)) for b in self.forms]
                for a in self.forms]


def _mapping(trace: Trace, form: ParallelForm, y_ssm: torch.Tensor | None, head: dict[str, Any] | None,
             states: torch.Tensor | None) -> tuple[dict[str, Any], ...]:
    here: list[float | None] = [None] * len(ssm.NAME_MAP)
    if head is not None and y_ssm is not None and states is not None:
        x, dt, A, B, C = (head[n] for n in ("x", "dt", "A", "B", "C"))
        semisep = ssm.semiseparable_matrix(dt, A, B, C) * dt[..., None, :]  # (L ⊙ C Bᵀ) · diag Δ
        here = [_maxdiff(trace.weights, states), _maxdiff(trace.keys, B), _maxdiff(trace.queries, C),
                _maxdiff(trace.values, x), _maxdiff(trace.beta, dt), _maxdiff(trace.gate, torch.exp(dt * A)),
                _maxdiff(trace.outputs, y_ssm), _maxdiff(form.attention, semisep)]
    return tuple({"role": role, "FWP": fwp, "linear attention": la, "SSM": s, "here": h}
                 for (role, fwp, la, s), h in zip(ssm.NAME_MAP, here))


def run_forms(rule: Rule, episode: Episode, chunk_size: int, chunk_sizes: Sequence[int] = ()) -> FormsRun:
    """Every form of ``rule`` on ``episode`` (its own β and gate), the chunked form with ``chunk_size`` (clipped
    to 1..T) and again with each of ``chunk_sizes`` against the recurrence. ValueError where the recurrence
    diverges or the rule has no parallel form."""
    if rule.name not in form_rule_names():
        raise ValueError(f"{rule.name} has no parallel form over its tokens; rules with one: {', '.join(form_rule_names())}")
    q, k, v = episode.q, episode.k, episode.v
    kw = episode.run_kwargs()
    T = episode.T
    C = int(min(max(int(chunk_size), 1), T))
    with torch.no_grad():
        trace = rule.run(q, k, v, **kw)
        if trace.diverged_at is not None:
            raise ValueError(f"the recurrence diverged at step {trace.diverged_at}; lower β")
        form = rule.parallel(q, k, v, **kw)
        outputs = {"recurrent": trace.outputs, "parallel": form.outputs,
                   "chunked": rule.chunked(q, k, v, chunk_size=C, **kw)[0]}
        cdiffs = tuple(_maxdiff(rule.chunked(q, k, v, chunk_size=int(c), **kw)[0], trace.outputs) for c in chunk_sizes)
        head, states, note = None, None, ssm_blocker(rule)
        if note is None:
            try:
                head = ssm.fwp_as_mamba2(q, k, v, episode.beta if episode.beta is not None else torch.ones_like(q[..., 0]),
                                         episode.gate)
            except ValueError as exc:
                note = str(exc)
        if head is not None:
            outputs["ssm"], states = ssm.mamba2_run(**head)  # mamba2_scan's outputs, and its states h_t on the way
    diffs = {f"{a} vs {b}": _maxdiff(outputs[a], outputs[b]) for a, b in itertools.combinations(outputs, 2)}
    return FormsRun(rule=rule.name, episode=episode, chunk_size=C, trace=trace, form=form, outputs=outputs, diffs=diffs,
                    head=head, ssm_note=note or "", chunk_sizes=tuple(int(c) for c in chunk_sizes), chunk_diffs=cdiffs,
                    mapping=_mapping(trace, form, outputs.get("ssm"), head, states))
