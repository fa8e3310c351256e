"""The lesson player in the sidebar (the only lesson module that draws with Streamlit).

URL parameters of the player: ``?lesson=<id>&step=<k>`` (on any page: the player moves to the step's page),
``&class=1`` (projection mode: the page's own sidebar controls are hidden except the ones the step's "try this"
uses, the lesson panel stays, the header is compact, PageDown / PageUp are Next / Previous), ``&big=1`` (larger text
and chart labels, for the back of the room) and ``&try=1`` (the step's "Show me" state is on screen).

A lesson URL reproduces what was on screen: a step's URL after "Show me" carries ``try=1`` and the page's state, and
on a fresh load (a reload, a shared link) the page's state in the URL wins over the step's; the panel then says
whether the view is the step's, its "try this" (a change made by hand counts), or neither.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ..layout import LESSON_ACTIVE, PAGES
from ..page_tables import STATES
from ..state import share_url
from .contexts import step_values, try_holds
from .format import VIEWS, Lesson, Step, all_lessons
from .keys import is_page_key
from .quantities import fill, fmt

PAGE_SPECS = {p.url_path: p for p in PAGES}
ACTIVE = LESSON_ACTIVE  # (lesson id, step, class mode)
APPLIED = "_lesson_applied"  # (lesson id, step, "step" | "try") that the page's state was last set to
LESSON_KEYS = ("lesson", "step", "class", "try", "big")  # the player's own URL parameters
STEP_KEYS = {"explorer": "t", "compare": "cmp_t", "language": "lang_t"}  # a page's step, changed in a fragment run
_TRUE = ("1", "true", "yes")
_view = st.components.v2.component("fwp_lesson_view", js=(Path(__file__).with_name("view.js")).read_text(encoding="utf-8"))


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


def _apply(page: str, params: Mapping[str, Any], lesson_q: Mapping[str, str], url_wins: bool = False) -> None:
    """Set the page's state to exactly ``params``: other controls of the page go back to their defaults, the URL follows.
    Runs before the page draws, so no widget of this run exists yet. ``url_wins`` (a fresh load: a reload or a shared
    link): where the URL already holds one of the page's parameters, the page takes it from there, so the load shows
    what the URL says (and the panel says where that differs from the step)."""
    ss = st.session_state
    qp = st.query_params
    in_url = {k for k in qp.to_dict() if is_page_key(page, k)} if url_wins else set()
    # the page's other controls go back to their defaults: set, not deleted (a deleted widget value would be taken
    # back from the URL, which still holds it where the widget was bound in the last run)
    defaults = STATES[page].defaults(STATES[page].values(params)) if page in STATES else {}
    for key in list(ss.keys()):
        if is_page_key(page, key) and (key not in params or key in in_url):
            if key in defaults and key not in ("t", "cmp_t") and key not in in_url:
                # (a stepper's t: its page's own default, Compare's the last step)
                ss[key] = list(defaults[key]) if isinstance(defaults[key], list) else defaults[key]
            else:
                del ss[key]
    for key, value in params.items():
        if key not in in_url:
            ss[key] = list(value) if isinstance(value, list) else value
    if page in ("explorer", "compare"):
        ss["playing" if page == "explorer" else "cmp_playing"] = False
    for key in LESSON_KEYS:
        if key in qp and key not in lesson_q:
            del qp[key]
    qp.update(lesson_q)
    # a URL parameter bound to a widget of the last run cannot be set here: Streamlit syncs it from the session value
    for key in [k for k in qp.to_dict() if is_page_key(page, k) and k not in params and k not in in_url]:
        try:
            del qp[key]
        except StreamlitAPIException:
            pass
    for key, value in params.items():
        if key in in_url:
            continue
        try:
            qp[key] = _to_url(value)
        except StreamlitAPIException:
            pass


def _lesson_query(lid: str, k: int, class_mode: bool, tried: bool = False, big: bool = False) -> dict[str, str]:
    return {"lesson": lid, "step": str(k), **({"class": "1"} if class_mode else {}), **({"try": "1"} if tried else {}),
            **({"big": "1"} if big else {})}


def _big() -> bool:
    return st.query_params.get("big", "0") in _TRUE


def lesson_link(lesson: Lesson, k: int, class_mode: bool = True, big: bool = False) -> str:
    """The link that opens ``lesson`` at step k (with the advanced controls hidden when ``class_mode``; with large text
    when ``big``)."""
    base = st.context.url or ""
    m = re.match(r"^(https?://[^/]+)", base)
    path = f"{m.group(1) if m else ''}/{lesson.steps[k - 1].page}"
    return share_url(path, _lesson_query(lesson.id, k, class_mode, big=big))


def _goto(k: int) -> None:
    """Previous / Next: the URL's step changes; the next run (before the page draws) applies it."""
    lid, _, class_mode = st.session_state[ACTIVE]
    st.session_state[ACTIVE] = (lid, k, class_mode)
    st.session_state.pop(APPLIED, None)
    st.session_state["_lesson_pending"] = True
    if "try" in st.query_params:
        del st.query_params["try"]
    st.query_params.update(_lesson_query(lid, k, class_mode, big=_big()))


