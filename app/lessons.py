"""Guided lessons: a lesson format kept as data (``lessons/*.yaml``), its validation, the numbers a lesson's text
quotes (computed from fwp_core for the step's URL state, never typed), and the lesson player in the sidebar.

A lesson file::

    id: write-read                      # equals the file name without .yaml
    title: Writing and reading a fast weight
    goal: one sentence: what the student will understand
    steps:
      - title: One write
        page: explorer                  # explorer, compare, capacity, forms, biology or home
        state: {rule: hebbian, sequence: orthogonal, T: 8, t: 1}   # the page's URL parameters at this step;
                                        # a step inherits the state of the step before it on the same page
        look_at: weights                # the highlighted view (a chart key of the page, see VIEWS)
        text: |                         # Markdown with LaTeX; {name} or {name:.2e} is a computed quantity
          The retrieval error is {retrieval_error}.
        claims:                         # optional: every comparison the text states, checked at this step's
          - {quantity: recall_old_1, above: 1.0}   # state (the same checks as expect); tests walk them all
        try:                            # optional
          prompt: Press Step ...        # what the learner does
          state: {t: 2}                 # the same change, applied by the "Show me" button
          expect:                       # what the learner should then see: checks on computed quantities
            - {quantity: retrieval_error, below: 1.0e-6}     # below / above: a number or another quantity
            - {quantity: eig_min, between: [-1, 0]}

URL parameters of the player: ``?lesson=<id>&step=<k>`` (on any page: the player moves to the step's page)
and ``&class=1`` (projection mode: the page's own sidebar controls are hidden, the lesson panel stays).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch
import yaml
from streamlit.errors import StreamlitAPIException

import fwp_core
from fwp_core import metrics
from fwp_core.registry import resolve_hparams

from . import compute, lab
from .compare_presets import DEFAULT_RULES
from .layout import PAGES, ROOT
from .state import EXPLORER_PARAMS, EXPLORER_VIEWS, LIMITS, parse_param, share_url

LESSON_DIR = ROOT / "lessons"
MIN_STEPS, MAX_STEPS = 5, 10
LESSON_PAGES = ("home", "explorer", "compare", "capacity", "forms", "biology")

# The views a step may point at (the chart keys of each page) with the words the player uses for them.
VIEWS: dict[str, dict[str, str]] = {
    "home": {"home_example": "the live write-and-read example"},
    "explorer": {
        "weights": "the fast-weight figure (W before, the update, W after; v, r, y on the right)",
        "attention": "the attention matrix (row t boxed)",
        "retrieval_error": "the retrieval-error curve and the transition's eigenvalues",
        "numbers": "the step's equations with its numbers",
    },
    "compare": {
        "cmp_weights": "the fast weights of every rule, side by side",
        "cmp_retrieval": "the retrieval-error curves",
        "cmp_recall": "the recall errors of the stored pairs",
    },
    "capacity": {
        "capacity": "the capacity curve (recall error against N)",
        "cap_features": "the feature-map comparison",
        "cap_recency": "the error-by-age curve",
        "cap_overwrite": "the overwrite demo",
    },
    "forms": {
        "forms_outputs": "the outputs of the three forms",
        "forms_matrices": "the matrices inside the parallel form",
        "forms_values": "the values V and pseudo-values U",
        "forms_chunks": "the chunk-size plot",
    },
    "biology": {},
}

# the Explorer draws one view at a time, in tabs: a step that points at a view opens its tab
EXPLORER_TABS = dict(zip(VIEWS["explorer"], EXPLORER_VIEWS))

_FLOAT_KEY = re.compile(r"(beta|gate|rho|gamma|scale|lr|momentum|forget|ridge|eps|lambda|lam\d|init|tau_\w+|similarity|U)$")


# ================================================================================================ state keys
def _hparam_kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for name in fwp_core.rule_names():
        for h in fwp_core.get_spec(name).all_hparams():
            kinds[h.name] = h.kind
    return kinds


HPARAM_KINDS = _hparam_kinds()
EXPLORER_KEYS = frozenset(EXPLORER_PARAMS) | frozenset(HPARAM_KINDS) | {"fm_seed"}
_PAGE_KEY = {
    "compare": re.compile(r"^cmp\d?_"),
    "capacity": re.compile(r"^cap_"),
    "forms": re.compile(r"^forms_"),
    "biology": re.compile(r"^bio_"),
}
_NOT_STATE = re.compile(r"(preset|fix_|_reset$|_back$|_step$|speed|timings|measure|playing)")


def is_page_key(page: str, key: str) -> bool:
    """Whether ``key`` is one of ``page``'s URL-bound controls (what a lesson step may set)."""
    if key.startswith("_") or _NOT_STATE.search(key):
        return False
    if page == "explorer":
        return key in EXPLORER_KEYS
    pat = _PAGE_KEY.get(page)
    return bool(pat and pat.match(key))


def coerce(page: str, key: str, value: Any) -> Any:
    """A YAML value → the type the page's widget holds (ints where an int is meant, floats for sliders)."""
    if isinstance(value, bool) or isinstance(value, (list, str)):
        return value
    if page == "explorer" and key in EXPLORER_PARAMS:
        p = EXPLORER_PARAMS[key]
        return parse_param(p, str(value))
    hp = key.split("_", 1)[1] if page == "compare" and re.match(r"^cmp\d_", key) else key
    kind = HPARAM_KINDS.get(hp)
    if kind == "float" or (kind is None and _FLOAT_KEY.search(key)):
        return float(value)
    if kind == "int" or (isinstance(value, float) and value == int(value) and not _FLOAT_KEY.search(key)):
        return int(value)
    return value


