"""The step controls of the Explorer and Compare: Reset / Back / Step (Home, ←, →), Play / Pause at a speed, and
a scrubber over t, which goes into the URL.

The step t and the playing flag belong to the session alone. A widget's value travels with every rerun request
the browser sends, and while the browser is still drawing the step before (Play at 8 or 16 steps/s, a quick
double Step, a held → key) it sends its old value back, which the server takes as a person's change: with t on
a slider, Play ran at half its speed and t jumped back now and then; with Play on a toggle, a play that had
reached the end started over. So the controls only send events: buttons, and a scrubber (a plain range input,
an ``st.components.v2`` component) that sends a one-shot trigger when it is moved (released after a drag, or
a key pressed on it) and otherwise follows the server's t, except while its thumb is held.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import streamlit as st

from app import state

SPEEDS = (1, 2, 4, 8, 16)  # steps per second offered for server-side Play
DEFAULT_SPEED = 4

_HTML = """
<div class="fwp-scrub">
  <input type="range" min="1" max="2" value="1" step="1" aria-label="step t">
  <span class="value" aria-hidden="true"></span>
</div>
"""

_CSS = """
.fwp-scrub { display: flex; align-items: center; gap: 0.75rem; min-height: 2rem; }
.fwp-scrub input { flex: 1 1 auto; margin: 0; height: 1.5rem; background: transparent; cursor: pointer;
  -webkit-appearance: none; appearance: none; --fill: 0%; }