def _show_me() -> None:
    st.session_state["_lesson_pending"] = "try"
    st.session_state.pop(APPLIED, None)


def _set_big() -> None:
    if st.session_state.get("lesson_big"):
        st.query_params["big"] = "1"
    elif "big" in st.query_params:
        del st.query_params["big"]


def _noop() -> None:
    """The view component's trigger only asks for a full run (which redraws the panel)."""


def _exit() -> None:
    st.session_state.pop(ACTIVE, None)
    st.session_state.pop(APPLIED, None)
    st.session_state.pop("_lesson_pending", None)
    for k in LESSON_KEYS:
        if k in st.query_params:
            del st.query_params[k]


_SIDEBAR = "section[data-testid='stSidebar']"
_MAIN = "[data-testid='stMain']"
# a lesson's page, in either mode (labels, values and buttons wrap instead of being cut on every page: app.layout.APP_CSS)
_LESSON_CSS = (
    ".st-key-lesson_panel {order: -1;}",
    # the panel's style and view script: nothing to see, and no gap (their layout wrapper goes too)
    "[data-testid='stLayoutWrapper']:has(> .st-key-lesson_tools), .st-key-lesson_tools {display: none;}",
    # a wide sidebar for the lesson's text where the screen has room; at 1024 px the page needs the room more
    f"@media (min-width: 1280px) {{{_SIDEBAR} {{min-width: 380px;}}}}",
    ".st-key-lesson_prev button, .st-key-lesson_next button {padding-left: 0.4rem; padding-right: 0.4rem;}",
)
_PROJECTION_CSS = (
    f"{_SIDEBAR} [data-testid='stSidebarNav'], {_SIDEBAR} [data-testid='stSidebarNavSeparator'] {{display: none;}}",
    f"{_SIDEBAR} [data-testid='stSidebarHeader'] {{margin-bottom: 0; height: 2.5rem;}}",
    f"{_SIDEBAR} [data-testid='stSidebarUserContent'] {{padding-top: 0.5rem;}}",
    # a compact page: a smaller title, less white space around the page
    f"{_MAIN} .stMainBlockContainer {{padding: 3rem 1.5rem 4rem 1.5rem; max-width: none;}}",
    f"{_MAIN} h1 {{font-size: 2rem; padding: 0 0 0.25rem 0;}}",
    f"{_MAIN} [data-testid='stMetricValue'] {{font-size: 1.75rem;}}",
    # the keys of the buttons are for the presenter (the panel and the page's caption name them), not for the room
    f"{_MAIN} button kbd, .st-key-lesson_prev kbd, .st-key-lesson_next kbd {{display: none;}}",
)
_BIG_CSS = (
    f"{_MAIN} [data-testid='stMarkdownContainer']:not(:is([data-testid='stMetricValue'], button) *) :is(p, li), "
    ".st-key-lesson_panel [data-testid='stMarkdownContainer']:not(button *) :is(p, li) {font-size: 1.2rem;}",
    f"{_MAIN} [data-testid='stCaptionContainer'], {_MAIN} [data-testid='stCaptionContainer'] p {{font-size: 1.05rem;}}",
    f"{_MAIN} [data-testid='stMetricLabel'] p {{font-size: 1.1rem;}}",
    f"{_MAIN} .js-plotly-plot .main-svg :is(.g-xtitle, .g-ytitle, .annotation-text, .legendtext, .gtitle) "
    "{font-size: 16px !important;}",
)


