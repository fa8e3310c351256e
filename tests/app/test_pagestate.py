"""Each page's one parameter table (app/page_tables.py): URL parsing with messages, defaults and bounds for the
widgets, configurations for the page and its lessons."""

from __future__ import annotations

import pytest

import fwp_core
from app import lessons
from app.page_tables import BIOLOGY, COMPARE, EXPLORER, FORMS, PROGRAMMER, STATES, compare_values
from app.compare_presets import PRESETS
from tests.helpers import no_errors, open_page

TIMEOUT = 120


@pytest.mark.parametrize("page", sorted(STATES))
def test_every_default_is_allowed_and_builds(page: str) -> None:
    state = STATES[page]
    for name, p in state.params().items():
        assert p.parse(p.default) == p.default, (page, name)
    parsed = state.parse({})
    assert parsed.warnings == () and parsed.given == frozenset()
    if page in ("explorer", "compare", "capacity", "forms"):
        assert state.config({}) == state.config(state.defaults())


def test_a_rules_hyper_parameters_follow_the_rule_and_its_feature_map() -> None:
    values = EXPLORER.parse({"rule": "decay", "feature_map": "favor", "m": "12", "gamma": "0.5"}).values
    assert values["gamma"] == 0.5 and values["m"] == 12 and "fm_seed" in values and "nu" not in values
    assert "gamma" not in EXPLORER.parse({"rule": "delta"}).values  # delta has no γ
    cfg = EXPLORER.config({"rule": "decay", "feature_map": "favor", "m": "12", "gamma": "0.5"})
    assert dict(cfg.hparams) == {"feature_map": "favor", "normalize": "none", "gamma": 0.5, "m": 12, "seed": 0, "scale": 1.0}
    # a value the registry refuses is reported with the registry's own words
    gamma = next(h for h in fwp_core.get_spec("decay").hparams if h.name == "gamma")
    bad = EXPLORER.parse({"rule": "decay", "gamma": "1.5"})
    assert bad.values["gamma"] == gamma.default
    assert any("gamma" in w and gamma.allowed() in w for w in bad.warnings)


def test_a_value_is_checked_again_when_its_choices_change() -> None:
    parsed = PROGRAMMER.parse({"prog_kind": "self_referential", "prog_rule": "delta_product"})
    assert parsed.values["prog_rule"] != "delta_product"
    assert any("prog_rule='delta_product' is not known" in w for w in parsed.warnings)
    assert PROGRAMMER.parse({"prog_kind": "linear", "prog_rule": "delta_product"}).values["prog_rule"] == "delta_product"


def test_orthogonal_keys_clamp_T_for_the_page_and_its_lessons_alike() -> None:
    cfg = EXPLORER.config({"sequence": "orthogonal", "T": "16", "d_k": "8"})
    assert cfg.T == 8
    assert lessons.explorer_config({"sequence": "orthogonal", "T": 16, "d_k": 8}) == cfg


def test_t_beyond_T_is_a_warning_and_the_last_step() -> None:
    parsed = EXPLORER.parse({"T": "10", "t": "40"})
    assert parsed.values["t"] == 10 and parsed.problems == ()
    assert "t=40 is beyond T=10; showing the last step." in parsed.warnings


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_presets_values_build_the_preset(name: str) -> None:
    p = PRESETS[name]
    values = compare_values(p.cfg, p.t)
    assert COMPARE.parse(values).problems == ()
    assert COMPARE.config(values) == p.cfg


def test_the_widgets_take_their_bounds_and_defaults_from_the_table() -> None:
    at = open_page("explorer", TIMEOUT, rule="decay", beta="0.7")
    no_errors(at)
    beta = at.slider(key="beta")
    p = EXPLORER.param("beta")
    assert (beta.min, beta.max, beta.value) == (p.low, p.high, 0.7)
    gamma = next(h for h in fwp_core.get_spec("decay").hparams if h.name == "gamma")
    assert at.number_input(key="gamma").value == gamma.default
    # the page's configuration is the table's configuration of the same URL
    shown = {k: at.session_state[k] for k in EXPLORER.params({"rule": "decay"}) if k in at.session_state}
    assert EXPLORER.config(shown) == EXPLORER.config({"rule": "decay", "beta": "0.7"})
    at = open_page("forms", TIMEOUT, forms_T="6")
    assert at.slider(key="forms_C").max == FORMS.param("forms_C", {"forms_T": 6}).high == 6


def test_every_page_says_what_was_wrong_with_its_url() -> None:
    for page, params, fragment in (
        ("programmer", {"prog_steps": "5"}, "prog_steps='5' is out of range"),
        ("biology", {"bio_sim": "nope"}, "bio_sim='nope' is not known"),
        ("forms", {"forms_T": "x"}, "forms_T='x' is not a number"),
        ("capacity", {"cap_rules": ["hebbian", "nope"]}, "nope not known"),
        ("compare", {"cmp_n": "9"}, "cmp_n='9' is out of range"),
    ):
        at = open_page(page, TIMEOUT, **params)
        assert any(fragment in w.value for w in at.warning), (page, [w.value for w in at.warning])
    assert BIOLOGY.param("bio_sim").default in BIOLOGY.param("bio_sim").choices


def test_a_lesson_may_only_set_what_the_page_has_at_its_settings() -> None:
    step = {"title": "t", "page": "explorer", "state": {"rule": "delta", "gamma": 0.5}, "text": "x"}
    lesson = {"id": "x", "title": "x", "goal": "x", "steps": [step] * 5}
    with pytest.raises(ValueError, match="'gamma' is not a URL parameter of the explorer page at these settings"):
        lessons.parse_lesson(lesson, "x")
    step = {**step, "state": {"rule": "delta", "beta": 9}}
    with pytest.raises(ValueError, match="beta=9 is out of range"):
        lessons.parse_lesson({**lesson, "steps": [step] * 5}, "x")
