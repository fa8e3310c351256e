"""The numbers a lesson step quotes, on the page it shows: each labelled as the lesson's quantity names it and
computed from what the page's controls hold now (``lesson_readout``), in a box pinned to the bottom of the screen,
so a class can point at every number the lesson panel quotes wherever the page is scrolled.

The Explorer and Compare draw it inside their steppers (a Step reruns only the stepper, and the numbers follow t);
``app/main.py`` draws it after any other page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from ..page_tables import STATES
from .contexts import evaluate
from .format import all_lessons
from .keys import is_page_key
from .quantities import QUANTITIES, fmt, placeholders

ACTIVE = "_lesson_active"  # (lesson id, step, class mode), set by the player
STEPPED_PAGES = ("explorer", "compare", "language")  # pages whose stepper fragment draws the readout itself
SESSION_T = {"explorer": "t", "compare": "cmp_t"}  # where a stepped page keeps its step


def live_params(page: str, session: Mapping[str, Any]) -> dict[str, Any]:
    """The page's state as its controls hold it now: every session value of a page key its table knows (the
    stepper's t included), for ``lessons.evaluate``."""
    table = STATES[page].params({k: session[k] for k in session.keys() if is_page_key(page, k)})
    out = {k: session[k] for k in session.keys() if k in table}
    t_key = SESSION_T.get(page)
    if t_key and t_key in session:
        out[t_key] = session[t_key]
    return out


def quoted(text: str) -> list[str]:
    """The quantity names a step's text quotes, in the order it quotes them (each once)."""
    return list(dict.fromkeys(name for name, _ in placeholders(text)))


def readout_values(page: str, names: list[str], session: Mapping[str, Any]) -> dict[str, float]:
    return evaluate(page, live_params(page, session), names)


def lesson_readout(page: str) -> None:
    """Draw the active lesson step's numbers on ``page`` (nothing when no lesson step is on this page)."""
    active = st.session_state.get(ACTIVE)
    if not active or page not in STATES:
        return
    lid, k, _ = active
    lesson = all_lessons().get(lid)
    if lesson is None or not 1 <= k <= len(lesson.steps):
        return
    step = lesson.steps[k - 1]
    names = quoted(step.text)
    if step.page != page or not names:
        return
    try:
        values = readout_values(page, names, st.session_state)
    except ValueError as exc:
        st.warning(f"The numbers of this lesson step cannot be computed for the view as it is now: {exc}")
        return
    lines = [f"{QUANTITIES[n].label}: **{fmt(values[n])}**" for n in names]
    with st.container(key="lesson_readout", border=True):
        st.markdown(f"**Step {k}'s numbers, read from this view**  \n" + "  \n".join(lines))
    background = "#0e1117" if st.context.theme.type == "dark" else "#ffffff"
    st.html("<style>.st-key-lesson_readout {position: fixed; right: 0.75rem; bottom: 0.75rem; z-index: 990; "
            f"max-width: min(36rem, 48vw); max-height: 30vh; overflow-y: auto; background: {background}; "
            "box-shadow: 0 2px 10px rgba(0, 0, 0, 0.25); font-size: 0.85rem; padding: 0.1rem 0.6rem; opacity: 0.96;} "
            "[data-testid='stMainBlockContainer'] {padding-bottom: 12rem;}</style>")
