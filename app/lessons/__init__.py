"""Guided lessons: a lesson format kept as data (``lessons/*.yaml``), its validation, the numbers a lesson's text
quotes (computed from fwp_core for the step's URL state, never typed), and the lesson player in the sidebar.

One module per part:
- ``format``: the lesson file format (``Check``, ``Try``, ``Step``, ``Lesson``), its validation and loading;
- ``keys``: the URL state a step may set on each page, and the type each key holds;
- ``quantities``: the quantity registry, the ``{name}`` placeholders that quote quantities, ``fmt`` and ``fill``;
- ``contexts``: what each page computes for its URL state, the quantities read from it, ``evaluate``;
- ``player``: the lesson player in the sidebar (the only one that uses Streamlit).
"""

from __future__ import annotations

from dataclasses import replace

from .contexts import (CapacityCtx, CompareCtx, ExplorerCtx, claim_values, compare_config, evaluate, explorer_config,
                       step_values, try_holds, try_values)
from .format import (EXPLORER_TABS, LESSON_DIR, LESSON_PAGES, MAX_STEPS, MIN_STEPS, VIEWS, Check, Lesson, Step, Try,
                     all_lessons, load_lesson, parse_lesson)
from .keys import EXPLORER_KEYS, HPARAM_KINDS, is_page_key
from .player import ACTIVE, APPLIED, PAGE_SPECS, lesson_link, lesson_panel
from .quantities import QUANTITIES, Quantity, fill, fmt, placeholder_names, placeholders, quantity

__all__ = [
    "ACTIVE", "APPLIED", "EXPLORER_KEYS", "EXPLORER_TABS", "HPARAM_KINDS", "LESSON_DIR", "LESSON_PAGES", "MAX_STEPS",
    "MIN_STEPS", "PAGE_SPECS", "QUANTITIES", "VIEWS", "CapacityCtx", "Check", "CompareCtx", "ExplorerCtx", "Lesson",
    "Quantity", "Step", "Try", "all_lessons", "claim_values", "compare_config", "evaluate", "explorer_config",
    "fill", "fmt", "is_page_key", "lesson_link", "lesson_panel", "load_lesson", "parse_lesson", "placeholder_names",
    "placeholders", "quantity", "replace", "step_values", "try_holds", "try_values",
]
