"""The one table of rules: name → class, hyper-parameters with defaults and ranges, LaTeX, forms.

Pickers in the app, the tests and the README table are generated from ``RULES``; nothing else in the
project lists rule names, and what the app says or draws about a rule (its gate, its forms, its family) is
read from its ``RuleSpec``. A new rule needs its module and one entry: ``register(spec)`` (or, for a test,
``with registered(spec): ...``) adds one to the table at run time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .features import FEATURE_MAPS, NORMALIZATIONS
from .rules.additive import GLA, Decay, Gated, Hebbian, LinearAttention
from .rules.base import Rule
from .rules.delta import Delta, DeltaProduct, GatedDelta, Longhorn
from .rules.oja import Oja
from .rules.rls import RLS
from .rules.titans import Titans


@dataclass(frozen=True)
class HParam:
    """One hyper-parameter: its default and the values allowed."""

    name: str
    default: Any
    kind: str  # "float", "int" or "choice"
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: low itself is not allowed
    high_open: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    fixes_gate: bool = False  # True: this value fixes the rule's gate (decay's γ), so no gate is asked for

    def allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} in {'(' if self.low_open or self.low is None else '['}{lo}, {hi}{')' if self.high_open or self.high is None else ']'}"

    def validate(self, value: Any) -> Any:
        """Return the value in canonical type, or raise ValueError saying what is allowed."""
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"{self.name}={value!r} is not allowed; {self.name} must be {self.allowed()}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
            raise ValueError(f"{self.name}={value!r} is not allowed; {self.name} must be {self.allowed()}")
        try:
            x = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{self.name}={value!r} is not allowed; {self.name} must be {self.allowed()}") from exc
        if not math.isfinite(x) or (self.kind == "int" and x != int(x)):
            raise ValueError(f"{self.name}={value!r} is not allowed; {self.name} must be {self.allowed()}")
        too_low = self.low is not None and (x < self.low or (self.low_open and x == self.low))
        too_high = self.high is not None and (x > self.high or (self.high_open and x == self.high))
        if too_low or too_high:
            raise ValueError(f"{self.name}={value!r} is out of range; {self.name} must be {self.allowed()}")
        return int(x) if self.kind == "int" else x


COMMON: tuple[HParam, ...] = (
    HParam("feature_map", "identity", "choice", choices=FEATURE_MAPS,
           help="φ applied to keys and queries; favor = FAVOR+ (orthogonal positive random features, Choromanski et al. 2021)"),
    HParam("normalize", "none", "choice", choices=NORMALIZATIONS, help="normalisation after φ"),
    HParam("scale", 1.0, "float", 0.0, 1e6, low_open=True, help="multiplies φ(q)"),
    HParam("nu", 1, "int", 1, 8, help="DPFP order ν (d_phi = 2·d_k·ν)"),
    HParam("m", 64, "int", 1, 4096,
           help="number m of FAVOR+ random features (orthogonal positive random features, Choromanski et al. 2021)"),
    HParam("seed", 0, "int", 0, 2**31 - 1, help="seed of the FAVOR+ orthogonal random projection"),
)


@dataclass(frozen=True)
class Objective:
    """The local objective a rule's step works on: "stay close to the old state" against "fit the new pair".

    ``loss`` / ``loss_latex`` is the per-token fit term ℓ_t(W) (``Rule.local_loss``), ``kind`` the kind of step the
    write takes on it and ``step_latex`` that step as an equation (tests/core/test_local_objectives.py checks each)."""

    loss: str  # ℓ_t(W) in plain text, for tables
    loss_latex: str  # ℓ_t(W) in LaTeX
    kind: str  # the kind of step, a few words
    step_latex: str  # the write as a step on ℓ_t, in LaTeX


_HEBB = r"\ell_t(W) = -\langle W\phi(k_t),\, v_t\rangle"
_SQ = r"\ell_t(W) = \tfrac12\|W\phi(k_t) - v_t\|^2"
_GRAD = r"W_t = W_{t-1} - \beta_t \nabla\ell_t(W_{t-1})"


def _proximal(old: str) -> str:
    return rf"W_t = \arg\min_W\, \tfrac12\|W - {old}\|_F^2 + \beta_t\, \ell_t(W)"


@dataclass(frozen=True)
class RuleSpec:
    """Everything the project knows about one rule."""

    name: str
    cls: type[Rule]
    title: str
    teaches: str
    step_latex: str
    parallel_latex: str | None
    hparams: tuple[HParam, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)  # overrides of COMMON defaults
    family: str = "additive"  # "additive", "delta" or "other": which matrices the app shows
    read_latex: str = r"W_{t-1}\phi(k_t)"  # the read r_t before the write (``Rule.read``); indices _{t-1} and k_t
    step_symbol: str = "β"  # delta family: the per-token step the correction (I + L)⁻¹ diag(·) folds in
    step_help: str = ""  # what ``step_symbol`` stands for where it is not β
    chunk_latex: str | None = None  # the chunkwise form, where the family's generic one (``chunked_latex``) is not it
    objective: Objective | None = None  # the local objective the step works on (``Rule.local_loss``); None: none named

    @property
    def objective_latex(self) -> str | None:
        """ℓ_t(W), the fit term the step works on, in LaTeX (None where the entry names none)."""
        return None if self.objective is None else self.objective.loss_latex

    @property
    def step_kind(self) -> str | None:
        """The kind of step the write takes on ℓ_t, a few words (None where the entry names no objective)."""
        return None if self.objective is None else self.objective.kind

    @property
    def has_parallel(self) -> bool:
        return self.cls.has_parallel

    @property
    def gate_kind(self) -> str | None:
        return self.cls.gate_kind

    @property
    def substeps(self) -> bool:
        return self.cls.substeps

    @property
    def plain_read(self) -> bool:
        """Whether the memory is read as W φ(k), with no normaliser (``Rule.read`` not overridden)."""
        return self.cls.read is Rule.read

    @property
    def gate_hparam(self) -> HParam | None:
        """The hyper-parameter that fixes the rule's gate (``HParam.fixes_gate``: decay's γ), or None."""
        return next((h for h in self.hparams if h.fixes_gate), None)

    @property
    def needs_gate(self) -> bool:
        """Whether the rule decays by a gate that no hyper-parameter fixes, so the caller gives one (per token, or
        a constant from a slider); without one it does not decay. False for rules without a gate and for those
        whose gate a hyper-parameter fixes (decay, titans)."""
        return self.gate_kind is not None and self.gate_hparam is None

    @property
    def chunked_latex(self) -> str:
        """The chunkwise form (chunk c of C tokens, S the state between chunks): ``chunk_latex`` where the entry
        gives one, otherwise the additive or delta family's form, with decays where the rule has a gate."""
        if self.chunk_latex is not None:
            return self.chunk_latex
        decays = r"\quad(\text{with decays } \Gamma,\ b)" if self.gate_kind is not None else ""
        if self.family == "delta":
            return (r"\text{chunk } c\text{: } U_c = T_c (V_c - K_c S^\top),\; Y_c = Q_c S^\top + (Q_c K_c^\top \odot M) U_c,\; "
                    r"S \leftarrow S + U_c^\top K_c" + decays)
        if self.family == "additive":
            return (r"\text{chunk } c\text{: } Y_c = Q_c S^\top + (Q_c K_c^\top \odot M)\,\mathrm{diag}(\beta_c) V_c,\; "
                    r"S \leftarrow S + V_c^\top \mathrm{diag}(\beta_c) K_c" + decays)
        return r"\text{chunk } c\text{: the recurrence from chunk to chunk, the parallel form inside each chunk}"

    def all_hparams(self) -> tuple[HParam, ...]:
        common = tuple(
            HParam(**{**h.__dict__, "default": self.defaults[h.name]}) if h.name in self.defaults else h for h in COMMON
        )
        return common + self.hparams


