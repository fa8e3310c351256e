"""Each page's parameter table and the configuration it builds (``app.pagestate.PageState``): the one place where a
page's URL parameters, their defaults and bounds are written. Widgets take their defaults and bounds from here, the
page and its lessons build their configurations with the same ``config`` call.

    EXPLORER, COMPARE, CAPACITY, FORMS, PROGRAMMER, BIOLOGY; STATES[page]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import fwp_core
from fwp_core import forms as forms_core
from fwp_core import programmer as prog
from fwp_core.experiments import capacity, compare
from fwp_core.experiments.explorer import DEFAULT_RULE, ExplorerConfig
from fwp_core.metrics import KEY_TYPES
from fwp_core.registry import resolve_hparams
from fwp_core.sequences import MAMBA2_A, SOURCES

from .pagestate import PageState, Param, hparams_of, rule_params
from .state import LIMITS, STEP

SEED_MAX = 2**31 - 1
BETA_SCHEDULES: tuple[str, ...] = ("constant", "ramp", "random")
SEQUENCE_CHOICES: tuple[str, ...] = (*SOURCES, "upload")
# the Explorer's views of step t, one tab each (only the open one is drawn, so a step redraws one chart)
EXPLORER_VIEWS: tuple[str, ...] = ("Fast weights", "Attention form", "Retrieval error", "Equations", "All views")
DEFAULT_TEXT = "the cat sat on the mat and the dog sat on the cat"


def _fm_seed(name: str) -> str:
    return "fm_seed" if name == "seed" else name  # the Explorer's own seed is the episode's


# ---------------------------------------------------------------------------------------------- Explorer
def _explorer_table(v: Mapping[str, Any]) -> Iterator[Param]:
    yield Param("rule", "choice", DEFAULT_RULE, choices=tuple(fwp_core.rule_names()))
    yield Param("sequence", "choice", "overwrite", choices=SEQUENCE_CHOICES)
    yield Param("T", "int", 16, 1, LIMITS.max_T)
    yield Param("d_k", "int", 8, 1, LIMITS.max_d)
    yield Param("d_v", "int", 8, 1, LIMITS.max_d)
    yield Param("seed", "int", 0, 0, SEED_MAX)
    yield Param("beta", "float", 1.0, 0.0, 3.0)
    yield STEP
    yield Param("schedule", "choice", "constant", choices=BETA_SCHEDULES)
    yield Param("gate", "float", 0.9, 0.0, 1.0)
    yield Param("rho", "float", 0.5, 0.0, 0.99)
    yield Param("view", "choice", EXPLORER_VIEWS[0], choices=EXPLORER_VIEWS)
    yield Param("text", "text", DEFAULT_TEXT, max_len=LIMITS.max_text_chars)
    yield from rule_params(v.get("rule", DEFAULT_RULE), v, _fm_seed)


def _explorer_relate(v: dict[str, Any]) -> list[str]:
    if v["t"] > v["T"]:
        t, v["t"] = v["t"], v["T"]
        return [f"t={t} is beyond T={v['T']}; showing the last step."]
    return []


def clamped_T(sequence: str, T: int, d_k: int) -> int:
    """T, or d_k where the sequence needs T ≤ d_k (orthogonal keys)."""
    source = SOURCES.get(sequence)
    return d_k if source is not None and source.max_T_is_d_k and T > d_k else T


def _explorer_config(v: Mapping[str, Any], *, device: str = "cpu", upload_digest: str = "") -> ExplorerConfig:
    rule = v["rule"]
    spec = fwp_core.get_spec(rule)
    seq = v["sequence"]
    d = EXPLORER.defaults()
    return ExplorerConfig(
        rule=rule, hparams=tuple(sorted(hparams_of(rule, v, _fm_seed).items())), sequence=seq,
        T=clamped_T(seq, v["T"], v["d_k"]), d_k=v["d_k"], d_v=v["d_v"], seed=v["seed"], beta=v["beta"],
        schedule=v["schedule"], gate=v["gate"] if spec.needs_gate else d["gate"],
        rho=v["rho"] if seq == "correlated" else d["rho"], text=v["text"] if seq == "text" else d["text"],
        device=device, upload_digest=upload_digest,
    )


EXPLORER: PageState[ExplorerConfig] = PageState("explorer", _explorer_table, _explorer_config, _explorer_relate)


# ---------------------------------------------------------------------------------------------- Compare
COMPARE_RULES = ("hebbian", "delta", "decay", "gated_delta")
"""The rule of each of the four comparison slots before anyone picks one."""


def slot_key(i: int) -> Any:
    return lambda name: f"cmp{i}_{name}"


def _compare_table(v: Mapping[str, Any]) -> Iterator[Param]:
    rules = tuple(fwp_core.rule_names())
    yield Param("cmp_n", "int", 2, 2, compare.MAX_RULES)
    yield Param("cmp_seq", "choice", "overwrite", choices=tuple(SOURCES))
    yield Param("cmp_T", "int", 12, 1, LIMITS.max_T)
    yield Param("cmp_dk", "int", 16, 1, LIMITS.max_d)
    yield Param("cmp_dv", "int", 8, 1, LIMITS.max_d)
    yield Param("cmp_seed", "int", 0, 0, SEED_MAX)
    yield replace(STEP, name="cmp_t", default=12)
    yield Param("cmp_rho", "float", 0.5, 0.0, 0.99)
    yield Param("cmp_text", "text", DEFAULT_TEXT, max_len=LIMITS.max_text_chars)
    yield Param("cmp_softmax", "bool", False)
    yield Param("cmp_sm_scale", "float", 10.0, 0.1, 1000.0)
    for i in range(1, compare.MAX_RULES + 1):
        rule = v.get(f"cmp{i}_rule", COMPARE_RULES[i - 1])
        yield Param(f"cmp{i}_rule", "choice", COMPARE_RULES[i - 1], choices=rules)
        yield Param(f"cmp{i}_beta", "float", 1.0, 0.0, 3.0)
        yield Param(f"cmp{i}_sched", "choice", "constant", choices=BETA_SCHEDULES)
        yield Param(f"cmp{i}_gate", "float", 0.9, 0.0, 1.0)
        if i <= v.get("cmp_n", 2):
            yield from rule_params(rule, v, slot_key(i))


def _compare_config(v: Mapping[str, Any]) -> compare.CompareConfig:
    d = COMPARE.defaults()
    slots = []
    for i in range(1, v["cmp_n"] + 1):
        rule = v[f"cmp{i}_rule"]
        hp = resolve_hparams(rule, **hparams_of(rule, v, slot_key(i)))
        gate = v[f"cmp{i}_gate"] if fwp_core.get_spec(rule).needs_gate else d[f"cmp{i}_gate"]
        slots.append(compare.Slot(rule=rule, hparams=tuple(sorted(hp.items())), beta=v[f"cmp{i}_beta"],
                                  schedule=v[f"cmp{i}_sched"], gate=gate))
    seq = v["cmp_seq"]
    return compare.CompareConfig(
        slots=tuple(slots), sequence=seq, T=v["cmp_T"], d_k=v["cmp_dk"], d_v=v["cmp_dv"], seed=v["cmp_seed"],
        rho=v["cmp_rho"] if seq == "correlated" else d["cmp_rho"], text=v["cmp_text"] if seq == "text" else "",
        softmax=v["cmp_softmax"], softmax_scale=v["cmp_sm_scale"] if v["cmp_softmax"] else d["cmp_sm_scale"],
    )


def compare_values(cfg: compare.CompareConfig, t: int | None = None) -> dict[str, Any]:
    """The Compare page's URL values that build ``cfg`` (a preset's), shown at step ``t`` (None: the last)."""
    values: dict[str, Any] = {"cmp_n": len(cfg.slots)}
    for i, s in enumerate(cfg.slots, start=1):
        values[f"cmp{i}_rule"] = s.rule
        hp = dict(s.hparams)
        for p in rule_params(s.rule, {slot_key(i)(k): x for k, x in hp.items()}, slot_key(i)):
            values[p.name] = hp.get(p.hparam.name, p.default)
        values.update({f"cmp{i}_beta": float(s.beta), f"cmp{i}_sched": s.schedule, f"cmp{i}_gate": float(s.gate)})
    values.update(cmp_seq=cfg.sequence, cmp_T=cfg.T, cmp_dk=cfg.d_k, cmp_dv=cfg.d_v, cmp_seed=cfg.seed,
                  cmp_softmax=cfg.softmax, cmp_sm_scale=float(cfg.softmax_scale), cmp_t=t or cfg.T)
    if cfg.sequence == "correlated":
        values["cmp_rho"] = cfg.rho
    if cfg.sequence == "text":
        values["cmp_text"] = cfg.text
    return values


COMPARE: PageState[compare.CompareConfig] = PageState("compare", _compare_table, _compare_config)


# ---------------------------------------------------------------------------------------------- Capacity
CAPACITY_RULES = ("hebbian", "delta", "rls")
RECENCY_MULTS = (0.5, 1, 2, 4)
RECENCY_REFERENCE = "delta"  # always in the error-by-age chart, as a reference


@dataclass(frozen=True)
class CapacitySettings:
    """The Capacity page's settings; ``common()`` are the keyword arguments every experiment of the page shares."""

    rules: tuple[str, ...]
    d_k: int
    d_v: int
    seeds: int
    seed: int
    key_type: str
    rho: float
    beta: float
    gate: float
    fm_rule: str
    rec_mult: float
    ow_beta: float

    @property
    def n_max(self) -> int:
        """The capacity sweep's largest N."""
        return 4 * self.d_k

    @property
    def recency_n(self) -> int:
        """How many pairs the error-by-age chart writes: cap_rec_mult·d_k."""
        return max(1, int(round(self.rec_mult * self.d_k)))

    @property
    def recency_rules(self) -> tuple[str, ...]:
        """The error-by-age chart's rules: the chosen ones, and the reference (delta) always."""
        return tuple(dict.fromkeys((*self.rules, RECENCY_REFERENCE)))

    def common(self) -> dict[str, Any]:
        return dict(d_k=self.d_k, d_v=self.d_v, key_type=self.key_type, rho=self.rho, beta=self.beta, gate=self.gate,
                    seed=self.seed)