def _css(class_mode: bool, look_at: str | None, big: bool, controls: tuple[str, ...]) -> str:
    """The panel on top of the sidebar, the outline of the step's view, labels and buttons that wrap instead of being
    cut; in projection mode the page's own sidebar controls hidden (except ``controls``, the ones the step's "try this"
    uses), a compact header and page, larger chart tick labels; ``big``: larger text and chart labels."""
    rules = list(_LESSON_CSS)
    if look_at:
        rules.append(f".st-key-{look_at} {{outline: 3px solid #d62728; outline-offset: 4px; border-radius: 4px;}}")
    if class_mode:  # projection: only the lesson panel (and the controls its step uses) stays in the sidebar
        keep = "".join(f":not(.st-key-{c}):not(:has(.st-key-{c})):not(.st-key-{c} *)" for c in ("lesson_panel", *controls))
        rules.append(f"{_SIDEBAR} [data-testid='stSidebarUserContent'] [data-testid='stVerticalBlock'] > *{keep} {{display: none;}}")
        if controls:  # the hint that a control is below the lesson, where it is in the sidebar (not on the page)
            rules.append(f".st-key-lesson_controls_hint {{display: none;}} {_SIDEBAR}:has(:is("
                         + ", ".join(f".st-key-{c}" for c in controls) + ")) .st-key-lesson_controls_hint {display: flex;}")
        rules += _PROJECTION_CSS
        # chart tick labels a little larger (their colour is the theme's ink everywhere: app.layout.APP_CSS)
        rules.append(f"{_MAIN} .js-plotly-plot .main-svg :is(.xtick, .ytick) text {{font-size: {15 if big else 13}px !important;}}")
        if big:
            rules += _BIG_CSS
    return "<style>" + "\n".join(rules) + "</style>"


_MISSING = object()


def _live(key: str) -> Any:
    """The page's value of ``key`` now: the session's, or on a fresh load, before the page's widgets have run, the URL's."""
    ss = st.session_state
    if key in ss:
        return ss[key]
    qp = st.query_params
    if key in qp:
        values = qp.get_all(key)
        return values if len(values) != 1 else values[0]
    return _MISSING


def _same(cur: Any, want: Any) -> bool:
    if cur is _MISSING:
        return False
    if isinstance(want, list):
        cur = cur if isinstance(cur, (list, tuple)) else [cur]
        return [str(c) for c in cur] == [str(w) for w in want]
    if isinstance(want, bool):
        return str(cur).lower() in (("true", "1") if want else ("false", "0"))
    if isinstance(want, (int, float)) and not isinstance(cur, bool):
        try:
            return abs(float(cur) - float(want)) <= 1e-9
        except (TypeError, ValueError):
            return False
    return str(cur) == str(want)


def _live_matches(params: Mapping[str, Any]) -> bool:
    return all(_same(_live(k), v) for k, v in params.items())


def _sidebar_controls(step: Step) -> tuple[str, ...]:
    """The page controls the step's "try this" changes (shown in projection mode beside the lesson); the step t is on the
    page itself."""
    if step.try_ is None:
        return ()
    return tuple(k for k, _ in step.try_.state if k != STEP_KEYS.get(step.page))


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
        class_mode = qp.get("class", "0") in _TRUE
        if ss.get(ACTIVE) != (lid, k, class_mode):
            # a session that had no lesson open: a load of a lesson's URL (a reload, a link), where the URL's state wins
            ss["_lesson_url_wins"] = ACTIVE not in ss
            ss[ACTIVE] = (lid, k, class_mode)
            ss.pop(APPLIED, None)
            ss["_lesson_pending"] = "try" if qp.get("try", "0") in _TRUE else True
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
    big = _big()
    pending = ss.get("_lesson_pending")
    if pending:
        tried = pending == "try" and step.try_ is not None
        params = step.try_params() if tried else step.params
        lq = _lesson_query(lid, k, class_mode, tried, big)
        if step.page != here:
            st.switch_page(PAGE_SPECS[step.page].path, query_params={**lq, **{p: _to_url(v) for p, v in params.items()}})
        _apply(step.page, params, lq, url_wins=bool(ss.pop("_lesson_url_wins", False)))
        ss[APPLIED] = (lid, k, "try" if tried else "step")
        ss.pop("_lesson_pending", None)
    on_page = step.page == here
    css = _css(class_mode, step.look_at if on_page else None, big and class_mode, _sidebar_controls(step) if on_page else ())
    _draw_panel(lesson, k, step, here, class_mode, big, css)