# ================================================================================================ the format
@dataclass(frozen=True)
class Check:
    quantity: str
    below: float | str | None = None
    above: float | str | None = None
    between: tuple[float, float] | None = None

    def describe(self) -> str:
        name = QUANTITIES[self.quantity].label
        if self.between is not None:
            return f"{name} between {self.between[0]:g} and {self.between[1]:g}"
        parts = []
        for word, bound in (("below", self.below), ("above", self.above)):
            if bound is not None:
                parts.append(f"{word} {QUANTITIES[bound].label if isinstance(bound, str) else f'{bound:g}'}")
        return f"{name} " + " and ".join(parts)

    def holds(self, values: Mapping[str, float]) -> bool:
        x = values[self.quantity]
        if not math.isfinite(x):
            return False
        ref = lambda b: values[b] if isinstance(b, str) else b  # noqa: E731
        ok = True
        if self.below is not None:
            ok &= x < ref(self.below)
        if self.above is not None:
            ok &= x > ref(self.above)
        if self.between is not None:
            ok &= self.between[0] <= x <= self.between[1]
        return bool(ok)

    def names(self) -> set[str]:
        return {self.quantity} | {b for b in (self.below, self.above) if isinstance(b, str)}


@dataclass(frozen=True)
class Try:
    prompt: str
    state: tuple[tuple[str, Any], ...] = ()
    expect: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Step:
    title: str
    page: str
    state: tuple[tuple[str, Any], ...]  # the full URL state of the page at this step (inherited and merged)
    text: str
    look_at: str | None = None
    try_: Try | None = None
    claims: tuple[Check, ...] = ()  # what the text states in words, checked at ``state`` (app/claims.py walks them)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.state)

    def try_params(self) -> dict[str, Any]:
        return {**self.params, **dict(self.try_.state)} if self.try_ else self.params


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    goal: str
    steps: tuple[Step, ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def pages(self) -> list[str]:
        return list(dict.fromkeys(s.page for s in self.steps))


_PLACEHOLDER = re.compile(r"(?<![A-Za-z_^\\])\{([a-z][a-z0-9_]{3,})(:[^{}]*)?\}")


def placeholders(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2) or "") for m in _PLACEHOLDER.finditer(text)]


def placeholder_names(text: str) -> set[str]:
    return {name for name, _ in placeholders(text)}