_GAMMA = HParam("gamma", 0.9, "float", 0.0, 1.0, low_open=True, help="constant decay γ", fixes_gate=True)
_EPS = HParam("eps", 1e-6, "float", 0.0, 1.0, low_open=True, help="ε in the normaliser")

RULES: dict[str, RuleSpec] = {
    spec.name: spec
    for spec in (
        RuleSpec(
            "hebbian", Hebbian, "Hebbian (additive)", "the vanilla FWP is unnormalised linear attention",
            r"W_t = W_{t-1} + \beta_t\, v_t \phi(k_t)^\top",
            r"Y = (QK^\top \odot M)\,\mathrm{diag}(\beta)\,V",
            objective=Objective("−⟨Wφ(k_t), v_t⟩", _HEBB, "explicit gradient step", _GRAD),
        ),
        RuleSpec(
            "linear_attention", LinearAttention, "Linear attention (normalised)", "the normalised linear transformer",
            r"W_t = W_{t-1} + \beta_t v_t \phi(k_t)^\top,\; z_t = z_{t-1} + \beta_t \phi(k_t),\; "
            r"y_t = \frac{W_t \phi(q_t)}{z_t^\top \phi(q_t) + \varepsilon}",
            r"Y = \mathrm{rownorm}\big((QK^\top \odot M)\,\mathrm{diag}(\beta)\big)\,V",
            hparams=(_EPS,), defaults={"feature_map": "elu1"},
            read_latex=r"\frac{W_{t-1}\phi(k_t)}{z_{t-1}^\top \phi(k_t) + \varepsilon}",
            chunk_latex=r"\text{chunk } c\text{: } Y_c = \frac{Q_c S^\top + (Q_c K_c^\top \odot M)\,\mathrm{diag}(\beta_c) V_c}"
                        r"{Q_c z + (Q_c K_c^\top \odot M)\,\beta_c + \varepsilon},\; S \leftarrow S + V_c^\top \mathrm{diag}(\beta_c) K_c,\; "
                        r"z \leftarrow z + K_c^\top \beta_c",
            objective=Objective("−⟨Wφ(k_t), v_t⟩ (W before normalising)", _HEBB, "explicit gradient step (on W)", _GRAD),
        ),
        RuleSpec(
            "decay", Decay, "Decay (constant γ)", "fixed forgetting (RetNet)",
            r"W_t = \gamma\, W_{t-1} + \beta_t v_t \phi(k_t)^\top",
            r"A_{ts} = \gamma^{t-s} \beta_s\, q_t \cdot k_s",
            hparams=(_GAMMA,),
            objective=Objective("−⟨Wφ(k_t), v_t⟩", _HEBB, "proximal step from γW_{t−1}", _proximal(r"\gamma W_{t-1}")),
        ),
        RuleSpec(
            "gated", Gated, "Gated (scalar α_t)", "selective forgetting (Mamba2, mLSTM without normaliser)",
            r"W_t = \alpha_t W_{t-1} + \beta_t v_t \phi(k_t)^\top",
            r"A_{ts} = \Big(\prod_{r=s+1}^{t} \alpha_r\Big) \beta_s\, q_t \cdot k_s",
            objective=Objective("−⟨Wφ(k_t), v_t⟩", _HEBB, "proximal step from α_tW_{t−1}", _proximal(r"\alpha_t W_{t-1}")),
        ),
        RuleSpec(
            "gla", GLA, "Gated linear attention (per channel)", "per-channel forgetting (GLA)",
            r"W_t = W_{t-1}\,\mathrm{diag}(a_t) + \beta_t v_t \phi(k_t)^\top",
            r"A_{ts} = \beta_s \sum_j q_{tj} k_{sj} \prod_{r=s+1}^{t} a_{rj}",
            objective=Objective("−⟨Wφ(k_t), v_t⟩", _HEBB, "proximal step, per-channel decay a_t",
                                _proximal(r"W_{t-1}\mathrm{diag}(a_t)")),
        ),
        RuleSpec(
            "delta", Delta, "Delta rule (DeltaNet)", "error-correcting writes: one SGD step on ½‖W k_t − v_t‖²",
            r"W_t = W_{t-1} + \beta_t \big(v_t - W_{t-1}\phi(k_t)\big)\phi(k_t)^\top",
            r"U = (I + \mathrm{tril}_{-1}(\mathrm{diag}(\beta) K K^\top))^{-1}\mathrm{diag}(\beta) V,\; Y = (QK^\top \odot M)\,U",
            objective=Objective("½‖Wφ(k_t) − v_t‖²", _SQ, "explicit gradient step", _GRAD),
            defaults={"normalize": "l2"}, family="delta",
        ),
        RuleSpec(
            "gated_delta", GatedDelta, "Gated delta rule", "forgetting and correcting together (Gated DeltaNet)",
            r"W_t = \alpha_t W_{t-1} + \beta_t \big(v_t - \alpha_t W_{t-1}\phi(k_t)\big)\phi(k_t)^\top",
            r"U = (I + \mathrm{tril}_{-1}(\mathrm{diag}(\beta)(KK^\top \odot \Gamma)))^{-1}\mathrm{diag}(\beta)V,\; Y = (QK^\top \odot \Gamma \odot M)\,U",
            objective=Objective("½‖Wφ(k_t) − v_t‖²", _SQ, "explicit gradient step from α_tW_{t−1}",
                                r"W_t = \alpha_t W_{t-1} - \beta_t \nabla\ell_t(\alpha_t W_{t-1})"),
            defaults={"normalize": "l2"}, family="delta",
        ),
        RuleSpec(
            "delta_product", DeltaProduct, "DeltaProduct (n_h sub-steps)", "n_h generalised Householder factors per token (projections at β = 1, reflections at β = 2)",
            r"W_{t,j} = W_{t,j-1} + \beta_{t,j}\big(v_{t,j} - W_{t,j-1}\phi(k_{t,j})\big)\phi(k_{t,j})^\top,\; j = 1..n_h",
            r"\text{delta over the interleaved sub-steps, read every } n_h\text{-th output}",
            objective=Objective(
                "Σ_j ½‖Wφ(k_t,j) − v_t,j‖²", r"\ell_t(W) = \sum_{j=1}^{n_h} \ell_{t,j}(W),\; "
                r"\ell_{t,j}(W) = \tfrac12\|W\phi(k_{t,j}) - v_{t,j}\|^2", "n_h explicit gradient steps, one per sub-step",
                r"W_{t,j} = W_{t,j-1} - \beta_{t,j} \nabla\ell_{t,j}(W_{t,j-1}),\; W_{t,0} = \alpha_t W_{t-1},\; W_t = W_{t,n_h}"),
            defaults={"normalize": "l2"}, family="delta",
        ),
        RuleSpec(
            "longhorn", Longhorn, "Longhorn (implicit delta)", "the implicit (proximal) step; never overshoots",
            r"W_t = W_{t-1} + \varepsilon_t \big(v_t - W_{t-1}\phi(k_t)\big)\phi(k_t)^\top,\; \varepsilon_t = \frac{\beta_t}{1 + \beta_t \|\phi(k_t)\|^2}",
            r"\text{delta form with } \varepsilon_t \text{ in place of } \beta_t",
            objective=Objective("½‖Wφ(k_t) − v_t‖²", _SQ, "implicit (proximal) gradient step",
                                r"W_t = W_{t-1} - \beta_t \nabla\ell_t(W_t) = \arg\min_W\, \tfrac12\|W - W_{t-1}\|_F^2 + \beta_t\, \ell_t(W)"),
            family="delta", step_symbol="ε",
            step_help="ε_t = β_t/(1 + β_t‖φ(k_t)‖²), the implicit step this rule takes in place of β_t (in L too)",
        ),
        RuleSpec(
            "rls", RLS, "Recursive least squares (Mesa)", "the optimal linear memory",
            r"P_t = P_{t-1} - \frac{\beta_t P_{t-1}k_t k_t^\top P_{t-1}}{1 + \beta_t k_t^\top P_{t-1} k_t},\; W_t = W_{t-1} + \beta_t (v_t - W_{t-1}k_t)(P_t k_t)^\top",
            r"W_t = \Big(\sum_{i\le t} \beta_i v_i k_i^\top\Big)\Big(\sum_{i\le t} \beta_i k_i k_i^\top + \lambda I\Big)^{-1}",
            hparams=(HParam("ridge", 1e-3, "float", 0.0, 1e6, low_open=True, help="ridge λ, P_0 = I/λ"),),
            objective=Objective("½‖Wφ(k_t) − v_t‖²", _SQ, "exact minimiser over every pair so far",
                                r"W_t = \arg\min_W\, \sum_{i \le t} \beta_i\, \ell_i(W) + \tfrac{\lambda}{2}\|W - W_0\|_F^2"),
            family="other",
            chunk_latex=r"\text{chunk } c\text{: } C_i = C + \sum_{j \le i} \beta_j k_j k_j^\top,\; S_i = S + \sum_{j \le i} \beta_j v_j k_j^\top,\; "
                        r"y_i = S_i C_i^{-1} q_i,\; (C, S) \leftarrow (C_C, S_C)",
        ),
        RuleSpec(
            "oja", Oja, "Oja's rule", "a self-normalising Hebbian rule from neuroscience",
            r"W_t = W_{t-1} + \beta_t\, v_t \big(\phi(k_t) - W_{t-1}^\top v_t\big)^\top",
            None, family="other",
            objective=Objective("−⟨Wφ(k_t), v_t⟩", _HEBB, "Hebbian gradient step plus a normalising decay",
                                r"W_t = W_{t-1} - \beta_t \nabla\ell_t(W_{t-1}) - \beta_t v_t v_t^\top W_{t-1}"),
        ),
        RuleSpec(
            "titans", Titans, "Titans (momentum + forgetting)", "surprise with momentum and forgetting",
            r"S_t = \eta S_{t-1} - \theta_t (W_{t-1}k_t - v_t)k_t^\top,\; W_t = (1-\alpha_t) W_{t-1} + S_t",
            None,
            hparams=(
                HParam("momentum", 0.6, "float", 0.0, 1.0, high_open=True, help="momentum η"),
                HParam("lr", 0.3, "float", 0.0, 1e3, help="learning rate θ (β overrides it per token)"),
                HParam("forget", 0.02, "float", 0.0, 1.0, help="forgetting α (a gate overrides 1 − α)", fixes_gate=True),
            ),
            defaults={"normalize": "l2"}, family="other",
            objective=Objective("½‖Wφ(k_t) − v_t‖²", _SQ, "gradient step with momentum η and decay α",
                                r"S_t = \eta S_{t-1} - \theta_t \nabla\ell_t(W_{t-1}),\; W_t = (1 - \alpha_t) W_{t-1} + S_t"),
        ),
    )
}


