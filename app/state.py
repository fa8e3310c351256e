"""Session and URL state in one place: the limits, the Explorer's parameters, and their parsing.

Widgets are bound to the URL with ``bind="query-params"`` under the names below, so a link
reproduces the view; the step ``t`` is the session's own (see ``app/stepper.py``), read from the URL on a
first visit (``start_t``), written back to it on every run of the stepper (``write_t``) and followed when the
URL changes outside it (``follow_url_t``). Streamlit silently drops URL values a widget cannot take; ``parse_query`` reads
the raw URL once per session so that the page can say precisely what was wrong and what is allowed.
``parse_param`` either returns a clean value or raises ``ValueError``, nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit
from dataclasses import dataclass, field
from typing import Any

import fwp_core
from fwp_core.sequences import MAX_UPLOAD_BYTES, SOURCES


@dataclass(frozen=True)
class Limits:
    """What the browser app allows (the Python API allows more)."""

    max_T: int = 1024
    max_d: int = 128
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_text_chars: int = 5000
    max_smooth_T: int = 256  # in-browser animation: every frame is sent at once
    max_smooth_d: int = 32
    max_hover_cells: int = 64 * 64  # token-contribution hover text above this is skipped
    cache_entries: int = 16


LIMITS = Limits()

QP = "query-params"
"""What a widget's ``bind`` names to keep its value in the URL."""
DEFAULT_RULE = "delta"
"""The rule a page shows before anyone picks one (Explorer, Forms, Programmer)."""


class LiveChoices(Sequence):
    """Choices read afresh at every use, e.g. the registry's rule names: a rule registered after this module was
    imported (``fwp_core.registry.register``) is allowed in the URL too."""

    def __init__(self, names: Callable[[], Sequence[str]]):
        self._names = names

    def __getitem__(self, i):  # type: ignore[override]
        return tuple(self._names())[i]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(tuple(self._names()))


SEQUENCE_CHOICES: tuple[str, ...] = (*SOURCES, "upload")
BETA_SCHEDULES: tuple[str, ...] = ("constant", "ramp", "random")
# the Explorer's views of step t, one tab each (only the open one is drawn, so a step redraws one chart)
EXPLORER_VIEWS: tuple[str, ...] = ("Fast weights", "Attention form", "Retrieval error", "Equations", "All views")


@dataclass(frozen=True)
class Param:
    """One URL parameter: its type, default and allowed values."""

    name: str
    kind: str  # "int", "float", "choice", "text"
    default: Any
    low: float | None = None
    high: float | None = None
    choices: Sequence[str] = ()
    max_len: int = 0

    def allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "text":
            return f"text of at most {self.max_len} characters"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}"


EXPLORER_PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("rule", "choice", DEFAULT_RULE, choices=LiveChoices(fwp_core.rule_names)),
        Param("sequence", "choice", "overwrite", choices=SEQUENCE_CHOICES),
        Param("T", "int", 16, 1, LIMITS.max_T),
        Param("d_k", "int", 8, 1, LIMITS.max_d),
        Param("d_v", "int", 8, 1, LIMITS.max_d),
        Param("seed", "int", 0, 0, 2**31 - 1),
        Param("beta", "float", 1.0, 0.0, 3.0),
        Param("t", "int", 1, 1, LIMITS.max_T),
        Param("schedule", "choice", "constant", choices=BETA_SCHEDULES),
        Param("gate", "float", 0.9, 0.0, 1.0),
        Param("rho", "float", 0.5, 0.0, 0.99),
        Param("view", "choice", EXPLORER_VIEWS[0], choices=EXPLORER_VIEWS),
        Param("text", "text", "the cat sat on the mat and the dog sat on the cat", max_len=LIMITS.max_text_chars),
    )
}


def parse_param(param: Param, raw: Any) -> Any:
    """A raw URL value (str or list of str) -> a clean value, or ValueError saying what is allowed."""
    if isinstance(raw, (list, tuple)):
        if len(raw) != 1:
            raise ValueError(f"URL parameter {param.name} was given {len(raw)} times; give it once, as {param.allowed()}")
        raw = raw[0]
    if not isinstance(raw, str):
        raise ValueError(f"URL parameter {param.name} must be text")
    text = raw.strip()
    shown = text if len(text) <= 40 else text[:37] + "..."
    if param.kind == "choice":
        if text not in param.choices:
            raise ValueError(f"{param.name}={shown!r} is not known; {param.name} must be {param.allowed()}")
        return text
    if param.kind == "text":
        if len(text) > param.max_len:
            raise ValueError(f"{param.name} is {len(text)} characters long; at most {param.max_len} are allowed")
        return raw
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"{param.name}={shown!r} is not a number; {param.name} must be {param.allowed()}") from None
    if not math.isfinite(x):
        raise ValueError(f"{param.name}={shown!r} is not finite; {param.name} must be {param.allowed()}")
    if param.kind == "int" and x != int(x):
        raise ValueError(f"{param.name}={shown!r} is not a whole number; {param.name} must be {param.allowed()}")
    if (param.low is not None and x < param.low) or (param.high is not None and x > param.high):
        raise ValueError(f"{param.name}={shown!r} is out of range; {param.name} must be {param.allowed()}")
    return int(x) if param.kind == "int" else x


