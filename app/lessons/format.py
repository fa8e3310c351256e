"""The lesson format, kept as data (``lessons/*.yaml``), and its validation.

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
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


from ..layout import ROOT
from ..page_tables import EXPLORER_VIEWS, STATES
from . import contexts  # noqa: F401  (registers every page's quantities: validation checks names against QUANTITIES)
from .keys import is_page_key
from .quantities import QUANTITIES, placeholders

LESSON_DIR = ROOT / "lessons"
MIN_STEPS, MAX_STEPS = 5, 10
LESSON_PAGES = ("home", "explorer", "compare", "capacity", "forms", "biology", "language")

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
        "forms_outputs": "the outputs of every form",
        "forms_matrices": "the matrices inside the parallel form",
        "forms_values": "the values V and pseudo-values U",
        "forms_chunks": "the chunk-size plot",
    },
    "biology": {},
    "language": {
        "lang_curves": "the held-out loss curves",
        "lang_table": "the table of trained models",
        "lang_reading": "every model reading the sentence at character t",
    },
}

# the Explorer draws one view at a time, in tabs: a step that points at a view opens its tab
EXPLORER_TABS = dict(zip(VIEWS["explorer"], EXPLORER_VIEWS))


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


def _need(d: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in d:
        raise ValueError(f"{where}: missing field '{key}'")
    val = d[key]
    if not isinstance(val, kind) or (isinstance(val, str) and not val.strip()):
        raise ValueError(f"{where}: field '{key}' must be {getattr(kind, '__name__', kind)} and not empty, got {val!r}")
    return val


def _state(page: str, raw: Any, where: str, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A step's URL state, checked by the page's own parameter table (``app.page_tables``) at the settings it makes
    together with ``base`` (what the step inherits, or the step a try starts from): the values the page's widgets
    hold, or ValueError saying what is allowed."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be a mapping of URL parameters, got {type(raw).__name__}")
    raw = {str(k): v for k, v in raw.items()}
    if page not in STATES:
        if raw:
            raise ValueError(f"{where}: the {page} page has no URL parameters")
        return {}
    parsed = STATES[page].parse({**(base or {}), **raw})
    if parsed.problems:
        raise ValueError(f"{where}: {parsed.problems[0]}")
    table = STATES[page].params(parsed.values)
    out = {}
    for k, v in raw.items():
        if k not in table or not is_page_key(page, k):
            raise ValueError(f"{where}: '{k}' is not a URL parameter of the {page} page at these settings; "
                             f"allowed: {', '.join(n for n in table if is_page_key(page, n))}")
        out[k] = table[k].parse(v)  # the value itself (a try's t is checked against T where it is merged)
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
        st_ = {**prev.get(page, {}), **_state(page, rs.get("state"), f"{where}, field 'state'", prev.get(page))}
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
            tr = Try(prompt=_need(rt, "prompt", tw), state=tuple(_state(page, rt.get("state"), f"{tw}, 'state'", st_).items()),
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