def check_spec(spec: RuleSpec) -> RuleSpec:
    """The spec, or ValueError where its entry contradicts its class or the common hyper-parameters."""
    where = f"rule {spec.name!r}"
    if not isinstance(spec.name, str) or not spec.name.isidentifier():
        raise ValueError(f"{where}: a rule name must be a Python identifier (it goes into URLs and file names)")
    if not (isinstance(spec.cls, type) and issubclass(spec.cls, Rule)):
        raise ValueError(f"{where}: cls must be a subclass of fwp_core.Rule, got {spec.cls!r}")
    if spec.family not in FAMILIES:
        raise ValueError(f"{where}: family must be one of {', '.join(FAMILIES)}, got {spec.family!r}")
    if spec.gate_kind not in (None, "scalar", "channel"):
        raise ValueError(f"{where}: gate_kind must be None, 'scalar' or 'channel', got {spec.gate_kind!r}")
    names = [h.name for h in spec.all_hparams()]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: hyper-parameter names repeat: {', '.join(sorted(n for n in set(names) if names.count(n) > 1))}")
    unknown = sorted(set(spec.defaults) - {h.name for h in COMMON})
    if unknown:
        raise ValueError(f"{where}: defaults may only override the common hyper-parameters, not {', '.join(unknown)}")
    fixing = [h.name for h in spec.hparams if h.fixes_gate]
    if len(fixing) > 1:
        raise ValueError(f"{where}: at most one hyper-parameter fixes the gate, got {', '.join(fixing)}")
    if fixing and spec.gate_kind is None:
        raise ValueError(f"{where}: {fixing[0]} fixes a gate, but {spec.cls.__name__} has no gate_kind")
    if bool(fixing) != (spec.cls._hparam_gate is not Rule._hparam_gate):
        raise ValueError(f"{where}: a hyper-parameter marked fixes_gate and {spec.cls.__name__}._hparam_gate go together")
    if spec.objective is not None and not spec.cls.has_local_loss:
        raise ValueError(f"{where}: the entry names an objective, but {spec.cls.__name__} has no local_loss")
    if spec.has_parallel != (spec.parallel_latex is not None):
        raise ValueError(f"{where}: parallel_latex must be given exactly when {spec.cls.__name__} has a parallel form")
    return spec


