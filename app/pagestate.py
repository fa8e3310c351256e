"""One parameter table per page: the single owner of a page's state.

A page's ``PageState`` holds its URL parameters (``Param``: name, type, default, allowed values) and the function
that turns their values into the page's frozen configuration, the key of its cached run. Everything that reads or
sets the page's state goes through it:

* the URL: ``parse(raw)`` checks every parameter of a raw query (``st.query_params.to_dict()``) and says, for each
  bad one, what was wrong and what is allowed; ``warnings(session, raw)`` keeps a first visit's warnings for the
  session;
* the widgets: ``param(name)`` gives each control its key (the URL name it is bound to with
  ``bind="query-params"``, which writes it back to the URL), its default and its bounds;
* the run: ``config(values)`` fills in defaults, checks and builds the configuration from the widgets' values, and
  the lessons build theirs from a step's URL values with the same call, so both hit one cache entry.

A table may depend on values (the chosen rule brings its own hyper-parameters): ``table(values)`` is asked again
with the values parsed so far until it stops growing. No Streamlit here.

    cfg = EXPLORER.config({"rule": "delta", "beta": "1.5"})        # URL text or Python values
    EXPLORER.param("beta").high                                     # 3.0: the widget's bound, the URL's check
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import fwp_core
from fwp_core.registry import HParam

C = TypeVar("C")

FEATURE_DETAILS = ("nu", "m", "seed", "scale")
"""Hyper-parameters common to every rule that the pages keep in a "Feature-map details" expander."""


@dataclass(frozen=True)
class Param:
    """One URL parameter of a page: its type, default and allowed values.

    ``kind``: "int", "float", "choice", "text", "bool" or "multi" (a list of choices). ``hparam``: set where the
    parameter is a rule's hyper-parameter; its registry entry then checks the value (open bounds included)."""

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: Sequence[str] = ()
    max_len: int = 0  # text: most characters; multi: most items (0: no limit)
    hparam: HParam | None = None

    def allowed(self) -> str:
        if self.hparam is not None:
            return self.hparam.allowed()
        if self.kind == "choice" or (self.choices and self.kind != "multi"):
            return "one of " + ", ".join(f"{c:g}" if isinstance(c, float) else str(c) for c in self.choices)
        if self.kind == "multi":
            most = f"at most {self.max_len} of " if self.max_len else "any of "
            return most + ", ".join(map(str, self.choices))
        if self.kind == "text":
            return f"text of at most {self.max_len} characters"
        if self.kind == "bool":
            return "true or false"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}"

    def parse(self, raw: Any) -> Any:
        """A URL value (text, or a list of texts) or a Python value (a lesson's, a widget's) -> a clean value, or
        ValueError saying what was wrong and what is allowed."""
        if self.kind == "multi":
            items = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else None
            if items is None:
                raise ValueError(f"{self.name} must be a list, {self.allowed()}")
            items = [next((c for c in self.choices if str(c) == str(x)), x) for x in items]  # URL text → the choice
            bad = [x for x in items if x not in self.choices]
            if bad:
                raise ValueError(f"{self.name}: {', '.join(map(str, bad))} not known; {self.name} must be {self.allowed()}")
            if self.max_len and len(items) > self.max_len:
                raise ValueError(f"{self.name} lists {len(items)} items; {self.name} must be {self.allowed()}")
            return list(dict.fromkeys(items))
        if isinstance(raw, (list, tuple)):
            if len(raw) != 1:
                raise ValueError(f"URL parameter {self.name} was given {len(raw)} times; give it once, as {self.allowed()}")
            raw = raw[0]
        if not isinstance(raw, str):
            return self._check(raw, repr(raw))
        text = raw.strip()
        shown = repr(text if len(text) <= 40 else text[:37] + "...")
        if self.kind == "text":
            return self._check(raw, shown)
        if self.kind in ("choice", "bool") or (self.hparam is not None and self.hparam.kind == "choice"):
            return self._check(_bool(text) if self.kind == "bool" else text, shown)
        try:
            x = float(text)
        except ValueError:
            raise ValueError(f"{self.name}={shown} is not a number; {self.name} must be {self.allowed()}") from None
        return self._check(x, shown)

    def _check(self, x: Any, shown: str) -> Any:
        if self.kind == "text":
            if not isinstance(x, str):
                raise ValueError(f"{self.name} must be text")
            if len(x) > self.max_len:
                raise ValueError(f"{self.name} is {len(x)} characters long; at most {self.max_len} are allowed")
            return x
        if self.kind == "bool":
            if not isinstance(x, bool):
                raise ValueError(f"{self.name}={shown} is not allowed; {self.name} must be {self.allowed()}")
            return x
        if self.hparam is not None:
            return self.hparam.validate(int(x) if self.hparam.kind == "int" and isinstance(x, float) and x == int(x) else x)
        if self.kind == "choice" or (self.choices and x in self.choices):
            if x not in self.choices:
                raise ValueError(f"{self.name}={shown} is not known; {self.name} must be {self.allowed()}")
            return x
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ValueError(f"{self.name}={shown} is not a number; {self.name} must be {self.allowed()}")
        if not math.isfinite(x):
            raise ValueError(f"{self.name}={shown} is not finite; {self.name} must be {self.allowed()}")
        if self.kind == "int" and x != int(x):
            raise ValueError(f"{self.name}={shown} is not a whole number; {self.name} must be {self.allowed()}")
        if self.choices and x not in self.choices:
            raise ValueError(f"{self.name}={shown} is not allowed; {self.name} must be {self.allowed()}")
        if (self.low is not None and x < self.low) or (self.high is not None and x > self.high):
            raise ValueError(f"{self.name}={shown} is out of range; {self.name} must be {self.allowed()}")
        return int(x) if self.kind == "int" else float(x)


