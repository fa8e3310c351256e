"""Every claim the app makes in words holds at the settings the page uses (app/claims.py lists them all), and the
lesson and preset texts that compare computed numbers say what they claim."""

from __future__ import annotations

import re

import pytest

from app import claims, lessons
from app.compare_presets import PRESETS

ALL = claims.all_claims()
COMPARISON = re.compile(r"\b(better|worse|best|worst|above|below|more than|less than|beats?|lower|higher|overlap less|"
                        r"nearly exact|almost exactly|cleanly)\b", re.I)


def test_the_claims_table_covers_lessons_presets_and_pages() -> None:
    wheres = [c.where for c in ALL]
    assert any(w.startswith("lesson ") for w in wheres) and any(w.startswith("compare preset") for w in wheres)
    assert any(w.startswith("capacity page") for w in wheres) and any(w.startswith("programmer page") for w in wheres)
    assert len(set(wheres)) == len(wheres)


@pytest.mark.parametrize("claim", ALL, ids=[c.where for c in ALL])
def test_claim_holds_at_the_pages_settings(claim: claims.Claim) -> None:
    assert claim.checks, claim.where
    assert not claim.failures(), (claim.where, claim.text, claim.failures())


def test_a_false_claim_is_caught() -> None:
    """The checks can fail: the long-recall preset's claim turned round ('decay forgets old pairs cleanly', i.e. its
    oldest pairs read back at an error below 1) is reported."""
    preset = next(c for c in ALL if c.where == "compare preset long_recall")
    turned = claims.Claim(preset.where, "decay forgets cleanly", (lessons.Check("recall_old_1", below=1.0),),
                          page=preset.page, params=preset.params)
    assert turned.failures()


def test_texts_that_compare_numbers_carry_claims() -> None:
    """A lesson step or preset whose text both quotes computed numbers and compares them in words must list the
    comparison as claims (so a change that makes it false fails a test)."""
    missing = []
    for lesson in lessons.all_lessons().values():
        for i, step in enumerate(lesson.steps, start=1):
            if len(lessons.placeholder_names(step.text)) >= 2 and COMPARISON.search(step.text) and not step.claims:
                missing.append(f"lesson {lesson.id}, step {i}: {COMPARISON.search(step.text).group(0)!r}")
    for name, p in PRESETS.items():
        if lessons.placeholder_names(p.text) and COMPARISON.search(p.text) and not p.claims:
            missing.append(f"compare preset {name}")
        assert not COMPARISON.search(p.summary), f"preset {name}: the tooltip summary makes no comparison"
    assert not missing, missing


def test_preset_texts_name_only_known_quantities() -> None:
    for name, p in PRESETS.items():
        for q in lessons.placeholder_names(p.text) | {c["quantity"] for c in p.claims}:
            assert q in lessons.QUANTITIES, (name, q)


@pytest.mark.parametrize("name", list(PRESETS))
def test_the_compare_page_shows_each_preset_with_its_numbers_filled_in(name: str) -> None:
    from app.compare_presets import preset_values
    from tests.helpers import no_errors, open_page

    at = open_page("compare")
    at.button(key=f"cmp_preset_{name}").click().run()
    no_errors(at)
    text = next(i.value for i in at.info if i.value.startswith(f"**{PRESETS[name].title}.**"))
    vals = lessons.evaluate("compare", preset_values(name)[0], lessons.placeholder_names(PRESETS[name].text))
    assert "{" not in text
    for q, v in vals.items():
        assert f"**{lessons.fmt(v)}**" in text, (q, v)