FAMILIES: tuple[str, ...] = ("additive", "delta", "other")
for _spec in RULES.values():
    check_spec(_spec)


def register(spec: RuleSpec) -> RuleSpec:
    """Add a rule to the table (after the built-in ones): every picker, page and generated table offers it from
    then on. ValueError if the name is taken or the entry contradicts its class."""
    check_spec(spec)
    if spec.name in RULES:
        raise ValueError(f"a rule named {spec.name!r} is already registered")
    RULES[spec.name] = spec
    return spec


def unregister(name: str) -> RuleSpec:
    """Remove a rule added by ``register`` (the built-in rules stay)."""
    if name in _BUILT_IN:
        raise ValueError(f"{name!r} is a built-in rule; only rules added by register() can be removed")
    if name not in RULES:
        raise ValueError(f"no rule named {name!r} is registered")
    return RULES.pop(name)


@contextmanager
def registered(spec: RuleSpec) -> Iterator[RuleSpec]:
    """``with registered(spec): ...``: the rule is in the table inside the block only (for tests)."""
    register(spec)
    try:
        yield spec
    finally:
        unregister(spec.name)


_BUILT_IN = frozenset(RULES)


def rule_names(parallel: bool | None = None) -> list[str]:
    """Every registered rule (``parallel=True``: only those with a parallel form)."""
    return [n for n, s in RULES.items() if parallel is None or s.has_parallel == parallel]


