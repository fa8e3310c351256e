"""The registry owns rule knowledge: a 13th rule needs nothing but its module (tests/extra_rules.py) and one
registry entry, added at test time and removed afterwards, and every page renders it.

Each test registers one throw-away rule (a scaled Hebbian rule with a parallel form and no gate, and a delta
variant whose gate a hyper-parameter fixes), selects it where the page offers a rule choice, through the URL,
and checks: no exception, no st.error, no "Something went wrong", no URL warning, the rule selected and drawn.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import fwp_core
from fwp_core.registry import registered
from tests.extra_rules import EXTRA_RULES
from tests.helpers import figure_specs, forms_diffs, no_errors, open_page

TIMEOUT = 120
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=EXTRA_RULES, ids=lambda s: s.name)
def extra(request) -> fwp_core.RuleSpec:
    before = fwp_core.rule_names()
    with registered(request.param) as spec:
        assert fwp_core.rule_names() == [*before, spec.name]
        yield spec
    assert fwp_core.rule_names() == before


def no_url_warnings(at: AppTest) -> None:
    assert not [w.value for w in at.warning if "URL parameter" in w.value or "is not known" in w.value]


def trace_names(at: AppTest) -> set[str]:
    return {tr.get("name") for spec in figure_specs(at) for tr in spec["data"]}


def test_explorer(extra: fwp_core.RuleSpec) -> None:
    at = open_page("explorer", TIMEOUT, rule=extra.name, T="8")
    no_errors(at)
    no_url_warnings(at)
    assert at.selectbox(key="rule").value == extra.name
    assert any(extra.title in m.value for m in at.markdown)
    h = extra.hparams[0]
    assert at.number_input(key=h.name).value == h.default  # its own hyper-parameter, from the registry
    assert ("gate" in {s.key for s in at.slider}) == extra.needs_gate  # a gate fixed by keep needs no slider
    m = {x.label: x.value for x in at.metric}
    assert float(m["max |y_t recurrent − y_t parallel|"]) < 1e-5  # its parallel form is drawn and agrees
    for view in ("Attention form", "Retrieval error", "Equations"):
        at.query_params["view"] = view
        at.run()
        no_errors(at)


def test_compare(extra: fwp_core.RuleSpec) -> None:
    at = open_page("compare", TIMEOUT, cmp1_rule=extra.name, cmp2_rule="delta", cmp_n="3", cmp3_rule="gated")
    no_errors(at)
    no_url_warnings(at)
    assert at.selectbox(key="cmp1_rule").value == extra.name
    assert f"1·{extra.name}" in trace_names(at)
    assert "cmp1_gate" not in {s.key for s in at.slider}  # neither throw-away rule asks for a gate
    assert "cmp3_gate" in {s.key for s in at.slider}  # gated does


def test_capacity(extra: fwp_core.RuleSpec) -> None:
    at = open_page("capacity", TIMEOUT, cap_rules=[extra.name, "hebbian"], cap_fm_rule=extra.name, cap_dk="8", cap_seeds="2")
    no_errors(at)
    no_url_warnings(at)
    assert extra.name in at.multiselect(key="cap_rules").value
    assert at.selectbox(key="cap_fm_rule").value == extra.name
    assert extra.name in trace_names(at)


def test_forms(extra: fwp_core.RuleSpec) -> None:
    at = open_page("forms", TIMEOUT, forms_rule=extra.name, forms_T="12")
    no_errors(at)
    no_url_warnings(at)
    assert at.selectbox(key="forms_rule").value == extra.name
    d = forms_diffs(at)  # every pair of forms (no SSM scan: neither rule is a Mamba2 head)
    assert len(d) == 3 and max(d.values()) < 1e-12
    latex = [x.value for x in at.latex]
    assert any(extra.step_latex in x for x in latex) and any(extra.parallel_latex in x for x in latex)
    assert any(extra.chunked_latex in x for x in latex)
    gate = {s.key: s for s in at.slider}.get("forms_gate")
    if extra.gate_kind is None:
        assert gate is None
    else:
        assert gate is not None and gate.label == extra.gate_hparam.help  # the slider sets the gate keep fixes


def test_programmer(extra: fwp_core.RuleSpec) -> None:
    at = open_page("programmer", TIMEOUT, prog_rule=extra.name, prog_steps="10")
    no_errors(at)
    no_url_warnings(at)
    assert at.selectbox(key="prog_rule").value == extra.name
    at.button(key="prog_train").click().run()
    no_errors(at)


@pytest.mark.parametrize("page", ["biology", "lessons"])
def test_pages_without_a_rule_choice(extra: fwp_core.RuleSpec, page: str) -> None:
    at = open_page(page, TIMEOUT)
    no_errors(at)


def test_home(extra: fwp_core.RuleSpec) -> None:
    at = AppTest.from_file(str(ROOT / "app/main.py"), default_timeout=TIMEOUT).run()
    no_errors(at)