def _view_data(lesson: Lesson, k: int, step: Step, here: str, class_mode: bool) -> dict[str, Any]:
    """What the view script needs: the outlined view, the step's token, and the step parameter to watch (t, cmp_t,
    lang_t: changed in fragment runs, which do not redraw the panel) with the values where the panel's words change."""
    on_page = step.page == here
    watch = None
    step_key = STEP_KEYS.get(step.page)
    if on_page and step_key:
        marks = sorted({str(p[step_key]) for p in (step.params, step.try_params()) if step_key in p})
        shown = _live(step_key)
        if marks and shown is not _MISSING:
            watch = {"name": step_key, "marks": marks, "shown": str(shown)}
    applied = st.session_state.get(APPLIED)
    return {"key": step.look_at if on_page else "", "fit": class_mode, "watch": watch,
            "token": f"{lesson.id}/{k}/{here}/{applied[2] if applied else ''}"}


def _draw_panel(lesson: Lesson, k: int, step: Step, here: str, class_mode: bool, big: bool, css: str) -> None:
    n = len(lesson.steps)
    ss = st.session_state
    with st.sidebar.container(key="lesson_panel", border=True):
        # the panel's style and its view script, first and inside the panel: a style-only st.html would go to the page's
        # event container, shared with other style elements (the readout's, in a fragment); here it is the panel's own
        with st.container(key="lesson_tools"):
            st.html(css + '<span class="fwp-lesson-style"></span>')
            _view(key="lesson_view", data=_view_data(lesson, k, step, here, class_mode), on_sync_change=_noop)
        st.markdown(f"**:material/school: Lesson · {lesson.title}**")
        st.progress(k / n, text=f"Step {k} of {n}: {step.title}")
        c1, c2 = st.columns(2)
        # a presenter's clicker sends PageDown / PageUp; the page's own ← / → stay the Explorer's Back / Step
        c1.button("Previous", key="lesson_prev", on_click=_goto, args=(k - 1,), disabled=k <= 1, width="stretch",
                  icon=":material/arrow_back:", shortcut="PageUp" if class_mode else None)
        c2.button("Next", key="lesson_next", on_click=_goto, args=(k + 1,), disabled=k >= n, width="stretch", type="primary",
                  icon=":material/arrow_forward:", shortcut="PageDown" if class_mode else None)
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
            if class_mode and on_page and _sidebar_controls(step):  # shown only where the control is in the sidebar (CSS)
                with st.container(key="lesson_controls_hint"):
                    st.caption("The control this uses is shown below the lesson; the page's other controls are hidden.")
        with st.expander("Lesson link" + (" (projection mode)" if class_mode else "")):
            st.caption("Opens this lesson at this step with the page's own controls hidden, for projecting in class:")
            st.code(lesson_link(lesson, k, True, big), language=None)
            st.caption("With the controls shown:")
            st.code(lesson_link(lesson, k, False), language=None)
        if class_mode:
            ss["lesson_big"] = big
            st.toggle("Large text", key="lesson_big", on_change=_set_big,
                      help="Larger text and chart labels, for the back of the room (&big=1 in the URL).")
            st.caption("PageDown / PageUp: next / previous step. Light or dark theme: the ⋮ menu, top right.")
        st.button("Exit lesson", key="lesson_exit", on_click=_exit, width="stretch")
