"""The app's limits and the session's stepping state.

Widgets are bound to the URL with ``bind="query-params"`` under the names of each page's parameter table
(``app.page_tables``), so a link reproduces the view. The step ``t`` is the session's own (see ``app/stepper.py``),
read from the URL on a first visit (``start_t``), written back to it on every run of the stepper (``write_t``) and
followed when the URL changes outside it (``follow_url_t``).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit
from dataclasses import dataclass
from typing import Any

from fwp_core.sequences import MAX_UPLOAD_BYTES

from .pagestate import Param


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
STEP = Param("t", "int", 1, 1, LIMITS.max_T)
"""The step t of a stepped page (the Explorer's ``t``, Compare's ``cmp_t``)."""


def _url_step(raw: Any) -> int | None:
    try:
        return STEP.parse(raw)
    except ValueError:
        return None


# ---------------------------------------------------------------------- stepping (session state)
def clamp_t(session: Any, T: int) -> int:
    """The current step, clamped to 1..T (and written back)."""
    t = current_t(session, T)
    session["t"] = t
    return t


def start_t(session: Any, raw: Mapping[str, Any], T: int, default: int = 1, name: str = "t") -> int:
    """The step to show, clamped to 1..T and written back: the session's, or where the session has none (a first
    visit, or a lesson step that leaves t out) the URL's, ``raw[name]``; a missing or bad one counts as ``default``
    (the page's table says what was wrong, ``PageState.warnings``)."""
    if "t" not in session:
        value = _url_step(raw[name]) if name in raw else None
        session["t"] = default if value is None else value
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
    value = _url_step(raw[name])
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
    """The one-click fix for a blown-up run (see ``fwp_core.experiments.explorer.suggest_fix``)."""
    session["normalize"] = normalize
    session["beta"] = float(beta)
    session["t"] = 1


def share_url(base: str | None, params: Mapping[str, Any]) -> str:
    """A link that reproduces the view: the page's address with the current query parameters."""
    parts = urlsplit(base or "")
    query = urlencode({k: v for k, v in params.items()}, doseq=True)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
