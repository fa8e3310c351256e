"""Every sentence the app shows that states a number or a comparison in words, with the check that makes it true
at the settings the page uses. Numbers a page shows are filled in live; what a sentence *says* about them
("above 1", "best on the newest pairs") is a claim, listed here and checked by tests/app/test_claims.py.

Three sources, one list (``all_claims``):
- lesson steps: the ``claims`` of each step (lessons/*.yaml), checked at the step's own URL state;
- Compare presets: ``claims`` of each preset (app/compare_presets.py), checked at the preset's settings;
- ``STATIC``: sentences written in a page's code, with the page's default settings (or the ones they name).

A claim's checks are lesson checks (``app.lessons.Check``: a quantity below / above a bound or another
quantity, or between two numbers). Where the quantities are not the lesson quantities of a page, ``values``
computes them. No Streamlit calls: the lesson quantities run the pages' own (cached) computations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import lessons
from .compare_presets import PRESETS, preset_values
from .lessons import Check


@dataclass(frozen=True)
class Claim:
    where: str  # where the sentence is shown
    text: str  # the sentence (for lessons and presets: the template; numbers are filled in live)
    checks: tuple[Check, ...]
    page: str | None = None  # a lesson page whose quantities the checks name ...
    params: tuple[tuple[str, Any], ...] = ()  # ... at these URL parameters
    values: Callable[[], Mapping[str, float]] | None = None  # or: the quantities, computed otherwise

    def evaluate(self) -> dict[str, float]:
        if self.values is not None:
            return dict(self.values())
        return lessons.evaluate(self.page, dict(self.params), set().union(*(c.names() for c in self.checks)))

    def failures(self) -> list[str]:
        """The checks that do not hold, each with the values it saw (empty: the claim is true)."""
        vals = self.evaluate()
        out = []
        for c in self.checks:
            if not c.holds(vals):
                seen = {n: vals.get(n) for n in sorted(c.names())}
                bound = c.between if c.between is not None else {"below": c.below, "above": c.above}
                out.append(f"{c.quantity} {bound} fails with {seen}")
        return out


def _pretrained_scores() -> dict[str, float]:
    from fwp_core.programmer import get_task, pretrain

    return {f"{e.task}/{e.kind}/{e.rule}/beta{e.beta_max:g}": pretrain.recorded_scores(e)[get_task(e.task).eval_length]
            for e in pretrain.SHIPPED}


def _c(quantity: str, **bound: Any) -> Check:
    if "between" in bound:
        bound["between"] = tuple(bound["between"])
    return Check(quantity=quantity, **bound)


_LESSON2_CAPACITY = {"cap_rules": ["hebbian", "delta", "rls"], "cap_dk": 16, "cap_dv": 16, "cap_seeds": 8, "cap_seed": 0}

STATIC: tuple[Claim, ...] = (
    Claim("capacity page, the overwrite demo",
          "Additive memory returns v₁ + v₂; the delta rule returns βv₂ + β(1−β)v₁ — exactly v₂ at β = 1.",
          (_c("overwrite_additive_err", below=1e-6), _c("overwrite_delta_err", below=1e-6)),
          page="capacity", params=(("cap_ow_beta", 1.0),)),
    Claim("lesson 2-crosstalk-capacity, goal",
          "with N random unit keys of dimension d_k its error grows like √((N−1)/d_k), near 0.7 at N = d_k/2 and as bad as "
          "an empty memory at N = d_k",
          (_c("cap_theory_at_half_dk", between=(0.6, 0.75)), _c("cap_hebbian_at_half_dk", between=(0.55, 0.8)),
           _c("cap_hebbian_at_dk", between=(0.85, 1.15))),
          page="capacity", params=tuple(sorted(_LESSON2_CAPACITY.items()))),
    Claim("programmer page, the shipped programmers (what each is shipped to show)",
          "A linear programmer with β ∈ (0, 2) tracks parity, with β ∈ (0, 1) it loses it; one delta step per token cannot "
          "count mod 3 in one layer, two generalised Householder factors per token (delta_product) can.",
          (_c("parity/linear/delta/beta2", above=0.99), _c("parity/linear/delta/beta1", below=0.6),
           _c("modular_count/linear/delta/beta2", below=0.5), _c("modular_count/linear/delta_product/beta2", above=0.99)),
          values=_pretrained_scores),
)


def lesson_claims() -> list[Claim]:
    out = []
    for lesson in lessons.all_lessons().values():
        for i, step in enumerate(lesson.steps, start=1):
            if step.claims:
                out.append(Claim(f"lesson {lesson.id}, step {i}", step.text, step.claims, page=step.page, params=step.state))
    return out


def preset_claims() -> list[Claim]:
    return [Claim(f"compare preset {name}", p.text, tuple(_c(**c) for c in p.claims), page="compare",
                  params=tuple(sorted(preset_values(name)[0].items())))
            for name, p in PRESETS.items() if p.claims]


def all_claims() -> list[Claim]:
    return [*lesson_claims(), *preset_claims(), *STATIC]