def _capacity_table(v: Mapping[str, Any]) -> Iterator[Param]:
    rules = tuple(capacity.capacity_rule_names())
    yield Param("cap_rules", "multi", list(CAPACITY_RULES), choices=rules, max_len=capacity.MAX_RULES)
    yield Param("cap_dk", "int", 32, 2, LIMITS.max_d)
    yield Param("cap_dv", "int", 32, 1, LIMITS.max_d)
    yield Param("cap_seeds", "int", 16, 1, capacity.MAX_SEEDS)
    yield Param("cap_seed", "int", 0, 0, SEED_MAX)
    yield Param("cap_keys", "choice", "random", choices=KEY_TYPES)
    yield Param("cap_rho", "float", 0.5, 0.0, 0.95)
    yield Param("cap_beta", "float", 1.0, 0.0, 2.0)
    yield Param("cap_gate", "float", 0.95, 0.5, 1.0)
    yield Param("cap_fm_rule", "choice", CAPACITY_RULES[0], choices=rules)
    yield Param("cap_rec_mult", "float", 2, choices=RECENCY_MULTS)
    yield Param("cap_ow_beta", "float", 1.0, 0.0, 2.0)


def _capacity_config(v: Mapping[str, Any]) -> CapacitySettings:
    return CapacitySettings(
        rules=tuple(v["cap_rules"]), d_k=v["cap_dk"], d_v=v["cap_dv"], seeds=v["cap_seeds"], seed=v["cap_seed"],
        key_type=v["cap_keys"], rho=v["cap_rho"] if v["cap_keys"] == "correlated" else 0.5, beta=v["cap_beta"],
        gate=v["cap_gate"], fm_rule=v["cap_fm_rule"], rec_mult=float(v["cap_rec_mult"]), ow_beta=v["cap_ow_beta"],
    )


