"""The pages' experiments (``fwp_core.experiments``), cached per configuration for every session.

Each wrapper is ``st.cache_data`` over the pure function of the same name in the core, bounded by
``LIMITS.cache_entries``; a configuration is a frozen dataclass of plain values, so it keys the cache. The lessons
compute their numbers through these same functions, so a lesson step and the page it shows share one cache entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from fwp_core.experiments import capacity, compare, explorer, forms

from .state import LIMITS

F = TypeVar("F", bound=Callable[..., Any])


def cached(fn: F) -> F:
    """``fn`` cached for every session, at most ``LIMITS.cache_entries`` settings."""
    return st.cache_data(max_entries=LIMITS.cache_entries, show_spinner=False)(fn)  # type: ignore[return-value]


UPLOAD_LIMITS = explorer.UploadLimits(max_bytes=LIMITS.max_upload_bytes, max_T=LIMITS.max_T, max_d=LIMITS.max_d)
MAX_COMPARE_FLOATS = 2 * (LIMITS.max_T + 1) * LIMITS.max_d**2  # two rules at the app's largest T and d


@cached
def explorer_result(cfg: explorer.ExplorerConfig, upload: tuple[str, bytes] | None = None) -> explorer.ExplorerResult:
    """``fwp_core.experiments.explorer.run_explorer`` within the app's upload limits."""
    return explorer.run_explorer(cfg, upload, limits=UPLOAD_LIMITS)


@cached
def suggest_fix(cfg: explorer.ExplorerConfig, upload: tuple[str, bytes] | None = None) -> tuple[str, float] | None:
    return explorer.suggest_fix(cfg, upload, run=explorer_result)


local_losses = cached(explorer.local_losses)


@cached
def compare_result(cfg: compare.CompareConfig) -> compare.CompareResult:
    """``fwp_core.experiments.compare.run_compare`` within the app's memory limit."""
    return compare.run_compare(cfg, max_floats=MAX_COMPARE_FLOATS)


capacity_sweep = cached(capacity.sweep)
feature_map_sweep = cached(capacity.feature_map_sweep)
recency = cached(capacity.recency)
overwrite_demo = cached(capacity.overwrite_demo)
forms_result = cached(forms.run_forms)