.fwp-scrub input::-webkit-slider-runnable-track { height: 4px; border-radius: 2px;
  background: linear-gradient(to right, var(--st-primary-color, #c0392b) var(--fill),
    color-mix(in srgb, var(--st-text-color, #31333f) 18%, transparent) var(--fill)); }
.fwp-scrub input::-webkit-slider-thumb { -webkit-appearance: none; appearance: none; width: 14px; height: 14px;
  margin-top: -5px; border: none; border-radius: 50%; background: var(--st-primary-color, #c0392b); }
.fwp-scrub input::-moz-range-track { height: 4px; border-radius: 2px;
  background: color-mix(in srgb, var(--st-text-color, #31333f) 18%, transparent); }
.fwp-scrub input::-moz-range-progress { height: 4px; border-radius: 2px; background: var(--st-primary-color, #c0392b); }
.fwp-scrub input::-moz-range-thumb { width: 14px; height: 14px; border: none; border-radius: 50%;
  background: var(--st-primary-color, #c0392b); }
.fwp-scrub input:focus-visible { outline: 2px solid var(--st-primary-color, #c0392b); outline-offset: 2px; border-radius: 4px; }
.fwp-scrub .value { min-width: 3.5rem; font-variant-numeric: tabular-nums; color: var(--st-primary-color, #c0392b);
  font-size: 0.875rem; }
"""

_JS = """
export default function ({ data, parentElement, setTriggerValue }) {
  const input = parentElement.querySelector('input');
  const value = parentElement.querySelector('.value');
  const show = () => {  // the filled part of the track and the value beside it follow the thumb while it moves
    const n = Number(input.value), T = Number(input.max);
    input.style.setProperty('--fill', `${T > 1 ? (100 * (n - 1)) / (T - 1) : 0}%`);
    value.textContent = `t = ${n}`;
    input.setAttribute('aria-valuetext', `t = ${n} of ${T}`);
  };
  input.max = String(data.T);
  if (!input.matches(':active')) input.value = String(data.t);  // never yank the thumb out of a person's hand
  show();
  input.oninput = show;
  input.onchange = () => setTriggerValue('t', Number(input.value));
  // ← / → on the focused scrubber move it (and send t); they must not also press the page's Back / Step
  input.onkeydown = (e) => { if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') e.stopPropagation(); };
}
"""

_scrubber = st.components.v2.component("fwp_scrubber", html=_HTML, css=_CSS, js=_JS)


def scrubber(t: int, T: int, *, on_change: Callable[[], None], key: str = "scrub") -> None:
    """Draw the scrubber at step ``t`` of 1..``T``. When a person moves it, ``on_change`` runs before the rerun and
    reads the new step with ``moved_to(key)``."""
    if T < 2 or not 1 <= t <= T:
        raise ValueError(f"the scrubber needs 1 ≤ t ≤ T and T ≥ 2, got t = {t}, T = {T}")
    _scrubber(key=key, data={"t": int(t), "T": int(T)}, on_t_change=on_change)


def moved_to(key: str = "scrub") -> Any:
    """The step the scrubber with ``key`` was moved to in this rerun (None when it was not moved)."""
    result = st.session_state.get(key)
    return None if result is None else result.get("t")


def play_settings(session: MutableMapping) -> tuple[bool, float]:
    """Whether Play is on, and its speed in steps/s: read on the page's full run to arm the stepper's timer."""
    return bool(session.get("playing", False)), float(session.get("speed", DEFAULT_SPEED))


def play_tick(session: MutableMapping, T: int, playing: bool, speed: float, url_t: str = "t") -> None:
    """At the top of a stepper fragment armed with ``run_every=1/speed`` while ``playing`` (both read at the page's
    last full run): advance t by the time elapsed, and rerun the whole page when Play or its speed changed, or Play
    reached the end, so that the timer is armed, re-armed or disarmed."""
    if playing and session.get("playing", False):
        state.advance_playback(session, T, speed, time.monotonic())
    if state.play_timer_stale(session, playing, speed):
        # the full run reads the URL of this run, which the browser sent while it may still have been drawing an
        # earlier step: put the current step in it first, or the run would follow that older t (``follow_url``)
        state.write_t(session, st.query_params, state.clamp_t(session, T), name=url_t)
        st.rerun()


def follow_url(session: MutableMapping, url_t: str = "t") -> None:
    """Call on the page's full run, before its stepper: the URL's step wins where it was changed outside the
    stepper (the browser's back / forward buttons step through t)."""
    state.follow_url_t(session, st.query_params.to_dict(), url_t)


def step_controls(session: MutableMapping, T: int, *, play_help: str, url_t: str = "t", prefix: str = "",
                  default_t: int = 1, caption_T: int | None = None) -> int:
    """Reset / Back / Step, Play / Pause and its speed, the scrubber and the caption ``t = {t} / {T}``; t comes from
    the URL's ``url_t`` on a first visit (else ``default_t``) and goes back into it. ``session`` maps ``t``,
    ``playing``, ``speed`` and ``_play_tick`` to the page's own keys (the Explorer's are these names; Compare's are
    ``cmp_t`` …, ``prefix`` its widget keys' prefix). ``caption_T``: the length shown in the caption where it
    differs from the T steps that can be shown (a run that diverged). Returns the step to draw."""
    t = state.start_t(session, st.query_params.to_dict(), T, default=default_t, name=url_t)
    key = (lambda name: f"{prefix}{name}") if prefix else (lambda name: None)
    b1, b2, b3, b4, b5 = st.columns([1, 1, 1, 1.2, 2.2], vertical_alignment="center")
    b1.button("Reset", key=key("reset"), on_click=state.reset, args=(session,), shortcut="Home", width="stretch")
    b2.button("Back", key=key("back"), on_click=state.step_by, args=(session, -1, T), shortcut="Left", width="stretch")
    b3.button("Step", key=key("step"), on_click=state.step_by, args=(session, 1, T), shortcut="Right", width="stretch",
              type="primary")
    playing = bool(session.get("playing", False))
    b4.button("Pause" if playing else "Play", key=f"{prefix}play", on_click=state.toggle_play, args=(session,),
              icon=":material/pause:" if playing else ":material/play_arrow:", help=play_help, width="stretch")
    b5.select_slider("speed", SPEEDS, value=DEFAULT_SPEED, key=f"{prefix}speed", format_func=lambda x: f"{x} steps/s",
                     label_visibility="collapsed", help="Play speed in steps per second")
    if T > 1:
        scrub_key = f"{prefix}scrub"
        scrubber(t, T, key=scrub_key, on_change=lambda: state.scrub_to(session, moved_to(scrub_key), T))
    state.write_t(session, st.query_params, t, name=url_t)
    st.caption(f"t = {t} / {caption_T or T}")
    return t


class KeyedSession(MutableMapping):
    """A view of ``st.session_state`` under other key names, so ``app.state``'s stepping helpers (which use
    ``t``, ``playing`` and ``_play_tick``) drive a page's own keys (e.g. ``cmp_t``) without clashing with
    the Explorer's URL parameter ``t``."""

    def __init__(self, session: MutableMapping, names: Mapping[str, str]):
        self._s = session
        self._names = dict(names)

    def _k(self, key: str) -> str:
        return self._names.get(key, key)

    def __getitem__(self, key: str) -> Any:
        return self._s[self._k(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        self._s[self._k(key)] = value

    def __delitem__(self, key: str) -> None:
        del self._s[self._k(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._k(key) in self._s

    def get(self, key: str, default: Any = None) -> Any:
        k = self._k(key)
        return self._s[k] if k in self._s else default

    def __iter__(self) -> Iterator[str]:
        inverse = {v: k for k, v in self._names.items()}
        return (inverse.get(k, k) for k in list(self._s.keys()))

    def __len__(self) -> int:
        return len(list(self._s.keys()))