CAPACITY: PageState[CapacitySettings] = PageState("capacity", _capacity_table, _capacity_config)


# ---------------------------------------------------------------------------------------------- Forms
FORMS_A_RANGE = (-4.0, -0.05)


@dataclass(frozen=True)
class FormsSettings:
    rule: str
    T: int
    d_k: int
    d_v: int
    seed: int
    beta: float
    gate: float
    chunk_size: int
    inputs: str
    A: float

    def run_args(self) -> dict[str, Any]:
        """The arguments of ``fwp_core.experiments.forms.run_forms`` (cached as ``app.cache.forms_result``)."""
        return dict(rule=self.rule, T=self.T, d_k=self.d_k, d_v=self.d_v, seed=self.seed, beta=self.beta, gate=self.gate,
                    chunk_size=self.chunk_size, inputs=self.inputs, A=self.A)


def _forms_table(v: Mapping[str, Any]) -> Iterator[Param]:
    rules = tuple(forms_core.form_rule_names())
    yield Param("forms_rule", "choice", DEFAULT_RULE, choices=rules)
    yield Param("forms_T", "int", 16, 1, LIMITS.max_T)
    yield Param("forms_dk", "int", 8, 1, LIMITS.max_d)
    yield Param("forms_dv", "int", 8, 1, LIMITS.max_d)
    yield Param("forms_seed", "int", 0, 0, SEED_MAX)
    yield Param("forms_beta", "float", 1.0, 0.0, 2.0)
    yield Param("forms_gate", "float", 0.9, 0.5, 1.0)
    yield Param("forms_C", "int", min(4, v.get("forms_T", 16)), 1, max(v.get("forms_T", 16), 2))
    # the widget holds the inputs' name, the URL its title (what the widget shows): either is allowed
    choices = forms_core.input_choices(v.get("forms_rule", DEFAULT_RULE))
    yield Param("forms_inputs", "choice", choices[0], choices=(*choices, *(forms_core.INPUT_TITLES[c] for c in choices)))
    yield Param("forms_A", "float", MAMBA2_A, *FORMS_A_RANGE)


