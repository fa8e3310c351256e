"""The one table of rules: name → class, hyper-parameters with defaults and ranges, LaTeX, forms.

Pickers in the app, the tests and the README table are generated from ``RULES``; nothing else in the
project lists rule names.
"""

from __future__ import annotations

import math
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

    @property
    def has_parallel(self) -> bool:
        return self.cls._parallel is not Rule._parallel

    @property
    def gate_kind(self) -> str | None:
        return self.cls.gate_kind

    @property
    def substeps(self) -> bool:
        return self.cls.substeps

    def all_hparams(self) -> tuple[HParam, ...]:
        common = tuple(
            HParam(**{**h.__dict__, "default": self.defaults[h.name]}) if h.name in self.defaults else h for h in COMMON
        )
        return common + self.hparams


_GAMMA = HParam("gamma", 0.9, "float", 0.0, 1.0, low_open=True, help="constant decay γ")
_EPS = HParam("eps", 1e-6, "float", 0.0, 1.0, low_open=True, help="ε in the normaliser")

RULES: dict[str, RuleSpec] = {
    spec.name: spec
    for spec in (
        RuleSpec(
            "hebbian", Hebbian, "Hebbian (additive)", "the vanilla FWP is unnormalised linear attention",
            r"W_t = W_{t-1} + \beta_t\, v_t \phi(k_t)^\top",
            r"Y = (QK^\top \odot M)\,\mathrm{diag}(\beta)\,V",
        ),
        RuleSpec(
            "linear_attention", LinearAttention, "Linear attention (normalised)", "the normalised linear transformer",
            r"W_t = W_{t-1} + \beta_t v_t \phi(k_t)^\top,\; z_t = z_{t-1} + \beta_t \phi(k_t),\; "
            r"y_t = \frac{W_t \phi(q_t)}{z_t^\top \phi(q_t) + \varepsilon}",
            r"Y = \mathrm{rownorm}\big((QK^\top \odot M)\,\mathrm{diag}(\beta)\big)\,V",
            hparams=(_EPS,), defaults={"feature_map": "elu1"},
            read_latex=r"\frac{W_{t-1}\phi(k_t)}{z_{t-1}^\top \phi(k_t) + \varepsilon}",
        ),
        RuleSpec(
            "decay", Decay, "Decay (constant γ)", "fixed forgetting (RetNet)",
            r"W_t = \gamma\, W_{t-1} + \beta_t v_t \phi(k_t)^\top",
            r"A_{ts} = \gamma^{t-s} \beta_s\, q_t \cdot k_s",
            hparams=(_GAMMA,),
        ),
        RuleSpec(
            "gated", Gated, "Gated (scalar α_t)", "selective forgetting (Mamba2, mLSTM without normaliser)",
            r"W_t = \alpha_t W_{t-1} + \beta_t v_t \phi(k_t)^\top",
            r"A_{ts} = \Big(\prod_{r=s+1}^{t} \alpha_r\Big) \beta_s\, q_t \cdot k_s",
        ),
        RuleSpec(
            "gla", GLA, "Gated linear attention (per channel)", "per-channel forgetting (GLA)",
            r"W_t = W_{t-1}\,\mathrm{diag}(a_t) + \beta_t v_t \phi(k_t)^\top",
            r"A_{ts} = \beta_s \sum_j q_{tj} k_{sj} \prod_{r=s+1}^{t} a_{rj}",
        ),
        RuleSpec(
            "delta", Delta, "Delta rule (DeltaNet)", "error-correcting writes: one SGD step on ½‖W k_t − v_t‖²",
            r"W_t = W_{t-1} + \beta_t \big(v_t - W_{t-1}\phi(k_t)\big)\phi(k_t)^\top",
            r"U = (I + \mathrm{tril}_{-1}(\mathrm{diag}(\beta) K K^\top))^{-1}\mathrm{diag}(\beta) V,\; Y = (QK^\top \odot M)\,U",
            defaults={"normalize": "l2"}, family="delta",
        ),
        RuleSpec(
            "gated_delta", GatedDelta, "Gated delta rule", "forgetting and correcting together (Gated DeltaNet)",
            r"W_t = \alpha_t W_{t-1} + \beta_t \big(v_t - \alpha_t W_{t-1}\phi(k_t)\big)\phi(k_t)^\top",
            r"U = (I + \mathrm{tril}_{-1}(\mathrm{diag}(\beta)(KK^\top \odot \Gamma)))^{-1}\mathrm{diag}(\beta)V,\; Y = (QK^\top \odot \Gamma \odot M)\,U",
            defaults={"normalize": "l2"}, family="delta",
        ),
        RuleSpec(
            "delta_product", DeltaProduct, "DeltaProduct (n_h sub-steps)", "n_h generalised Householder factors per token (projections at β = 1, reflections at β = 2)",
            r"W_{t,j} = W_{t,j-1} + \beta_{t,j}\big(v_{t,j} - W_{t,j-1}\phi(k_{t,j})\big)\phi(k_{t,j})^\top,\; j = 1..n_h",
            r"\text{delta over the interleaved sub-steps, read every } n_h\text{-th output}",
            defaults={"normalize": "l2"}, family="delta",
        ),
        RuleSpec(
            "longhorn", Longhorn, "Longhorn (implicit delta)", "the implicit (proximal) step; never overshoots",
            r"W_t = W_{t-1} + \varepsilon_t \big(v_t - W_{t-1}\phi(k_t)\big)\phi(k_t)^\top,\; \varepsilon_t = \frac{\beta_t}{1 + \beta_t \|\phi(k_t)\|^2}",
            r"\text{delta form with } \varepsilon_t \text{ in place of } \beta_t",
            family="delta", step_symbol="ε",
        ),
        RuleSpec(
            "rls", RLS, "Recursive least squares (Mesa)", "the optimal linear memory",
            r"P_t = P_{t-1} - \frac{\beta_t P_{t-1}k_t k_t^\top P_{t-1}}{1 + \beta_t k_t^\top P_{t-1} k_t},\; W_t = W_{t-1} + \beta_t (v_t - W_{t-1}k_t)(P_t k_t)^\top",
            r"W_t = \Big(\sum_{i\le t} \beta_i v_i k_i^\top\Big)\Big(\sum_{i\le t} \beta_i k_i k_i^\top + \lambda I\Big)^{-1}",
            hparams=(HParam("ridge", 1e-3, "float", 0.0, 1e6, low_open=True, help="ridge λ, P_0 = I/λ"),),
            family="other",
        ),
        RuleSpec(
            "oja", Oja, "Oja's rule", "a self-normalising Hebbian rule from neuroscience",
            r"W_t = W_{t-1} + \beta_t\, v_t \big(\phi(k_t) - W_{t-1}^\top v_t\big)^\top",
            None, family="other",
        ),
        RuleSpec(
            "titans", Titans, "Titans (momentum + forgetting)", "surprise with momentum and forgetting",
            r"S_t = \eta S_{t-1} - \theta_t (W_{t-1}k_t - v_t)k_t^\top,\; W_t = (1-\alpha_t) W_{t-1} + S_t",
            None,
            hparams=(
                HParam("momentum", 0.6, "float", 0.0, 1.0, high_open=True, help="momentum η"),
                HParam("lr", 0.3, "float", 0.0, 1e3, help="learning rate θ (β overrides it per token)"),
                HParam("forget", 0.02, "float", 0.0, 1.0, help="forgetting α (a gate overrides 1 − α)"),
            ),
            defaults={"normalize": "l2"}, family="other",
        ),
    )
}


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
