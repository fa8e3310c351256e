"""Lessons: every lesson file validates; AppTest walks every step of every lesson through the player (Next), checks the
narration quotes the computed numbers, and applies each "try this" (Show me) to check its condition on the live state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import lessons

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120
LESSONS = lessons.all_lessons()
ALLOWED_ERRORS = ("blew up",)  # a step may show the Explorer's divergence explanation on purpose


def test_at_least_six_lessons_of_five_to_ten_steps() -> None:
    assert len(LESSONS) >= 6
    for lesson in LESSONS.values():
        assert 5 <= len(lesson.steps) <= 10, lesson.id
        assert lesson.goal and lesson.title


@pytest.mark.parametrize("path", sorted((ROOT / "lessons").glob("*.yaml")), ids=lambda p: p.name)
def test_every_lesson_file_validates(path: Path) -> None:
    lesson = lessons.load_lesson(path)
    assert lesson.id == path.stem
    for step in lesson.steps:
        names = lessons.placeholder_names(step.text)
        filled = lessons.fill(step.text, {n: 0.5 for n in names})
        assert not lessons.placeholders(filled), (lesson.id, step.title)  # every placeholder names a known quantity
        assert filled.count("0.500") >= len(names)


@pytest.mark.parametrize(("patch", "message"), [
    ({"steps": []}, "5 to 10 steps"),
    ({"id": "Bad Id"}, "lower-case"),
    ({"step1": {"page": "nowhere"}}, "step 1: field 'page'"),
    ({"step1": {"state": {"bogus": 1}}}, "step 1, field 'state': 'bogus' is not a URL parameter"),
    ({"step1": {"state": {"T": 0}}}, "out of range"),
    ({"step1": {"text": "error {no_such_quantity}"}}, "unknown quantity 'no_such_quantity'"),
    ({"step1": {"look_at": "nope"}}, "field 'look_at'"),
    ({"step1": {"try": {"prompt": "x", "expect": [{"quantity": "retrieval_error"}]}}}, "needs below, above or between"),
    ({"step1": {"try": {"prompt": "x", "expect": [{"quantity": "cap_key_dim", "below": 1}]}}}, "belongs to the capacity page"),
    ({"step1": {"title": ""}}, "field 'title'"),
])
def test_invalid_lessons_are_rejected_with_clear_errors(patch: dict, message: str) -> None:
    step = {"title": "s", "page": "explorer", "state": {"rule": "delta", "t": 1}, "text": "e = {retrieval_error}"}
    data = {"id": "x", "title": "X", "goal": "g", "steps": [dict(step) for _ in range(5)]}
    for key, value in patch.items():
        if key == "step1":
            data["steps"][0].update(value)
        else:
            data[key] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        lessons.parse_lesson(data, "x.yaml")


def test_placeholders_are_filled_and_latex_braces_kept() -> None:
    text = r"$W_{t-1}$ and \text{norm} {retrieval_error:.2f} and {retrieval_error}"
    assert lessons.fill(text, {"retrieval_error": 0.5}) == r"$W_{t-1}$ and \text{norm} 0.50 and 0.500"


def _panel_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown)


def _check_step(at: AppTest, lesson: lessons.Lesson, k: int) -> None:
    step = lesson.steps[k - 1]
    assert not at.exception, (lesson.id, k, [e.value for e in at.exception])
    bad = [e.value for e in at.error if not any(a in e.value for a in ALLOWED_ERRORS)]
    assert not bad, (lesson.id, k, bad)
    assert str(at.query_params["lesson"]).strip("[]'") == lesson.id and str(at.query_params["step"]).strip("[]'") == str(k)
    title = "Fast weight programmers" if step.page == "home" else lessons.PAGE_SPECS[step.page].title
    assert at.title and at.title[0].value == title, (lesson.id, k, [t.value for t in at.title])
    text = _panel_text(at)
    assert not re.search(r"(?<![A-Za-z_^\\])\{[a-z][a-z0-9_]{3,}(:[^{}]*)?\}", text), (lesson.id, k, "unfilled placeholder")
    main = "\n".join(m.value for m in at.main.markdown)  # the page itself, not the lesson panel
    for name, value in lessons.step_values(step).items():
        assert lessons.fmt(value) in text, (lesson.id, k, name)
        # every quoted number is on the page too, labelled as the lesson's quantity names it
        assert f"{lessons.QUANTITIES[name].label}: **{lessons.fmt(value)}**" in main, (lesson.id, k, name)
    for key, value in step.params.items():  # the page's state follows the step
        live = at.session_state[key]
        assert (abs(float(live) - float(value)) < 1e-9) if isinstance(value, float) else list(live) == value if isinstance(value, list) else live == value, (lesson.id, k, key)
    if step.page == "explorer":
        t, T = step.params.get("t", 1), step.params.get("T", 16)
        assert any(c.value == f"t = {t} / {T}" for c in at.caption), (lesson.id, k)
        if step.look_at in ("weights", "attention", "retrieval_error"):  # its tab is open: the chart is drawn
            assert [c.key for c in at.get("plotly_chart")] == [step.look_at], (lesson.id, k)


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_walk_every_step_and_try(lesson_id: str) -> None:
    lesson = LESSONS[lesson_id]
    at = AppTest.from_file(str(ROOT / "app/main.py"), default_timeout=TIMEOUT)
    at.query_params["lesson"] = lesson_id
    at.query_params["step"] = "1"
    at.run()
    for k, step in enumerate(lesson.steps, start=1):
        _check_step(at, lesson, k)
        if step.try_ is not None:
            ok, vals = lessons.try_holds(step)
            assert ok, (lesson_id, k, vals)
            if step.try_.state:
                at.button(key="lesson_try").click().run()
                assert not at.exception
                assert any(s.value.startswith("On screen now") for s in at.sidebar.success), (lesson_id, k, "try check not shown")
                at.button(key="lesson_return").click().run()  # back to the step's own view
                _check_step(at, lesson, k)
        if k < len(lesson.steps):
            at.button(key="lesson_next").click().run()
    at.button(key="lesson_prev").click().run()
    _check_step(at, lesson, len(lesson.steps) - 1)
