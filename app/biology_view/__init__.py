"""The Biology page's six simulations, one section function each (the page shows the one chosen in the URL)."""

from __future__ import annotations

from collections.abc import Callable

from .common import SIMS
from .memory import section_btsp, section_kv, section_map
from .plasticity import section_oja, section_stp, section_three_factor

SECTIONS: dict[str, Callable[[], None]] = {
    "Three-factor": section_three_factor,
    "Oja": section_oja,
    "Short-term": section_stp,
    "BTSP": section_btsp,
    "Key-value": section_kv,
    "Mapping": section_map,
}

__all__ = ["SECTIONS", "SIMS"]
