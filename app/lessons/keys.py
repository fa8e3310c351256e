"""The URL state a lesson step may set: which keys of a page are its URL-bound controls, and the type each holds."""

from __future__ import annotations

import re
from typing import Any

import fwp_core

from ..page_tables import EXPLORER

_FLOAT_KEY = re.compile(r"(beta|gate|rho|gamma|scale|lr|momentum|forget|ridge|eps|lambda|lam\d|init|tau_\w+|similarity|U)$")


def _hparam_kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for name in fwp_core.rule_names():
        for h in fwp_core.get_spec(name).all_hparams():
            kinds[h.name] = h.kind
    return kinds


HPARAM_KINDS = _hparam_kinds()
EXPLORER_KEYS = frozenset(EXPLORER.params()) | frozenset(HPARAM_KINDS) | {"fm_seed"}
_PAGE_KEY = {
    "compare": re.compile(r"^cmp\d?_"),
    "capacity": re.compile(r"^cap_"),
    "forms": re.compile(r"^forms_"),
    "biology": re.compile(r"^bio_"),
}
_NOT_STATE = re.compile(r"(preset|fix_|_reset$|_back$|_step$|speed|timings|measure|playing)")


def is_page_key(page: str, key: str) -> bool:
    """Whether ``key`` is one of ``page``'s URL-bound controls (what a lesson step may set)."""
    if key.startswith("_") or _NOT_STATE.search(key):
        return False
    if page == "explorer":
        return key in EXPLORER_KEYS
    pat = _PAGE_KEY.get(page)
    return bool(pat and pat.match(key))


def coerce(page: str, key: str, value: Any) -> Any:
    """A YAML value of a control outside its page's parameter table → the type the widget holds (ints where an int is
    meant, floats for sliders); the table's own parameters are checked by the table (``lessons.format``)."""
    if isinstance(value, bool) or isinstance(value, (list, str)):
        return value
    hp = key.split("_", 1)[1] if page == "compare" and re.match(r"^cmp\d_", key) else key
    kind = HPARAM_KINDS.get(hp)
    if kind == "float" or (kind is None and _FLOAT_KEY.search(key)):
        return float(value)
    if kind == "int" or (isinstance(value, float) and value == int(value) and not _FLOAT_KEY.search(key)):
        return int(value)
    return value
