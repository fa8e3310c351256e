"""The quantities a lesson's text quotes: the registry (``quantity`` / ``QUANTITIES``, filled at import by
app/lessons/contexts.py, one context per page), the ``{name}`` / ``{name:.2e}`` placeholders that quote them, and
how a value is written into the text (``fmt``, ``fill``)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Quantity:
    page: str
    label: str
    fn: Callable[[Any], float]


QUANTITIES: dict[str, Quantity] = {}


def quantity(name: str, page: str, label: str) -> Callable[[Callable[[Any], float]], Callable[[Any], float]]:
    def deco(fn: Callable[[Any], float]) -> Callable[[Any], float]:
        QUANTITIES[name] = Quantity(page, label, fn)
        return fn

    return deco


_PLACEHOLDER = re.compile(r"(?<![A-Za-z_^\\])\{([a-z][a-z0-9_]{3,})(:[^{}]*)?\}")


def placeholders(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2) or "") for m in _PLACEHOLDER.finditer(text)]


def placeholder_names(text: str) -> set[str]:
    return {name for name, _ in placeholders(text)}


def fmt(x: float, spec: str = "") -> str:
    """A quantity as a lesson text shows it: integers as such, rounding noise below 1e-6 as '≈ 0 (size)', small or
    large numbers in scientific notation, the rest with three decimals."""
    if spec:
        return format(x, spec[1:])
    if not math.isfinite(x):
        return "—"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    if abs(x) < 1e-6:  # rounding noise (a chart draws it as 0): say so, and keep its size
        return f"≈ 0 ({x:.0e})"
    if abs(x) < 1e-3 or abs(x) >= 1e4:
        return f"{x:.1e}"
    return f"{x:.3f}"


def fill(text: str, values: Mapping[str, float]) -> str:
    """The narration with every {quantity} replaced by its computed value."""
    return _PLACEHOLDER.sub(lambda m: fmt(values[m.group(1)], m.group(2) or "") if m.group(1) in values else m.group(0), text)
