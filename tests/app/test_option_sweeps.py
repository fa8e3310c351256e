"""Every option a page offers works: each choice of every select box, radio, segmented control, pills and
multiselect on every page, and on the Programmer every task × kind × rule trained for a few steps, renders
with no exception, no st.error and never the app's generic "Something went wrong" fallback.

The widgets are found on the page itself (not listed here), so a widget or option added later is swept too.
"""

from __future__ import annotations

from typing import Any

import pytest

from fwp_core import programmer as prog
from tests.helpers import no_errors, open_page

PAGES = ["explorer", "compare", "capacity", "forms", "programmer", "biology", "language", "lessons"]
KINDS = ("selectbox", "radio", "segmented_control", "pills", "multiselect")


def choice_widgets(at: Any) -> list[tuple[str, str, list[str]]]:
    """(kind, key, options) of every choice widget on the page."""
    found = []
    for kind in KINDS:
        for el in getattr(at, kind):
            options = list(el.options) if hasattr(el, "options") else [o.content for o in el.proto.options]
            found.append((kind, el.key, options))
    return found


def choose(at: Any, kind: str, key: str, i: int, option: str) -> None:
    el = getattr(at, kind)(key=key)
    if kind == "selectbox":
        el.select_index(i)
    elif kind == "radio":
        el.set_value(option)
    else:  # segmented_control, pills, multiselect: the single option alone (a list where it takes several)
        multi = kind == "multiselect" or isinstance(el.value, (list, tuple))
        el.set_value([option] if multi else option)


@pytest.mark.parametrize("page_name", PAGES)
def test_every_choice_of_every_widget_renders(page_name: str) -> None:
    at = open_page(page_name, 300)
    no_errors(at)
    widgets = choice_widgets(at)
    if page_name != "lessons":  # the lesson list is links; every other page has choices
        assert widgets, f"{page_name}: no choice widget found"
    swept = 0
    for kind, key, options in widgets:
        at = open_page(page_name, 300)  # each widget from the page's default state
        for i, option in enumerate(options):
            choose(at, kind, key, i, option)
            at.run()
            try:
                no_errors(at)
            except AssertionError as exc:
                raise AssertionError(f"{page_name}: {kind} {key!r} = {option!r}: {exc}") from None
            swept += 1
    assert swept == sum(len(o) for _, _, o in widgets)


@pytest.mark.parametrize("task", prog.task_names())
@pytest.mark.parametrize("kind", prog.KINDS)
def test_programmer_trains_and_draws_every_task_kind_and_rule(task: str, kind: str) -> None:
    at = open_page("programmer", 300, prog_task=task, prog_kind=kind, prog_steps="10", prog_seed="1")
    rules = prog.rules_for(kind)
    assert at.selectbox(key="prog_rule").options == rules  # the page offers exactly the rules this kind can drive
    for rule in rules:
        at.selectbox(key="prog_rule").set_value(rule).run()
        at.button(key="prog_train").click().run()
        where = f"{task} / {kind} / {rule}"
        try:
            no_errors(at)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None
        charts = [c.key for c in at.get("plotly_chart")]
        assert "prog_training" in charts, where
        assert len(at.metric) >= 1, where
        # stepping is drawn, or a warning says why it cannot be (a programmer that blew up at its first token)
        assert "prog_weights" in charts or any("cannot be stepped" in w.value for w in at.warning), (where, charts)