def get_spec(name: str) -> RuleSpec:
    if not isinstance(name, str) or name not in RULES:
        raise ValueError(f"unknown rule {name!r}; known rules: {', '.join(RULES)}")
    return RULES[name]


def resolve_hparams(name: str, **hparams: Any) -> dict[str, Any]:
    """Defaults filled in and every value checked against its range."""
    spec = get_spec(name)
    known = {h.name: h for h in spec.all_hparams()}
    unknown = sorted(set(hparams) - set(known))
    if unknown:
        raise ValueError(f"unknown hyper-parameter(s) {', '.join(unknown)} for rule {name!r}; allowed: {', '.join(known)}")
    return {key: h.validate(hparams.get(key, h.default)) for key, h in known.items()}


def make_rule(name: str, **hparams: Any) -> Rule:
    """A rule with resolved hyper-parameters: ``make_rule("delta", feature_map="elu1")``."""
    spec = get_spec(name)
    return spec.cls(name, resolve_hparams(name, **hparams))


def rules_markdown() -> str:
    """The README's table of rules, generated from the registry (a test keeps the README in sync)."""
    lines = ["| rule | what it teaches | parallel form | gate | hyper-parameters (default) |", "|---|---|---|---|---|"]
    for name, spec in RULES.items():
        own = ", ".join(f"`{h.name}`={h.default:g}" if h.kind != "choice" else f"`{h.name}`={h.default}" for h in spec.hparams)
        changed = ", ".join(f"`{k}`={v}" for k, v in spec.defaults.items())
        hp = ", ".join(x for x in (own, changed) if x) or "—"
        lines.append(f"| `{name}` | {spec.teaches} | {'yes' if spec.has_parallel else 'no'} | {spec.gate_kind or '—'} | {hp} |")
    return "\n".join(lines)
