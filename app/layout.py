"""The page list (the one router table) and small layout helpers shared by every page."""

from __future__ import annotations

import functools
import gc
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
LOG = logging.getLogger("fwp_explorer")
if os.environ.get("FWP_LOG_LEVEL") and not LOG.handlers:  # e.g. FWP_LOG_LEVEL=DEBUG logs every page/fragment run time
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(os.environ["FWP_LOG_LEVEL"].upper())
F = TypeVar("F", bound=Callable[..., Any])

_gc_start: dict[int, float] = {}


def _log_slow_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_start[info["generation"]] = time.perf_counter()
    elif info["generation"] in _gc_start:
        ms = (time.perf_counter() - _gc_start.pop(info["generation"])) * 1e3
        if ms > 5:
            LOG.debug("gc generation %d took %.1f ms", info["generation"], ms)


if LOG.isEnabledFor(logging.DEBUG) and _log_slow_gc not in gc.callbacks:
    gc.callbacks.append(_log_slow_gc)

_heap_frozen = False


def freeze_startup_heap() -> None:
    """Once per server process: collect, then move every object alive so far (the imported libraries) into
    the collector's permanent generation, so that a full collection walks only what sessions create
    (~170 ms → a few ms here). Memory is still freed by reference counting as before."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    url_path: str
    blurb: str
    default: bool = False

    @property
    def path(self) -> str:
        """Absolute path of the page file (st.Page and st.page_link resolve it from anywhere)."""
        return str(ROOT / self.file)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/home.py", "Home", ":material/home:", "home", "what a fast weight programmer is, in one screen", default=True),
    PageSpec("pages/explorer.py", "Explorer", ":material/biotech:", "explorer", "step through one sequence token by token with one rule"),
    PageSpec("pages/compare.py", "Compare", ":material/compare:", "compare", "rules side by side, one t"),
    PageSpec("pages/capacity.py", "Capacity", ":material/memory:", "capacity", "how much a memory holds"),
    PageSpec("pages/forms.py", "Forms", ":material/functions:", "forms", "recurrent = parallel = chunked"),
    PageSpec("pages/programmer.py", "Programmer", ":material/model_training:", "programmer", "train the slow net, then watch what it writes"),
    PageSpec("pages/biology.py", "Biology", ":material/psychology:", "biology", "the same rules as synaptic plasticity, with the open questions"),
    PageSpec("pages/language.py", "Language", ":material/translate:", "language", "small language models learn real text, one per rule"),
    PageSpec("pages/lessons.py", "Lessons", ":material/school:", "lessons", "guided lessons, one idea at a time"),
)


# Chart labels in the page's text colour: the light or dark theme's ink, which the theme menu (⋮) can switch while a
# page is open (the self-styled charts take their ink at their last run). Hover labels keep plotly's contrast.
_UNCUT = "{white-space: normal; overflow: visible; text-overflow: clip;}"
APP_CSS = "\n".join((
    # chart text takes the theme's ink, so self-styled charts stay readable after a theme switch
    "[data-testid='stMain'] .js-plotly-plot .main-svg text:not(.hoverlayer *) {fill: currentColor !important;}",
    # metric labels and values, button labels and page links wrap instead of being cut (a 1024-px projector)
    f"[data-testid='stMain'] [data-testid='stMetricLabel'] :is(.stMarkdownEllipsis, p) {_UNCUT}",
    f"[data-testid='stMain'] [data-testid='stMetricValue'] :is(div, p) {_UNCUT}",
    f"[data-testid='stMain'] [data-testid='stPageLink'] :is(span, p, div) {_UNCUT}",
    "button .stMarkdownEllipsis, button .stMarkdownEllipsis p {white-space: normal; overflow: visible; text-overflow: clip; "
    "line-height: 1.2; overflow-wrap: normal; word-break: normal;}",
    "button[data-testid^='stBaseButton'] {height: auto; min-height: 2.5rem;}",
    # below 1280 px the buttons' key hints give their room to the labels (the page's caption names the keys)
    "@media (max-width: 1279px) {[data-testid='stMain'] button kbd {display: none;}}",
    # a display formula wider than its column scrolls instead of being cut
    "[data-testid='stMain'] .katex-display {overflow-x: auto; overflow-y: hidden; padding-bottom: 0.2rem;}",
))


def app_style() -> None:
    """The app's few global style rules (a style-only ``st.html`` takes no room on the page)."""
    st.html(f"<style>{APP_CSS}</style>")


LESSON_ACTIVE = "_lesson_active"
"""The session key of the open lesson, (lesson id, step, projection mode) (set by the lesson player, app/lessons/player.py)."""


def projecting() -> bool:
    """Whether a lesson is open in projection mode (``&class=1``): the page's own sidebar controls are hidden, so a page
    says what to do without pointing at them."""
    active = st.session_state.get(LESSON_ACTIVE)
    return bool(active and active[2])


def sidebar_footer() -> None:
    with st.sidebar:
        st.caption(
            "FWP Explorer · built around the topics of Irie & Gershman, *Fast weight programming and linear transformers* "
            "(arXiv 2508.08435). Every setting lives in the URL: copy it to share the view. Light or dark theme: the ⋮ "
            "menu at the top right."
        )


def caption(text: str) -> None:
    """The one-line 'what to look at' under every figure."""
    st.caption(text)


def guarded(fn: F) -> F:
    """Run a page or fragment so that an unexpected error becomes a short ``st.error`` (the traceback goes to
    the server log), never an exception box. Streamlit's stop/rerun signals are BaseExceptions and pass."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for the page
            LOG.exception("unexpected error in %s", getattr(fn, "__name__", fn))
            st.error(f"Something went wrong while drawing this view ({type(exc).__name__}: {str(exc)[:200]}). "
                     "Try other settings or Reset; the details are in the server log.")
            return None
        finally:
            LOG.debug("%s ran in %.1f ms", getattr(fn, "__name__", fn), (time.perf_counter() - t0) * 1e3)

    return wrapper  # type: ignore[return-value]
