"""Chromium: the Lessons page lists every lesson; lessons are played end to end through their projection-mode links
(the first one, and the newest: lesson 7 crosses four pages)."""

from __future__ import annotations

import re

import pytest

from app import lessons
from tests.browser.conftest import ARTIFACTS, errors_on, wait_idle

PLAYED = ["1-write-read", "7-one-family"]


def panel_text(page) -> str:
    return page.locator(".st-key-lesson_panel").inner_text()


def test_lessons_page_lists_every_lesson(server, page) -> None:
    page.goto(f"{server}/lessons")
    wait_idle(page)
    assert errors_on(page) == []
    for lesson in lessons.all_lessons().values():
        assert page.locator(f".st-key-lesson_card_{lesson.id}").count() == 1
        assert f"{len(lesson.steps)} steps" in page.locator(f".st-key-lesson_card_{lesson.id}").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lessons_page.png"), full_page=True)


@pytest.mark.parametrize("lesson_id", PLAYED)
def test_play_one_lesson_through_its_link(server, page, lesson_id: str) -> None:
    lesson = lessons.all_lessons()[lesson_id]
    n = len(lesson.steps)
    page.goto(f"{server}/{lesson.steps[0].page}?lesson={lesson_id}&step=1&class=1")
    wait_idle(page)
    # projection mode: the page's own controls are hidden, the lesson panel is visible
    assert page.locator(".st-key-lesson_panel").is_visible()
    assert not page.get_by_text("Update rule").first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lesson_{lesson_id}_step1.png"))
    for k, step in enumerate(lesson.steps, start=1):
        # the first visit to a fresh server can report idle between its runs: wait for the step's header itself
        page.wait_for_function(f"() => document.querySelector('.st-key-lesson_panel')?.innerText.includes('Step {k} of {n}')",
                               timeout=30000)
        wait_idle(page)
        text = panel_text(page)
        assert f"Step {k} of {n}" in text, text[:200]
        assert errors_on(page) == [], errors_on(page)
        assert not re.search(r"\{[a-z][a-z0-9_]{3,}\}", text), "an unfilled placeholder"
        vals = lessons.step_values(step)
        for name, value in vals.items():  # the narration quotes the computed numbers
            assert lessons.fmt(value) in text, (k, name, lessons.fmt(value))
        if step.page == "explorer":  # the page shows the step's state
            t = dict(step.state)["t"]
            page.wait_for_selector(f"text=t = {t} / {dict(step.state)['T']}", timeout=20000)
            assert "class=1" in page.url and f"step={k}" in page.url
        if k < n:
            page.locator(".st-key-lesson_next button").click()
            page.wait_for_function(f"() => document.querySelector('.st-key-lesson_panel')?.innerText.includes('Step {k + 1} of {n}')",
                                   timeout=30000)
    page.screenshot(path=str(ARTIFACTS / f"lesson_{lesson_id}_last.png"))