def _forms_config(v: Mapping[str, Any]) -> FormsSettings:
    rule, T = v["forms_rule"], v["forms_T"]
    by_title = {title: key for key, title in forms_core.INPUT_TITLES.items()}
    inputs = by_title.get(v["forms_inputs"], v["forms_inputs"])
    mamba = inputs == "mamba2"
    d = FORMS.defaults(v)
    gate = v["forms_gate"] if fwp_core.get_spec(rule).gate_kind is not None and not mamba else d["forms_gate"]
    return FormsSettings(rule=rule, T=T, d_k=v["forms_dk"], d_v=v["forms_dv"], seed=v["forms_seed"],
                         beta=d["forms_beta"] if mamba else v["forms_beta"], gate=gate, chunk_size=min(v["forms_C"], T),
                         inputs=inputs, A=v["forms_A"] if mamba else d["forms_A"])


FORMS: PageState[FormsSettings] = PageState("forms", _forms_table, _forms_config)


# ---------------------------------------------------------------------------------------------- Programmer
PROGRAMMER_BETA_RANGES = {"0-1": (0, 1), "0-2": (0, 2)}
"""The Programmer's β ranges: β = sigmoid(·) or 2·sigmoid(·)."""


def _programmer_table(v: Mapping[str, Any]) -> Iterator[Param]:
    tasks = tuple(prog.task_names())
    task = v.get("prog_task", "parity")
    kind = v.get("prog_kind", prog.KINDS[0])
    yield Param("prog_task", "choice", "parity", choices=tasks)
    yield Param("prog_kind", "choice", prog.KINDS[0], choices=tuple(prog.KINDS))
    yield Param("prog_rule", "choice", DEFAULT_RULE, choices=tuple(prog.rules_for(kind)))
    yield Param("prog_beta", "choice", "0-2", choices=tuple(PROGRAMMER_BETA_RANGES))
    yield Param("prog_steps", "int", int(prog.get_task(task).defaults.get("steps", 1000)), 10, prog.MAX_STEPS)
    yield Param("prog_seed", "int", 0, 0, SEED_MAX)
    yield Param("prog_bits", "text", "0110100111010011", max_len=prog.MAX_TRAIN_LENGTH * 4)