def _bool(text: str) -> Any:
    low = text.lower()
    return True if low in ("true", "1", "yes") else False if low in ("false", "0", "no") else text


@dataclass(frozen=True)
class Parsed:
    """Every parameter of a page's table: the given value where it was good, its default otherwise."""

    values: dict[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()  # names whose value came from the input
    warnings: tuple[str, ...] = ()  # what was wrong with the input, then what was adjusted (t beyond T)
    problems: tuple[str, ...] = ()  # only what was wrong with a value of the input


class PageState(Generic[C]):
    """A page's parameter table (``table(values) -> Params``) and its configuration (``build(values, **extra)``)."""

    def __init__(self, page: str, table: Callable[[Mapping[str, Any]], Iterable[Param]],
                 build: Callable[..., C] | None = None,
                 relate: Callable[[dict[str, Any]], list[str]] | None = None):
        self.page = page
        self._table = table
        self._build = build
        self._relate = relate  # adjusts values that depend on each other, returning what it says about them

    def params(self, values: Mapping[str, Any] | None = None) -> dict[str, Param]:
        """The table for these values (a missing value counts as its default)."""
        return {p.name: p for p in self._table(values or {})}

    def param(self, name: str, values: Mapping[str, Any] | None = None) -> Param:
        table = self.params(values)
        if name not in table:
            raise KeyError(f"{self.page} has no parameter {name!r}")
        return table[name]

    def defaults(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {n: p.default for n, p in self.params(values).items()}

    def parse(self, raw: Mapping[str, Any]) -> Parsed:
        """Check every parameter of ``raw`` that the table knows (other names belong to other pages or the lesson)."""
        values: dict[str, Any] = {}
        given: set[str] = set()
        problems: dict[str, str] = {}
        seen: dict[str, Param] = {}
        for _ in range(8):  # the table follows the values (a rule's hyper-parameters); it is stable in 2 to 3 rounds
            table = self.params(values)
            fresh = [p for n, p in table.items() if seen.get(n) != p]  # new, or changed (a rule's choices by kind)
            if not fresh:
                break
            for p in fresh:
                seen[p.name] = p
                values[p.name] = p.default
                given.discard(p.name)
                problems.pop(p.name, None)
                if p.name in raw:
                    try:
                        values[p.name] = p.parse(raw[p.name])
                        given.add(p.name)
                    except ValueError as exc:
                        problems[p.name] = f"{exc}. Using {p.default!r} instead."
        table = self.params(values)
        values = {n: values[n] for n in table}
        wrong = [problems[n] for n in table if n in problems]
        notes = self._relate(values) if self._relate is not None else []
        return Parsed(values=values, given=frozenset(given & set(table)), warnings=tuple(wrong + notes), problems=tuple(wrong))

    def values(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return self.parse(raw).values

    def config(self, raw: Mapping[str, Any], **extra: Any) -> C:
        """The page's configuration for these values: widgets' values or a URL's (missing ones take their default)."""
        if self._build is None:
            raise TypeError(f"the {self.page} page builds no configuration from its table")
        return self._build(self.values(raw), **extra)

    def warnings(self, session: MutableMapping[str, Any], raw: Mapping[str, Any]) -> tuple[str, ...]:
        """The warnings about this session's first URL for the page (kept for the session, so they stay on screen
        while the person works, and a changed widget does not bring back a warning about the URL it replaced)."""
        key = f"_url_warnings_{self.page}"
        if key not in session:
            session[key] = self.parse(raw).warnings
        return session[key]


# ------------------------------------------------------------------------------------- a rule's hyper-parameters
def rule_params(rule: str, values: Mapping[str, Any], key: Callable[[str], str] = lambda n: n) -> Iterator[Param]:
    """The URL parameters of a rule's hyper-parameters, as the registry gives them: φ's feature map and
    normalisation, the rule's own, DPFP's ν only for DPFP, FAVOR+'s m and seed only for FAVOR+, and the query scale.
    ``key(name)`` is the URL name (the Compare page's slots prefix theirs). ``values`` is read as the parameters are
    asked for, so a caller that puts each value in as it goes gets the parameters that value calls for."""
    spec = fwp_core.get_spec(rule)
    common = {h.name: h for h in spec.all_hparams()}

    def p(h: HParam) -> Param:
        return Param(key(h.name), h.kind, h.default, h.low, h.high, h.choices, hparam=h)

    yield p(common["feature_map"])
    yield p(common["normalize"])
    yield from (p(h) for h in spec.hparams)
    fm = values.get(key("feature_map"), common["feature_map"].default)
    if fm == "dpfp":
        yield p(common["nu"])
    if fm == "favor":
        yield p(common["m"])
        yield p(common["seed"])
    yield p(common["scale"])


def hparams_of(rule: str, values: Mapping[str, Any], key: Callable[[str], str] = lambda n: n) -> dict[str, Any]:
    """The rule's hyper-parameters (registry names) from a page's values (URL names; a missing one: its default)."""
    return {p.hparam.name: values.get(p.name, p.default) for p in rule_params(rule, values, key) if p.hparam is not None}
