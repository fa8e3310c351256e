"""Which keys of a page are its URL-bound controls: what a lesson step may set (their types: the page's parameter table)."""

from __future__ import annotations

import re

import fwp_core

from ..page_tables import EXPLORER


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
    "language": re.compile(r"^lang_"),
}
_NOT_STATE = re.compile(r"(preset|fix_|_reset$|_back$|_step$|^cmp_speed$|timings|measure|playing)")


def is_page_key(page: str, key: str) -> bool:
    """Whether ``key`` is one of ``page``'s URL-bound controls (what a lesson step may set)."""
    if key.startswith("_") or _NOT_STATE.search(key):
        return False
    if page == "explorer":
        return key in EXPLORER_KEYS
    pat = _PAGE_KEY.get(page)
    return bool(pat and pat.match(key))