PROGRAMMER: PageState[None] = PageState("programmer", _programmer_table)


# ---------------------------------------------------------------------------------------------- Biology
def _biology_table(v: Mapping[str, Any]) -> Iterator[Param]:
    from .biology_view.common import KV_RULES, SIMS  # the simulations' titles live with their views

    yield Param("bio_sim", "choice", "Three-factor", choices=tuple(SIMS))
    # three-factor learning
    yield Param("bio_delay", "int", 2, 0, 15)
    yield Param("bio_lambda", "float", 0.7, 0.0, 1.0)
    yield Param("bio_interval", "int", 10, 2, 20)
    yield Param("bio_rewarded", "multi", [2, 5], choices=(1, 2, 3, 4, 5, 6))
    # Oja
    yield Param("bio_lr", "float", 0.005, 0.001, 0.1)
    yield Param("bio_steps", "int", 600, 50, 3000)
    yield Param("bio_lam1", "float", 3.0, 0.5, 5.0)
    yield Param("bio_lam2", "float", 0.2, 0.1, 5.0)
    yield Param("bio_init", "float", 0.3, 0.1, 2.0)
    # short-term plasticity
    yield Param("bio_tau_f", "float", 1.5, 0.1, 5.0)
    yield Param("bio_tau_d", "float", 0.2, 0.05, 2.0)
    yield Param("bio_U", "float", 0.2, 0.05, 1.0)
    yield Param("bio_rate", "int", 20, 5, 50)
    yield Param("bio_clear", "float", 6.0, 1.5, 8.0)
    # BTSP
    yield Param("bio_plateau", "int", 100, 0, 180)
    yield Param("bio_speed", "int", 20, 5, 60)
    yield Param("bio_tau_e", "float", 1.66, 0.5, 4.0)
    yield Param("bio_laps", "int", 20, 1, 100)
    yield Param("bio_second", "bool", False)
    yield Param("bio_prior", "int", 40, 0, 180)
    # key-value memory
    yield Param("bio_similarity", "float", 0.9, 0.0, 0.99)
    yield Param("bio_kv_rule", "choice", KV_RULES[0], choices=KV_RULES)


BIOLOGY: PageState[None] = PageState("biology", _biology_table)

# ---------------------------------------------------------------------------------------------- Language
LANGUAGE_SENTENCE = ("The delta rule reads what the memory holds for a key and writes the difference. The delta rule "
                     "reads what the memory holds.")
"""The sentence the Language page reads on arrival: its second half repeats words of the first, which a memory of
the context can copy."""
LANGUAGE_TEXT_CHARS = 400


def _language_table(v: Mapping[str, Any]) -> Iterator[Param]:
    from fwp_core import language as lm  # torch-only, loaded with the page that needs it
    from fwp_core.language import pretrain

    rules = tuple(n for n in lm.mixer_names() if n != lm.SOFTMAX)
    shipped = tuple(e.rule for e in pretrain.SHIPPED if e.rule != lm.SOFTMAX)
    yield Param("lang_rules", "multi", list(shipped), choices=rules, max_len=4)
    yield Param("lang_softmax", "bool", True)
    yield Param("lang_steps", "int", lm.DEFAULTS["steps"], 10, 5000)
    yield Param("lang_seed", "int", 0, 0, SEED_MAX)
    yield Param("lang_source", "choice", "corpus", choices=("corpus", "your text"))
    yield Param("lang_text", "text", LANGUAGE_SENTENCE, max_len=LANGUAGE_TEXT_CHARS)
    yield Param("lang_t", "int", 60, 1, LANGUAGE_TEXT_CHARS)


LANGUAGE: PageState[None] = PageState("language", _language_table)

STATES: dict[str, PageState[Any]] = {s.page: s for s in (EXPLORER, COMPARE, CAPACITY, FORMS, PROGRAMMER, BIOLOGY, LANGUAGE)}
