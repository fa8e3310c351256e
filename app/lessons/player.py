"""The lesson player in the sidebar (the only lesson module that draws with Streamlit).

URL parameters of the player: ``?lesson=<id>&step=<k>`` (on any page: the player moves to the step's page)
and ``&class=1`` (projection mode: the page's own sidebar controls are hidden, the lesson panel stays).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ..layout import PAGES
from ..page_tables import STATES
from ..state import share_url
from .contexts import step_values, try_holds
from .format import VIEWS, Lesson, Step, all_lessons
from .keys import is_page_key
from .quantities import fill, fmt

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
    # the page's other controls go back to their defaults: set, not deleted (a deleted widget value would be taken
    # back from the URL, which still holds it where the widget was bound in the last run)
    defaults = STATES[page].defaults(STATES[page].values(params)) if page in STATES else {}
    for key in list(ss.keys()):
        if is_page_key(page, key) and key not in params:
            if key in defaults and key not in ("t", "cmp_t"):  # a stepper's t: its page's own default (Compare: the last)
                ss[key] = list(defaults[key]) if isinstance(defaults[key], list) else defaults[key]
            else:
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