@dataclass(frozen=True)
class ParsedQuery:
    values: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def parse_query(raw: Mapping[str, Any], params: Mapping[str, Param] = EXPLORER_PARAMS) -> ParsedQuery:
    """Check every known parameter of a raw URL query; unknown names are left to other pages."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for name, param in params.items():
        if name not in raw:
            continue
        try:
            values[name] = parse_param(param, raw[name])
        except ValueError as exc:
            warnings.append(f"{exc}. Using {param.default!r} instead.")
    if "t" in values and "T" in values and values["t"] > values["T"]:
        warnings.append(f"t={values['t']} is beyond T={values['T']}; showing the last step.")
        values["t"] = values["T"]
    return ParsedQuery(values=values, warnings=tuple(warnings))


def url_warnings(session: Any, raw: Mapping[str, Any], page: str) -> tuple[str, ...]:
    """Warnings about this session's first URL for ``page`` (kept for the session)."""
    key = f"_url_warnings_{page}"
    if key not in session:
        session[key] = parse_query(raw).warnings
    return session[key]


# ---------------------------------------------------------------------- stepping (session state)
def clamp_t(session: Any, T: int) -> int:
    """The current step, clamped to 1..T (and written back)."""
    t = current_t(session, T)
    session["t"] = t
    return t


def start_t(session: Any, raw: Mapping[str, Any], T: int, default: int = 1, name: str = "t") -> int:
    """The step to show, clamped to 1..T and written back: the session's, or where the session has none (a first
    visit, or a lesson step that leaves t out) the URL's, ``raw[name]``; a missing or bad one counts as ``default``
    (``url_warnings`` says what was wrong)."""
    if "t" not in session:
        session["t"] = parse_query({"t": raw[name]} if name in raw else {}).values.get("t", default)
    return clamp_t(session, T)


def write_t(session: Any, query_params: Any, t: int, name: str = "t") -> None:
    """Put step ``t`` in the URL as ``name`` (only when it changed: each write is a message to the browser, and
    a history entry, so the browser's back and forward buttons step through t) and remember what was written."""
    if query_params.get(name) != str(t):
        query_params[name] = str(t)
    session[f"_url_{name}"] = str(t)


def follow_url_t(session: Any, raw: Mapping[str, Any], name: str = "t") -> None:
    """On a full run of the page: where the URL's step differs from the one the stepper last wrote, it was changed
    outside the stepper (the browser's back or forward button, an edited address) and becomes the session's. Not
    on the stepper's own runs: a browser still drawing the step before sends the URL before too."""
    last = session.get(f"_url_{name}")
    if last is None or name not in raw or raw[name] == last:
        return
    value = parse_query({"t": raw[name]}).values.get("t")
    if value is not None:
        session["t"] = value


def scrub_to(session: Any, value: Any, T: int) -> None:
    """The scrubber was moved to ``value``: show that step, and pause Play (a person chose where to look). A value
    that is not a whole number is ignored."""
    try:
        t = int(value)
    except (TypeError, ValueError):
        return
    if t != value:
        return
    session["t"] = t
    clamp_t(session, T)
    session["playing"] = False


def current_t(session: Any, T: int) -> int:
    """The current step clamped to 1..T, without writing it back."""
    try:
        t = int(session.get("t", 1))
    except (TypeError, ValueError):
        t = 1
    return min(max(t, 1), max(T, 1))


def step_by(session: Any, delta: int, T: int) -> None:
    """Move t by ``delta`` within 1..T (the Back / Step buttons and the ← / → keys)."""
    session["t"] = min(max(int(session.get("t", 1)) + delta, 1), max(T, 1))


def reset(session: Any) -> None:
    session["t"] = 1
    session["playing"] = False


def toggle_play(session: Any) -> None:
    """Play / Pause. The clock starts afresh, so a resumed play does not make up for the time it was paused."""
    session["playing"] = not bool(session.get("playing", False))
    session["_play_tick"] = None


def play_timer_stale(session: Any, playing: bool, speed: float) -> bool:
    """Whether the stepper's timer, armed at the page's last full run for ``playing`` at ``speed`` steps/s, no
    longer matches Play / Pause and the speed in the session (both sit in the stepper, so changing them reruns
    only the stepper, whose timer a full rerun must re-arm)."""
    return bool(session.get("playing", False)) != playing or (playing and float(session.get("speed", speed)) != speed)


def advance_playback(session: Any, T: int, speed: float, now: float) -> None:
    """Server-side play: advance t by the steps that ``speed`` (steps/s) allows since the last tick, so a
    slow rerun skips frames instead of slowing time down; stop at T."""
    last = session.get("_play_tick")
    if last is None or now - last > 5.0:  # first tick, or resuming after a long pause
        session["_play_tick"] = now
        if int(session.get("t", 1)) >= T:
            session["t"] = 1
        return
    n = int((now - last) * speed)
    if n < 1:
        return
    session["t"] = min(T, int(session.get("t", 1)) + n)
    session["_play_tick"] = last + n / speed
    if session["t"] >= T:
        session["playing"] = False
        session["_play_tick"] = None


def fix_divergence(session: Any, normalize: str, beta: float) -> None:
    """The one-click fix for a blown-up run (see ``cache.suggest_fix``)."""
    session["normalize"] = normalize
    session["beta"] = float(beta)
    session["t"] = 1


def share_url(base: str | None, params: Mapping[str, Any]) -> str:
    """A link that reproduces the view: the page's address with the current query parameters."""
    parts = urlsplit(base or "")
    query = urlencode({k: v for k, v in params.items()}, doseq=True)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