def _need(d: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in d:
        raise ValueError(f"{where}: missing field '{key}'")
    val = d[key]
    if not isinstance(val, kind) or (isinstance(val, str) and not val.strip()):
        raise ValueError(f"{where}: field '{key}' must be {getattr(kind, '__name__', kind)} and not empty, got {val!r}")
    return val


def _state(page: str, raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be a mapping of URL parameters, got {type(raw).__name__}")
    out = {}
    for k, v in raw.items():
        k = str(k)
        if not is_page_key(page, k):
            raise ValueError(f"{where}: '{k}' is not a URL parameter of the {page} page")
        try:
            out[k] = coerce(page, k, v)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if page == "explorer" and k == "rule" and v not in fwp_core.rule_names():
            raise ValueError(f"{where}: unknown rule {v!r}")
    return out


def _check(raw: Any, page: str, where: str) -> Check:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: a check is a mapping like {{quantity: retrieval_error, below: 1.0e-6}}")
    unknown = set(raw) - {"quantity", "below", "above", "between"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; use quantity with below, above or between")
    q = _need(raw, "quantity", where)
    bounds = {}
    for b in ("below", "above"):
        if b in raw:
            v = raw[b]
            if isinstance(v, str):
                _known(v, page, where)
            elif not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ValueError(f"{where}: '{b}' must be a number or a quantity name, got {v!r}")
            bounds[b] = v if isinstance(v, str) else float(v)
    between = None
    if "between" in raw:
        v = raw["between"]
        if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v) and v[0] <= v[1]):
            raise ValueError(f"{where}: 'between' must be [low, high] with low ≤ high, got {v!r}")
        between = (float(v[0]), float(v[1]))
    if not bounds and between is None:
        raise ValueError(f"{where}: a check needs below, above or between")
    _known(q, page, where)
    return Check(quantity=q, between=between, **bounds)


def _known(name: str, page: str, where: str) -> None:
    if name not in QUANTITIES:
        raise ValueError(f"{where}: unknown quantity '{name}'; known: {', '.join(sorted(QUANTITIES))}")
    if QUANTITIES[name].page != page:
        raise ValueError(f"{where}: quantity '{name}' belongs to the {QUANTITIES[name].page} page, not {page}")


def parse_lesson(data: Any, source: str = "<lesson>") -> Lesson:
    """A lesson from its parsed YAML, or ValueError naming the file, the step and the field."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: a lesson is a mapping with id, title, goal and steps")
    unknown = set(data) - {"id", "title", "goal", "steps"}
    if unknown:
        raise ValueError(f"{source}: unknown field(s) {sorted(unknown)}")
    lid = _need(data, "id", source)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", lid):
        raise ValueError(f"{source}: id {lid!r} must be lower-case letters, digits and dashes")
    if source.endswith(".yaml") and Path(source).stem != lid:
        raise ValueError(f"{source}: id {lid!r} must equal the file name {Path(source).stem!r}")
    title, goal = _need(data, "title", source), _need(data, "goal", source)
    raw_steps = _need(data, "steps", source, list)
    if not MIN_STEPS <= len(raw_steps) <= MAX_STEPS:
        raise ValueError(f"{source}: a lesson has {MIN_STEPS} to {MAX_STEPS} steps, this one has {len(raw_steps)}")
    steps: list[Step] = []
    prev: dict[str, dict[str, Any]] = {}
    for i, rs in enumerate(raw_steps, start=1):
        where = f"{source}, step {i}"
        if not isinstance(rs, Mapping):
            raise ValueError(f"{where}: a step is a mapping with title, page, state, text, look_at and try")
        unknown = set(rs) - {"title", "page", "state", "text", "look_at", "try", "claims"}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
        page = _need(rs, "page", where)
        if page not in LESSON_PAGES:
            raise ValueError(f"{where}: field 'page' must be one of {', '.join(LESSON_PAGES)}, got {page!r}")
        st_ = {**prev.get(page, {}), **_state(page, rs.get("state"), f"{where}, field 'state'")}
        prev[page] = st_
        text = _need(rs, "text", where)
        for name, spec in placeholders(text):
            _known(name, page, f"{where}, field 'text', placeholder {{{name}}}")
            try:
                format(1.5, spec[1:]) if spec else None
            except ValueError:
                raise ValueError(f"{where}, field 'text': bad number format {spec!r} for {{{name}}}") from None
        look = rs.get("look_at")
        if look is not None and look not in VIEWS[page]:
            raise ValueError(f"{where}: field 'look_at' must be one of {', '.join(VIEWS[page]) or '(none on this page)'}, got {look!r}")
        if page == "explorer" and look in EXPLORER_TABS and "view" not in (rs.get("state") or {}):
            st_ = prev[page] = {**st_, "view": EXPLORER_TABS[look]}  # open the tab that holds the view
        tr = None
        if rs.get("try") is not None:
            rt = rs["try"]
            tw = f"{where}, field 'try'"
            if not isinstance(rt, Mapping):
                raise ValueError(f"{tw}: must be a mapping with prompt, state and expect")
            unknown = set(rt) - {"prompt", "state", "expect"}
            if unknown:
                raise ValueError(f"{tw}: unknown field(s) {sorted(unknown)}")
            expect = rt.get("expect") or []
            if not isinstance(expect, list) or not expect:
                raise ValueError(f"{tw}: 'expect' must be a non-empty list of checks")
            tr = Try(prompt=_need(rt, "prompt", tw), state=tuple(_state(page, rt.get("state"), f"{tw}, 'state'").items()),
                     expect=tuple(_check(c, page, f"{tw}, check {j}") for j, c in enumerate(expect, start=1)))
        raw_claims = rs.get("claims") or []
        if not isinstance(raw_claims, list):
            raise ValueError(f"{where}: 'claims' must be a list of checks")
        claims = tuple(_check(c, page, f"{where}, claim {j}") for j, c in enumerate(raw_claims, start=1))
        steps.append(Step(title=_need(rs, "title", where), page=page, state=tuple(sorted(st_.items())), text=text,
                          look_at=look, try_=tr, claims=claims))
    return Lesson(id=lid, title=title, goal=goal, steps=tuple(steps), source=source)


def load_lesson(path: Path) -> Lesson:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML ({exc})") from None
    return parse_lesson(data, path.name)


@lru_cache(maxsize=1)
def _load_all(stamp: tuple[tuple[str, float], ...]) -> dict[str, Lesson]:
    lessons = [load_lesson(LESSON_DIR / name) for name, _ in stamp]
    return {ls.id: ls for ls in lessons}


def all_lessons() -> dict[str, Lesson]:
    """Every lesson, in file-name order (files are re-read when they change)."""
    files = sorted(LESSON_DIR.glob("*.yaml"))
    return _load_all(tuple((p.name, p.stat().st_mtime) for p in files))


# ================================================================================================ quantities
@dataclass(frozen=True)
class Quantity:
    page: str
    label: str
    fn: Callable[[Any], float]


QUANTITIES: dict[str, Quantity] = {}


def quantity(name: str, page: str, label: str) -> Callable[[Callable[[Any], float]], Callable[[Any], float]]:
    def deco(fn: Callable[[Any], float]) -> Callable[[Any], float]:
        QUANTITIES[name] = Quantity(page, label, fn)
        return fn

    return deco


def explorer_config(params: Mapping[str, Any]) -> compute.ExplorerConfig:
    """The ExplorerConfig the Explorer's sidebar builds for these URL values (the same cache key, so the page reuses it)."""
    d = {k: p.default for k, p in EXPLORER_PARAMS.items()}
    d.update({k: v for k, v in params.items() if k in EXPLORER_PARAMS})
    spec = fwp_core.get_spec(d["rule"])
    common = {h.name: h for h in spec.all_hparams()}
    hp = {"feature_map": params.get("feature_map", common["feature_map"].default),
          "normalize": params.get("normalize", common["normalize"].default)}
    for h in spec.hparams:
        hp[h.name] = params.get(h.name, h.default)
    if hp["feature_map"] == "dpfp":
        hp["nu"] = params.get("nu", common["nu"].default)
    if hp["feature_map"] == "favor":
        hp["m"] = params.get("m", common["m"].default)
        hp["seed"] = params.get("fm_seed", common["seed"].default)
    hp["scale"] = float(params.get("scale", common["scale"].default))
    gate = float(d["gate"]) if spec.gate_kind is not None and "gamma" not in hp and "forget" not in hp else EXPLORER_PARAMS["gate"].default
    return compute.ExplorerConfig(
        rule=d["rule"], hparams=tuple(sorted(hp.items())), sequence=d["sequence"], T=int(d["T"]), d_k=int(d["d_k"]),
        d_v=int(d["d_v"]), seed=int(d["seed"]), beta=float(d["beta"]), schedule=d["schedule"], gate=gate,
        rho=float(d["rho"]) if d["sequence"] == "correlated" else EXPLORER_PARAMS["rho"].default,
        text=d["text"] if d["sequence"] == "text" else EXPLORER_PARAMS["text"].default,
    )


@dataclass
class ExplorerCtx:
    res: compute.ExplorerResult
    t: int

    @property
    def i(self) -> int:
        return self.t - 1

    def key(self) -> np.ndarray:
        tr = self.res.trace
        return tr.token_keys[self.i].numpy().astype(float)

    def value(self) -> np.ndarray:
        tr = self.res.trace
        return tr.token_values[self.i].numpy().astype(float)

    def read(self, keys: np.ndarray) -> np.ndarray:
        """The rule's own read (``fwp_core.Rule.read``) of the memory after step t, in float64: featured keys
        (n, d_phi) -> (n, d_v)."""
        rule = fwp_core.make_rule(self.res.cfg.rule, **dict(self.res.cfg.hparams))
        states = rule.read_states(self.res.trace)
        state = {name: x[self.i].to(torch.float64) for name, x in states.items()}
        with torch.no_grad():
            return rule.read(state, torch.from_numpy(np.asarray(keys, dtype=float))).numpy()

    def eig(self) -> np.ndarray:
        ev = compute.eigenvalues_at(self.res, self.t)
        return np.array([np.nan]) if ev is None else ev


def _explorer_ctx(params: Mapping[str, Any]) -> ExplorerCtx:
    res = compute.explorer_result(explorer_config(params))
    t = min(max(int(params.get("t", 1)), 1), max(res.valid, 1))
    return ExplorerCtx(res, t)


E = "explorer"
quantity("retrieval_error", E, "retrieval error ‖v_t − r_t‖ (r_t: the rule's read before the write)")(lambda c: float(c.res.trace.retrieval_error[c.i]))
quantity("retrieved_norm", E, "‖r_t‖, the read before the write (W_{t−1}φ(k_t); linear_attention: normalised)")(lambda c: float(np.linalg.norm(c.res.trace.retrieved[c.i].numpy())))
quantity("value_norm", E, "‖v_t‖")(lambda c: float(np.linalg.norm(c.value())))
quantity("key_norm", E, "‖φ(k_t)‖")(lambda c: float(np.linalg.norm(c.key())))
quantity("beta_now", E, "β_t")(lambda c: float(c.res.trace.beta[c.i].reshape(-1)[0]))
quantity("weights_norm", E, "‖W_t‖_F")(lambda c: float(np.linalg.norm(c.res.trace.weights[c.t].numpy())))
quantity("update_rank", E, "rank of the update W_t − W_{t−1}")(
    lambda c: float(np.linalg.matrix_rank((c.res.trace.weights[c.t] - c.res.trace.weights[c.t - 1]).numpy().astype(float), tol=1e-6)))
quantity("eig_min", E, "smallest eigenvalue (real part) of step t's transition")(lambda c: float(np.min(c.eig().real)))
quantity("eig_max_abs", E, "largest |eigenvalue| of step t's transition")(lambda c: float(np.max(np.abs(c.eig()))))
quantity("step_now", E, "the step t")(lambda c: float(c.t))
quantity("steps_total", E, "T")(lambda c: float(c.res.T))
quantity("diverged_step", E, "the step where the run blew up (0: never)")(lambda c: float(c.res.trace.diverged_at or 0))
quantity("mean_retrieval_error", E, "mean retrieval error over all steps")(
    lambda c: float(np.mean(c.res.trace.retrieval_error[: c.res.valid].numpy())))


@quantity("stored_error", E, "relative error of the pair written at t, read from the memory after step t")
def _stored_error(c: ExplorerCtx) -> float:
    v = c.value()
    return float(np.linalg.norm(v - c.read(c.key()[None])[0]) / max(np.linalg.norm(v), 1e-12))


@quantity("parallel_diff", E, "max |y_t recurrent − y_t parallel|")
def _parallel_diff(c: ExplorerCtx) -> float:
    if c.res.parallel_outputs is None:
        return float("nan")
    return float(np.abs(c.res.trace.outputs[c.i].numpy() - c.res.parallel_outputs[c.i]).max())


@quantity("key_overlap_max", E, "largest |φ(k_t)·φ(k_s)| over the earlier keys s < t")
def _key_overlap(c: ExplorerCtx) -> float:
    if c.t < 2:
        return 0.0
    K = c.res.trace.keys.reshape(c.res.T, -1, c.res.trace.keys.shape[-1])[: c.t - 1, 0].numpy().astype(float)
    return float(np.abs(K @ c.key()).max())


@quantity("recall_error_final", E, "mean relative recall error of the pairs written so far, read from the memory after step t")
def _recall_final(c: ExplorerCtx) -> float:
    tr = c.res.trace
    K = tr.keys.reshape(c.res.T, -1, tr.keys.shape[-1])[: c.t, 0].numpy().astype(float)
    V = tr.values.reshape(c.res.T, -1, tr.values.shape[-1])[: c.t, 0].numpy().astype(float)
    live = lab.stored_pairs(K, tr.beta.reshape(c.res.T, -1)[: c.t, 0].numpy())[-1]
    err = np.linalg.norm(V[live] - c.read(K[live]), axis=1) / np.maximum(np.linalg.norm(V[live], axis=1), 1e-12)
    return float(err.mean()) if err.size else 0.0


# ---------------------------------------------------------------------------------------------- compare


def compare_config(params: Mapping[str, Any]) -> lab.CompareConfig:
    """The CompareConfig the Compare page's sidebar builds for these URL values."""
    g = lambda k, d: params.get(k, d)  # noqa: E731
    n = int(g("cmp_n", 2))
    slots = []
    for i in range(1, n + 1):
        rule = g(f"cmp{i}_rule", DEFAULT_RULES[i - 1])
        spec = fwp_core.get_spec(rule)
        common = {h.name: h for h in spec.all_hparams()}
        hp = {"feature_map": g(f"cmp{i}_feature_map", common["feature_map"].default),
              "normalize": g(f"cmp{i}_normalize", common["normalize"].default)}
        for h in spec.hparams:
            hp[h.name] = g(f"cmp{i}_{h.name}", h.default)
        if hp["feature_map"] == "dpfp":
            hp["nu"] = g(f"cmp{i}_nu", common["nu"].default)
        if hp["feature_map"] == "favor":
            hp["m"] = g(f"cmp{i}_m", common["m"].default)
            hp["seed"] = g(f"cmp{i}_seed", common["seed"].default)
        hp["scale"] = float(g(f"cmp{i}_scale", common["scale"].default))
        gate = float(g(f"cmp{i}_gate", 0.9)) if spec.gate_kind is not None and "gamma" not in hp and "forget" not in hp else 0.9
        slots.append(lab.Slot(rule=rule, hparams=tuple(sorted(resolve_hparams(rule, **hp).items())), beta=float(g(f"cmp{i}_beta", 1.0)),
                              schedule=g(f"cmp{i}_sched", "constant"), gate=gate))
    seq = g("cmp_seq", "overwrite")
    softmax = bool(g("cmp_softmax", False))
    return lab.CompareConfig(
        slots=tuple(slots), sequence=seq, T=int(g("cmp_T", 12)), d_k=int(g("cmp_dk", 16)), d_v=int(g("cmp_dv", 8)),
        seed=int(g("cmp_seed", 0)), rho=float(g("cmp_rho", 0.5)) if seq == "correlated" else 0.5,
        text=g("cmp_text", EXPLORER_PARAMS["text"].default) if seq == "text" else "", softmax=softmax,
        softmax_scale=float(g("cmp_sm_scale", 10.0)) if softmax else 10.0,
    )


@dataclass
class CompareCtx:
    res: lab.CompareResult
    t: int

    def run(self, i: int) -> lab.RuleRun:
        if i > len(self.res.runs):
            raise ValueError(f"this comparison has {len(self.res.runs)} runs, not {i}")
        return self.res.runs[i - 1]

    def recall(self, i: int, part: slice = slice(None)) -> float:
        """Mean relative recall error of run i's stored pairs at t (``part``: a slice of them, oldest first)."""
        _, err = lab.recall_at(self.run(i), self.t)
        err = err[part]
        return float(err.mean()) if err.size else 0.0

    def quarter(self, i: int, newest: bool) -> slice:
        n = len(lab.recall_at(self.run(i), self.t)[1])
        q = max(1, n // 4)
        return slice(n - q, n) if newest else slice(0, q)


def _compare_ctx(params: Mapping[str, Any]) -> CompareCtx:
    res = lab.compare_result(compare_config(params))
    return CompareCtx(res, min(max(int(params.get("cmp_t", res.T)), 1), res.T))


def _metric(c: CompareCtx, i: int, name: str) -> float:
    v = c.run(i).metrics.get(name)
    return float("nan") if v is None else float(v)


for _i in range(1, 5):
    quantity(f"recall_{_i}", "compare", f"mean recall error of run {_i} at t")(lambda c, i=_i: c.recall(i))
    quantity(f"recall_old_{_i}", "compare", f"mean recall error of run {_i}'s oldest quarter of stored pairs at t")(
        lambda c, i=_i: c.recall(i, c.quarter(i, newest=False)))
    quantity(f"recall_new_{_i}", "compare", f"mean recall error of run {_i}'s newest quarter of stored pairs at t")(
        lambda c, i=_i: c.recall(i, c.quarter(i, newest=True)))
    quantity(f"retrieval_{_i}", "compare", f"retrieval error of run {_i} at t")(lambda c, i=_i: float(c.run(i).retrieval_error[c.t - 1]))
    quantity(f"min_eig_{_i}", "compare", f"min Re λ of run {_i}")(lambda c, i=_i: _metric(c, i, "min Re λ"))
    quantity(f"max_abs_eig_{_i}", "compare", f"max |λ| of run {_i}")(lambda c, i=_i: _metric(c, i, "max |λ|"))
    quantity(f"final_recall_{_i}", "compare", f"final recall error of run {_i}")(
        lambda c, i=_i: _metric(c, i, "final recall error (relative)"))
quantity("cmp_step", "compare", "the step t")(lambda c: float(c.t))


# ---------------------------------------------------------------------------------------------- capacity
@dataclass
class CapacityCtx:
    params: Mapping[str, Any]
    d_k: int
    curves: dict[str, lab.Curve] | None = None

    def common(self) -> dict[str, Any]:
        p = self.params
        key_type = p.get("cap_keys", "random")
        return dict(d_k=self.d_k, d_v=int(p.get("cap_dv", 32)), key_type=key_type,
                    rho=float(p.get("cap_rho", 0.5)) if key_type == "correlated" else 0.5, beta=float(p.get("cap_beta", 1.0)),
                    gate=float(p.get("cap_gate", 0.95)), seed=int(p.get("cap_seed", 0)))

    def curve(self, rule: str, n: int) -> float:
        if self.curves is None:  # the same call, with the same arguments, as the Capacity page's (cached)
            rules = tuple(self.params.get("cap_rules", ["hebbian", "delta", "rls"]))
            seeds = int(self.params.get("cap_seeds", 16))
            seeds = lab.check_capacity_size(4 * self.d_k, int(self.params.get("cap_dv", 32)), self.d_k, seeds)
            self.curves = lab.capacity_sweep(rules, n_max=4 * self.d_k, seeds=seeds, **self.common())
        if rule not in self.curves:
            raise ValueError(f"the rule {rule} is not among this step's cap_rules")
        c = self.curves[rule]
        return float(c.mean[n - 1]) if n <= len(c.mean) else float("nan")

    def overwrite(self) -> dict[str, np.ndarray]:
        return lab.overwrite_demo(8, 8, float(self.params.get("cap_ow_beta", 1.0)), int(self.params.get("cap_seed", 0)))

    def seeds(self, n: int, d_phi: int, cap: int | None = None) -> int:
        asked = int(self.params.get("cap_seeds", 16))
        return lab.check_capacity_size(n, int(self.params.get("cap_dv", 32)), d_phi, asked if cap is None else min(asked, cap))

    def cosine(self, label: str) -> float:
        """Mean cosine between φ of the sweep's distinct keys for one feature map (the page's feature-map table)."""
        n = 2 * self.d_k
        _, cos = lab.feature_map_sweep(self.params.get("cap_fm_rule", "hebbian"), n_max=n,
                                       seeds=self.seeds(n, 6 * self.d_k, lab.FEATURE_MAP_SEEDS), **self.common())
        return float(cos[label][1])

    def recency(self, rule: str, newest: bool) -> float:
        """Mean relative recall error of the newest (or oldest) quarter of pairs after cap_rec_mult·d_k writes."""
        n = max(1, int(round(float(self.params.get("cap_rec_mult", 2)) * self.d_k)))
        rules = tuple(dict.fromkeys((*self.params.get("cap_rules", ["hebbian", "delta", "rls"]), "delta")))
        if rule not in rules:
            raise ValueError(f"the rule {rule} is not in this step's recency chart")
        mean = lab.recency(rules, n=n, seeds=self.seeds(n, self.d_k), **self.common())[rule][0]  # index 0 = newest
        q = max(1, n // 4)
        return float(np.mean(mean[:q] if newest else mean[-q:]))


def _capacity_ctx(params: Mapping[str, Any]) -> CapacityCtx:
    return CapacityCtx(params, int(params.get("cap_dk", 32)))


for _rule in ("hebbian", "delta", "rls", "decay", "gated_delta"):
    for _tag, _mult in (("half_dk", 0.5), ("dk", 1), ("2dk", 2), ("4dk", 4)):
        quantity(f"cap_{_rule}_at_{_tag}", "capacity", f"{_rule}'s mean recall error at N = {_mult:g}·d_k")(
            lambda c, r=_rule, m=_mult: c.curve(r, max(1, int(round(m * c.d_k)))))
for _tag, _mult in (("half_dk", 0.5), ("dk", 1), ("2dk", 2), ("4dk", 4)):
    quantity(f"cap_theory_at_{_tag}", "capacity", f"the theory √((N−1)/d_k) at N = {_mult:g}·d_k")(
        lambda c, m=_mult: float(metrics.additive_theory(np.array([max(1, int(round(m * c.d_k)))]), c.d_k)[0]))
quantity("cap_key_dim", "capacity", "d_k")(lambda c: float(c.d_k))
for _label, _tag in (("identity", "identity"), ("elu+1", "elu1"), ("relu", "relu"), ("DPFP ν=1", "dpfp1"), ("DPFP ν=3", "dpfp3")):
    quantity(f"cap_cos_{_tag}", "capacity", f"mean cosine between φ of distinct keys, φ = {_label}")(
        lambda c, lb=_label: c.cosine(lb))
for _rule in ("hebbian", "delta", "rls"):
    for _end, _newest in (("newest", True), ("oldest", False)):
        quantity(f"cap_{_rule}_{_end}", "capacity", f"{_rule}'s mean recall error of the {_end} quarter of pairs (by age)")(
            lambda c, r=_rule, nw=_newest: c.recency(r, nw))
quantity("overwrite_additive_err", "capacity", "‖additive read − (v₁ + v₂)‖")(
    lambda c: float(np.linalg.norm(c.overwrite()["additive read"] - c.overwrite()["v1+v2"])))
quantity("overwrite_additive_vs_v2", "capacity", "‖additive read − v₂‖")(
    lambda c: float(np.linalg.norm(c.overwrite()["additive read"] - c.overwrite()["v2"])))
quantity("overwrite_delta_err", "capacity", "‖delta read − v₂‖")(
    lambda c: float(np.linalg.norm(c.overwrite()["delta read"] - c.overwrite()["v2"])))


# ---------------------------------------------------------------------------------------------- forms
def _forms_ctx(params: Mapping[str, Any]) -> lab.FormsResult:
    g = params.get
    rule, T = g("forms_rule", "delta"), int(g("forms_T", 16))
    gate = float(g("forms_gate", 0.9)) if rule in ("decay", "gated", "gated_delta") else 0.9
    return lab.forms_result(rule, T, int(g("forms_dk", 8)), int(g("forms_dv", 8)), int(g("forms_seed", 0)),
                            float(g("forms_beta", 1.0)), gate, int(min(g("forms_C", min(4, T)), T)))


quantity("forms_rec_vs_par", "forms", "max |recurrent − parallel|")(lambda r: r.diffs["recurrent vs parallel"])
quantity("forms_rec_vs_chunk", "forms", "max |recurrent − chunked|")(lambda r: r.diffs["recurrent vs chunked"])
quantity("forms_worst_chunk", "forms", "the largest max |chunked(C) − recurrent| over every C")(lambda r: float(np.max(r.chunk_diffs)))
quantity("forms_chunk_size", "forms", "the chunk size C")(lambda r: float(r.chunk_size))
quantity("forms_steps", "forms", "T")(lambda r: float(r.T))
quantity("forms_pseudo_gap", "forms", "max |U − V| (pseudo-values against values)")(
    lambda r: float(np.abs(r.values["pseudo-values U"] - r.values["values V"]).max()) if "pseudo-values U" in r.values else 0.0)

_CONTEXTS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "explorer": _explorer_ctx, "compare": _compare_ctx, "capacity": _capacity_ctx, "forms": _forms_ctx,
}


def evaluate(page: str, params: Mapping[str, Any], names: set[str] | list[str]) -> dict[str, float]:
    """The named quantities for a page's URL state, computed with fwp_core (through the pages' own cached functions)."""
    names = set(names)
    if not names:
        return {}
    ctx = _CONTEXTS[page](params)
    with torch.no_grad():
        return {n: float(QUANTITIES[n].fn(ctx)) for n in sorted(names)}


def fmt(x: float, spec: str = "") -> str:
    if spec:
        return format(x, spec[1:])
    if not math.isfinite(x):
        return "—"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.1e}"
    return f"{x:.3f}"


def fill(text: str, values: Mapping[str, float]) -> str:
    """The narration with every {quantity} replaced by its computed value."""
    return _PLACEHOLDER.sub(lambda m: fmt(values[m.group(1)], m.group(2) or "") if m.group(1) in values else m.group(0), text)


def step_values(step: Step) -> dict[str, float]:
    return evaluate(step.page, step.params, placeholder_names(step.text))


def try_values(step: Step) -> dict[str, float]:
    if step.try_ is None:
        return {}
    names = set().union(*(c.names() for c in step.try_.expect))
    return evaluate(step.page, step.try_params(), names)


def claim_values(step: Step) -> dict[str, float]:
    names = set().union(*(c.names() for c in step.claims)) if step.claims else set()
    return evaluate(step.page, step.params, names)


def try_holds(step: Step) -> tuple[bool, dict[str, float]]:
    vals = try_values(step)
    return all(c.holds(vals) for c in step.try_.expect) if step.try_ else True, vals


# ================================================================================================ the player
PAGE_SPECS = {p.url_path: p for p in PAGES}
ACTIVE = "_lesson_active"  # (lesson id, step, class mode)
APPLIED = "_lesson_applied"  # (lesson id, step, "step" | "try") that the page's state was last set to


def _to_url(value: Any) -> str | list[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def _int(raw: Any, default: int) -> int:
    try:
        return int(str(raw[0] if isinstance(raw, list) else raw))
    except (TypeError, ValueError):
        return default


def _apply(page: str, params: Mapping[str, Any], lesson_q: Mapping[str, str]) -> None:
    """Set the page's state to exactly ``params``: other controls of the page go back to their defaults, the URL follows.
    Runs before the page draws, so no widget of this run exists yet."""
    ss = st.session_state
    for key in list(ss.keys()):
        if is_page_key(page, key) and key not in params:
            del ss[key]
    for key, value in params.items():
        ss[key] = list(value) if isinstance(value, list) else value
    if page in ("explorer", "compare"):
        ss["playing" if page == "explorer" else "cmp_playing"] = False
    qp = st.query_params
    for key in ("lesson", "step", "class"):
        if key in qp and key not in lesson_q:
            del qp[key]
    qp.update(lesson_q)
    # a URL parameter bound to a widget of the last run cannot be set here: Streamlit syncs it from the session value
    for key in [k for k in qp.to_dict() if is_page_key(page, k) and k not in params]:
        try:
            del qp[key]
        except StreamlitAPIException:
            pass
    for key, value in params.items():
        try:
            qp[key] = _to_url(value)
        except StreamlitAPIException:
            pass


def _lesson_query(lid: str, k: int, class_mode: bool) -> dict[str, str]:
    return {"lesson": lid, "step": str(k), **({"class": "1"} if class_mode else {})}


def lesson_link(lesson: Lesson, k: int, class_mode: bool = True) -> str:
    """The link that opens ``lesson`` at step k (with the advanced controls hidden when ``class_mode``)."""
    base = st.context.url or ""
    m = re.match(r"^(https?://[^/]+)", base)
    path = f"{m.group(1) if m else ''}/{lesson.steps[k - 1].page}"
    return share_url(path, _lesson_query(lesson.id, k, class_mode))


def _goto(k: int) -> None:
    """Previous / Next: the URL's step changes; the next run (before the page draws) applies it."""
    lid, _, class_mode = st.session_state[ACTIVE]
    st.session_state[ACTIVE] = (lid, k, class_mode)
    st.session_state.pop(APPLIED, None)
    st.session_state["_lesson_pending"] = True
    st.query_params.update(_lesson_query(lid, k, class_mode))


def _show_me() -> None:
    st.session_state["_lesson_pending"] = "try"
    st.session_state.pop(APPLIED, None)


def _exit() -> None:
    st.session_state.pop(ACTIVE, None)
    st.session_state.pop(APPLIED, None)
    st.session_state.pop("_lesson_pending", None)
    for k in ("lesson", "step", "class"):
        if k in st.query_params:
            del st.query_params[k]


def _css(class_mode: bool, look_at: str | None) -> None:
    rules = [".st-key-lesson_panel {order: -1;}",
             "section[data-testid='stSidebar'] {min-width: 380px;}"]
    if look_at:
        rules.append(f".st-key-{look_at} {{outline: 3px solid #d62728; outline-offset: 4px; border-radius: 4px;}}")
    if class_mode:  # projection: only the lesson panel stays in the sidebar
        rules.append("section[data-testid='stSidebar'] [data-testid='stSidebarUserContent'] [data-testid='stVerticalBlock'] > "
                     "*:not(.st-key-lesson_panel):not(:has(.st-key-lesson_panel)):not(.st-key-lesson_panel *) {display: none;}")
        rules.append("[data-testid='stToolbar'] {display: none;}")
    st.html("<style>" + "\n".join(rules) + "</style>")


def _live_matches(params: Mapping[str, Any]) -> bool:
    ss = st.session_state
    for k, v in params.items():
        if k not in ss:
            return False
        cur = ss[k]
        if isinstance(v, float) or isinstance(cur, float):
            try:
                if abs(float(cur) - float(v)) > 1e-9:
                    return False
            except (TypeError, ValueError):
                return False
        elif (list(cur) if isinstance(cur, (list, tuple)) else cur) != v:
            return False
    return True


def lesson_panel(page: Any) -> None:
    """The lesson player. Called by app/main.py before the page runs: it applies a step's state before any widget
    exists, then draws the panel at the top of the sidebar. Silent when no lesson is open."""
    ss = st.session_state
    qp = st.query_params
    here = getattr(page, "url_path", "") or "home"
    if "lesson" in qp:
        lid = qp.get("lesson", "")
        try:
            lessons = all_lessons()
        except ValueError as exc:
            st.sidebar.error(f"The lessons could not be loaded: {exc}")
            return
        if lid not in lessons:
            st.sidebar.warning(f"There is no lesson {lid!r}; the lessons are: {', '.join(lessons)}.")
            return
        n = len(lessons[lid].steps)
        k = min(max(_int(qp.get("step", "1"), 1), 1), n)
        class_mode = qp.get("class", "0") in ("1", "true", "yes")
        if ss.get(ACTIVE) != (lid, k, class_mode):
            ss[ACTIVE] = (lid, k, class_mode)
            ss.pop(APPLIED, None)
            ss["_lesson_pending"] = True
    if ACTIVE not in ss:
        return
    lid, k, class_mode = ss[ACTIVE]
    lessons = all_lessons()
    if lid not in lessons:
        ss.pop(ACTIVE, None)
        return
    lesson = lessons[lid]
    k = min(max(k, 1), len(lesson.steps))
    step = lesson.steps[k - 1]
    pending = ss.get("_lesson_pending")
    if pending:
        params = step.try_params() if pending == "try" else step.params
        lq = _lesson_query(lid, k, class_mode)
        if step.page != here:
            st.switch_page(PAGE_SPECS[step.page].path, query_params={**lq, **{p: _to_url(v) for p, v in params.items()}})
        _apply(step.page, params, lq)
        ss[APPLIED] = (lid, k, "try" if pending == "try" else "step")
        ss.pop("_lesson_pending", None)
    _css(class_mode, step.look_at if step.page == here else None)
    _draw_panel(lesson, k, step, here, class_mode)


def _draw_panel(lesson: Lesson, k: int, step: Step, here: str, class_mode: bool) -> None:
    n = len(lesson.steps)
    with st.sidebar.container(key="lesson_panel", border=True):
        st.markdown(f"**:material/school: Lesson · {lesson.title}**")
        st.progress(k / n, text=f"Step {k} of {n}: {step.title}")
        c1, c2 = st.columns(2)
        c1.button("Previous", key="lesson_prev", on_click=_goto, args=(k - 1,), disabled=k <= 1, width="stretch",
                  icon=":material/arrow_back:")
        c2.button("Next", key="lesson_next", on_click=_goto, args=(k + 1,), disabled=k >= n, width="stretch", type="primary",
                  icon=":material/arrow_forward:")
        on_page = step.page == here
        on_try = on_page and step.try_ is not None and bool(step.try_.state) and _live_matches(step.try_params())
        on_step = on_page and _live_matches(step.params) and not on_try
        if not on_page:
            st.info(f"This step is on the **{PAGE_SPECS[step.page].title}** page.")
            st.button("Go to this step", key="lesson_return", on_click=_goto, args=(k,), width="stretch")
        elif not on_step:
            if not on_try:
                st.info("You have changed the view since this step: the numbers below describe the step's own view.")
            st.button(f"Return to step {k}", key="lesson_return", on_click=_goto, args=(k,), width="stretch")
        try:
            values = step_values(step)
        except ValueError as exc:
            st.error(f"This step's numbers cannot be computed: {exc}")
            values = {}
        st.markdown(fill(step.text, values))
        if step.look_at:
            st.markdown(f":red[**Look at:**] {VIEWS[step.page][step.look_at]} (outlined in red).")
        if step.try_ is not None:
            st.markdown(f"**Try this:** {step.try_.prompt}")
            try:
                ok, vals = try_holds(step)
            except ValueError as exc:
                ok, vals = False, {}
                st.error(f"This check cannot be computed: {exc}")
            lines = [f"{c.describe()} (here: {fmt(vals[c.quantity])})" for c in step.try_.expect if c.quantity in vals]
            if on_try and ok:
                st.success("On screen now: " + "; ".join(lines))
            else:
                st.caption("You should then see: " + "; ".join(lines))
                if step.try_.state:
                    st.button("Show me", key="lesson_try", on_click=_show_me, width="stretch", disabled=not on_page)
        with st.expander("Lesson link" + (" (projection mode)" if class_mode else "")):
            st.caption("Opens this lesson at this step with the page's own controls hidden, for projecting in class:")
            st.code(lesson_link(lesson, k, True), language=None)
            st.caption("With the controls shown:")
            st.code(lesson_link(lesson, k, False), language=None)
        st.button("Exit lesson", key="lesson_exit", on_click=_exit, width="stretch")


__all__ = ["Check", "Lesson", "QUANTITIES", "Step", "Try", "all_lessons", "evaluate", "fill", "lesson_link", "lesson_panel",
           "load_lesson", "parse_lesson", "replace", "try_holds"]
