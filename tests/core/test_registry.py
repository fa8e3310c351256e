"""The registry is the one place that knows a rule: gates, forms, registering a new rule, and a core without the UI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import fwp_core
from fwp_core.registry import HParam, RuleSpec, check_spec, register, registered, unregister
from fwp_core.rules.base import Rule
from tests.extra_rules import EXTRA_RULES, LEAKY_DELTA, SCALED_HEBBIAN, LeakyDelta, ScaledHebbian

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", fwp_core.rule_names())
def test_gate_knowledge_is_one_statement(name: str) -> None:
    """``HParam.fixes_gate`` marks the hyper-parameter that fixes the gate; ``needs_gate`` follows from it and agrees
    with what the rule does without a gate argument."""
    spec = fwp_core.get_spec(name)
    rule = fwp_core.make_rule(name)
    fixing = [h for h in spec.hparams if h.fixes_gate]
    assert spec.gate_hparam == (fixing[0] if fixing else None)
    assert spec.needs_gate == (spec.gate_kind is not None and rule.default_gate() is None)
    if spec.gate_hparam is not None:  # the gate changes with that hyper-parameter, and only the gate
        h = spec.gate_hparam
        other = h.high if h.default != h.high else h.low
        assert fwp_core.make_rule(name, **{h.name: other}).default_gate() != rule.default_gate()


@pytest.mark.parametrize("name", fwp_core.rule_names())
def test_has_parallel_is_one_definition(name: str) -> None:
    spec = fwp_core.get_spec(name)
    assert spec.has_parallel is spec.cls.has_parallel is fwp_core.make_rule(name).has_parallel
    assert isinstance(spec.chunked_latex, str) and spec.chunked_latex


@pytest.mark.parametrize("name", [n for n in fwp_core.rule_names() if fwp_core.get_spec(n).needs_gate])
def test_with_gate_is_a_constant_gate(name: str) -> None:
    """``with_gate(g)`` behaves exactly like passing the constant gate g at run time, and leaves the rule as it was."""
    rule = fwp_core.make_rule(name)
    spec = fwp_core.get_spec(name)
    g = torch.Generator().manual_seed(0)
    sub = (2,) if spec.substeps else ()
    q = torch.randn(6, 4, generator=g, dtype=torch.float64)
    k = torch.nn.functional.normalize(torch.randn(6, *sub, 4, generator=g, dtype=torch.float64), dim=-1)
    v = torch.randn(6, *sub, 3, generator=g, dtype=torch.float64)
    fixed = rule.with_gate(0.7)
    assert type(fixed) is type(rule) and fixed.default_gate() == 0.7 and rule.default_gate() is None
    a = fixed.run(q, k, v, beta=0.5).outputs
    b = rule.run(q, k, v, beta=0.5, gate=torch.full((6,), 0.7, dtype=torch.float64)).outputs
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_with_gate_refuses_what_makes_no_sense() -> None:
    with pytest.raises(ValueError, match="takes no gate; rules with a gate: decay, gated"):
        fwp_core.make_rule("delta").with_gate(0.5)
    for bad in (1.5, -0.1, float("nan"), True, "0.5"):
        with pytest.raises(ValueError, match="constant gate"):
            fwp_core.make_rule("gated").with_gate(bad)


def test_the_no_gate_message_lists_the_gated_rules_from_the_registry() -> None:
    gated = [n for n, s in fwp_core.RULES.items() if s.gate_kind is not None]
    with pytest.raises(ValueError) as exc:
        fwp_core.make_rule("hebbian").run(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3), gate=0.5)
    assert str(exc.value).endswith(", ".join(gated))
    with registered(LEAKY_DELTA):
        with pytest.raises(ValueError) as exc:
            fwp_core.make_rule("hebbian").run(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3), gate=0.5)
        assert str(exc.value).endswith(", ".join([*gated, "leaky_delta"]))


@pytest.mark.parametrize("spec", EXTRA_RULES, ids=lambda s: s.name)
def test_register_and_remove(spec: RuleSpec) -> None:
    before = fwp_core.rule_names()
    readme_table = fwp_core.registry.rules_markdown()
    with registered(spec):
        assert fwp_core.rule_names()[-1] == spec.name
        assert (spec.name in fwp_core.rule_names(parallel=True)) == spec.has_parallel
        rule = fwp_core.make_rule(spec.name)
        assert isinstance(rule, spec.cls)
        assert f"| `{spec.name}` |" in fwp_core.registry.rules_markdown()
        with pytest.raises(ValueError, match="already registered"):
            register(spec)
    assert fwp_core.rule_names() == before
    assert fwp_core.registry.rules_markdown() == readme_table
    with pytest.raises(ValueError, match="unknown rule"):
        fwp_core.make_rule(spec.name)


def test_the_throw_away_rules_compute_what_they_say() -> None:
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(5, 4, generator=g, dtype=torch.float64) for _ in range(3))
    k = torch.nn.functional.normalize(k, dim=-1)
    with registered(SCALED_HEBBIAN):
        y = fwp_core.make_rule("scaled_hebbian", gain=0.25).run(q, k, v, beta=0.8).outputs
        torch.testing.assert_close(y, fwp_core.make_rule("hebbian").run(q, k, v, beta=0.2).outputs)
        form = fwp_core.make_rule("scaled_hebbian", gain=0.25).parallel(q, k, v, beta=0.8)
        torch.testing.assert_close(form.outputs, y)
    with registered(LEAKY_DELTA):
        y = fwp_core.make_rule("leaky_delta", keep=0.8).run(q, k, v, beta=0.5).outputs
        ref = fwp_core.make_rule("gated_delta").run(q, k, v, beta=0.5, gate=torch.full((5,), 0.8, dtype=torch.float64))
        torch.testing.assert_close(y, ref.outputs)
        assert not fwp_core.get_spec("leaky_delta").needs_gate


def test_built_in_rules_cannot_be_removed() -> None:
    with pytest.raises(ValueError, match="built-in"):
        unregister("delta")
    with pytest.raises(ValueError, match="no rule named"):
        unregister("no_such_rule")


@pytest.mark.parametrize("change, message", [
    (dict(name="bad name"), "identifier"),
    (dict(cls=int), "subclass of fwp_core.Rule"),
    (dict(family="bogus"), "family"),
    (dict(hparams=(HParam("scale", 1.0, "float", 0.0, 2.0),)), "repeat"),
    (dict(defaults={"gain": 1.0}), "common hyper-parameters"),
    (dict(parallel_latex=None), "parallel_latex"),
    (dict(hparams=(HParam("gain", 0.5, "float", 0.0, 4.0, fixes_gate=True),)), "fixes a gate"),
])
def test_check_spec_rejects_contradictions(change: dict, message: str) -> None:
    bad = RuleSpec(**{**SCALED_HEBBIAN.__dict__, **change})
    with pytest.raises(ValueError, match=message):
        check_spec(bad)
    with pytest.raises(ValueError, match=message):
        register(bad)
    assert bad.name not in fwp_core.RULES


def test_a_gate_hparam_and_the_rule_go_together() -> None:
    class Forgetful(LeakyDelta):
        pass

    no_hparam = RuleSpec(**{**LEAKY_DELTA.__dict__, "cls": Forgetful, "hparams": ()})
    with pytest.raises(ValueError, match="go together"):
        check_spec(no_hparam)
    no_hook = RuleSpec(**{**LEAKY_DELTA.__dict__, "cls": type("NoHook", (Rule,), {"gate_kind": "scalar", "_parallel": LeakyDelta._parallel})})
    with pytest.raises(ValueError, match="go together"):
        check_spec(no_hook)
    assert ScaledHebbian.gate_kind is None


def test_the_core_loads_without_the_ui() -> None:
    """``import fwp_core`` and every submodule of it, in a fresh interpreter, load neither streamlit nor plotly."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import fwp_core\n"
        "names = [m.name for m in pkgutil.walk_packages(fwp_core.__path__, 'fwp_core.')]\n"
        "for n in names: importlib.import_module(n)\n"
        "print(json.dumps({'modules': names, 'ui': sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly'))}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"fwp_core.registry", "fwp_core.rules.base", "fwp_core.metrics"} <= set(got["modules"])
    assert len(got["modules"]) >= 15
    assert got["ui"] == []
