"""Malformed input raises ValueError with a message that says what was wrong and what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fwp_core

from .conftest import ALL_RULES, DEVICES, PARALLEL_RULES, SERIAL_RULES, make

DT = torch.float64


# ---------------------------------------------------------------- names and hyper-parameters
@pytest.mark.parametrize("bad", ("nope", "Delta", "", 3, None), ids=repr)
def test_unknown_rule_lists_known_rules(bad):
    with pytest.raises(ValueError, match=r"unknown rule .*known rules: .*hebbian") as info:
        fwp_core.make_rule(bad)
    for name in ALL_RULES:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="unknown rule"):
        fwp_core.get_spec(bad)


@pytest.mark.parametrize("name", ALL_RULES)
def test_unknown_feature_map_and_normalize(name):
    with pytest.raises(ValueError, match=r"feature_map='cosine' is not allowed; feature_map must be one of identity, elu1"):
        fwp_core.make_rule(name, feature_map="cosine")
    with pytest.raises(ValueError, match=r"normalize='l1' is not allowed; normalize must be one of none, l2, sum"):
        fwp_core.make_rule(name, normalize="l1")
    with pytest.raises(ValueError, match=r"feature_map=1 is not allowed"):
        fwp_core.make_rule(name, feature_map=1)


@pytest.mark.parametrize("name", ALL_RULES)
def test_unknown_hyper_parameter(name):
    with pytest.raises(ValueError, match=rf"unknown hyper-parameter\(s\) bogus for rule '{name}'; allowed: feature_map"):
        fwp_core.make_rule(name, bogus=1)


def test_hyper_parameter_of_another_rule_is_unknown():
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) gamma for rule 'hebbian'"):
        fwp_core.make_rule("hebbian", gamma=0.5)
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) ridge for rule 'delta'"):
        fwp_core.make_rule("delta", ridge=1.0)


@pytest.mark.parametrize(
    "name,hp,value,msg",
    [
        pytest.param("decay", "gamma", 0.0, r"gamma=0\.0 is out of range; gamma must be a number in \(0, 1\]", id="gamma-0"),
        pytest.param("decay", "gamma", -0.1, r"gamma=-0\.1 is out of range", id="gamma-neg"),
        pytest.param("decay", "gamma", 1.01, r"gamma=1\.01 is out of range; gamma must be a number in \(0, 1\]", id="gamma-1.01"),
        pytest.param("decay", "gamma", float("nan"), r"gamma=nan is not allowed", id="gamma-nan"),
        pytest.param("decay", "gamma", float("inf"), r"gamma=inf is not allowed", id="gamma-inf"),
        pytest.param("rls", "ridge", 0.0, r"ridge=0\.0 is out of range; ridge must be a number in \(0, 1e\+06\]", id="ridge-0"),
        pytest.param("rls", "ridge", -1e-3, r"ridge=-0\.001 is out of range", id="ridge-neg"),
        pytest.param("titans", "momentum", 1.0, r"momentum=1\.0 is out of range; momentum must be a number in \[0, 1\)", id="momentum-1"),
        pytest.param("titans", "momentum", 1.5, r"momentum=1\.5 is out of range", id="momentum-1.5"),
        pytest.param("titans", "forget", -0.5, r"forget=-0\.5 is out of range", id="forget-neg"),
        pytest.param("linear_attention", "eps", 0.0, r"eps=0\.0 is out of range", id="eps-0"),
        pytest.param("delta", "scale", 0.0, r"scale=0\.0 is out of range", id="scale-0"),
        pytest.param("delta", "nu", 0, r"nu=0 is out of range; nu must be an integer in \[1, 8\]", id="nu-0"),
        pytest.param("delta", "nu", 2.5, r"nu=2\.5 is not allowed; nu must be an integer", id="nu-2.5"),
        pytest.param("delta", "m", 0, r"m=0 is out of range", id="m-0"),
        pytest.param("delta", "seed", -1, r"seed=-1 is out of range", id="seed-neg"),
        pytest.param("decay", "gamma", "0.5", r"gamma='0\.5' is not allowed; gamma must be a number", id="gamma-str"),
        pytest.param("rls", "ridge", "small", r"ridge='small' is not allowed", id="ridge-str"),
        pytest.param("delta", "nu", "2", r"nu='2' is not allowed; nu must be an integer", id="nu-str"),
        pytest.param("titans", "momentum", None, r"momentum=None is not allowed", id="momentum-None"),
        pytest.param("delta", "nu", True, r"nu=True is not allowed", id="nu-bool"),
        pytest.param("delta", "scale", [1.0], r"scale=\[1\.0\] is not allowed", id="scale-list"),
    ],
)
def test_out_of_range_or_wrongly_typed_hyper_parameters(name, hp, value, msg):
    with pytest.raises(ValueError, match=msg):
        fwp_core.make_rule(name, **{hp: value})


def test_edge_values_are_allowed_and_canonicalised():
    assert fwp_core.make_rule("decay", gamma=1.0).hparams["gamma"] == 1.0
    assert fwp_core.make_rule("titans", momentum=0.0).hparams["momentum"] == 0.0
    r = fwp_core.make_rule("delta", nu=2.0, m=np.int64(16))
    assert r.hparams["nu"] == 2 and isinstance(r.hparams["nu"], int)
    assert r.hparams["m"] == 16 and isinstance(r.hparams["m"], int)
    assert isinstance(fwp_core.make_rule("decay", gamma=np.float32(0.5)).hparams["gamma"], float)


# ---------------------------------------------------------------- shapes
def _call(rule, inp, **over):
    x = {**inp, **over}
    return rule.run(x["q"], x["k"], x["v"], beta=x["beta"], gate=x["gate"])


@pytest.mark.parametrize("name", ALL_RULES)
def test_length_mismatch(name):
    rule, inp = make(name, 6, seed=1)
    with pytest.raises(ValueError, match=r"q, k and v must have the same length T, got 5, 6, 6"):
        _call(rule, inp, q=inp["q"][:5])
    with pytest.raises(ValueError, match=r"same length T, got 6, 6, 4"):
        _call(rule, inp, v=inp["v"][:4])


@pytest.mark.parametrize("name", ALL_RULES)
def test_feature_size_mismatch(name):
    rule, inp = make(name, 6, d_k=4, seed=1)
    with pytest.raises(ValueError, match=r"q and k must have the same feature size d_k, got 3 and 4"):
        _call(rule, inp, q=inp["q"][..., :3])


@pytest.mark.parametrize("name", ALL_RULES)
def test_batch_mismatch(name):
    rule, inp = make(name, 6, batch=(2,), seed=1)
    _, other = make(name, 6, batch=(3,), seed=1)
    with pytest.raises(ValueError, match=r"leading batch dimensions do not match: q \(3,\), k \(2,\), v \(2,\)"):
        _call(rule, inp, q=other["q"])


@pytest.mark.parametrize("name", ALL_RULES)
def test_too_few_dimensions(name):
    rule, inp = make(name, 6, seed=1)
    expected = r"\(\.\.\., T, n_h, d\)" if fwp_core.RULES[name].substeps else r"\(\.\.\., T, d\)"
    with pytest.raises(ValueError, match=rf"k must have shape {expected}"):
        _call(rule, inp, k=inp["k"][0, ..., 0] if fwp_core.RULES[name].substeps else inp["k"][0])


def test_delta_product_substep_mismatch():
    rule, inp = make("delta_product", 6, n_h=3, seed=1)
    with pytest.raises(ValueError, match=r"k and v must have the same number of sub-steps, got 3 and 2"):
        _call(rule, inp, v=inp["v"][:, :2])
    with pytest.raises(ValueError, match=r"beta must be a scalar or broadcast to shape \(6, 3\)"):
        _call(rule, inp, beta=inp["beta"][:, :2])


@pytest.mark.parametrize("name", ALL_RULES)
def test_beta_of_wrong_shape(name):
    rule, inp = make(name, 6, seed=1)
    with pytest.raises(ValueError, match=r"beta must be a scalar or broadcast to shape \(6"):
        _call(rule, inp, beta=torch.full((5,), 0.5, dtype=DT))


def test_zero_sized_feature_axis():
    with pytest.raises(ValueError, match=r"d_k and d_v must be at least 1"):
        fwp_core.make_rule("hebbian").run(torch.zeros(3, 0), torch.zeros(3, 0), torch.zeros(3, 2))


@pytest.mark.parametrize("name", ALL_RULES)
def test_empty_sequence(name):
    rule, inp = make(name, 4, seed=1)
    empty = {key: None if x is None else x[:0] for key, x in inp.items()}
    with pytest.raises(ValueError, match=r"the sequence is empty: T must be at least 1"):
        _call(rule, inp, **empty)
    if rule.has_parallel:
        with pytest.raises(ValueError, match=r"sequence is empty"):
            rule.parallel(empty["q"], empty["k"], empty["v"], beta=empty["beta"], gate=empty["gate"])
        with pytest.raises(ValueError, match=r"sequence is empty"):
            rule.chunked(empty["q"], empty["k"], empty["v"], beta=empty["beta"], gate=empty["gate"], chunk_size=2)


# ---------------------------------------------------------------- non-finite numbers and gates
@pytest.mark.parametrize("name", ALL_RULES)
@pytest.mark.parametrize("field", ("q", "k", "v", "beta", "gate"))
@pytest.mark.parametrize("bad", (float("nan"), float("inf"), -float("inf")), ids=("nan", "inf", "-inf"))
def test_non_finite_input(name, field, bad):
    rule, inp = make(name, 5, seed=2)
    if inp[field] is None:
        if field == "gate" and fwp_core.RULES[name].gate_kind is None:
            return  # covered by test_gate_to_a_rule_without_gate
        pytest.fail(f"make() gave no {field} for {name}")
    x = inp[field].clone()
    x.view(-1)[3] = bad
    with pytest.raises(ValueError, match=rf"{field} contains 1 non-finite value\(s\) \(NaN or inf\)"):
        _call(rule, inp, **{field: x})


@pytest.mark.parametrize("name", [n for n in ALL_RULES if fwp_core.RULES[n].gate_kind is not None])
@pytest.mark.parametrize("value", (-0.01, 1.01, 2.0), ids=lambda v: f"gate{v}")
def test_gate_outside_unit_interval(name, value):
    rule, inp = make(name, 5, seed=3)
    g = inp["gate"].clone()
    g.view(-1)[0] = value
    with pytest.raises(ValueError, match=r"gate values must lie in \[0, 1\]"):
        _call(rule, inp, gate=g)
    with pytest.raises(ValueError, match=r"gate values must lie in \[0, 1\]"):
        _call(rule, inp, gate=value)


@pytest.mark.parametrize("name", [n for n in ALL_RULES if fwp_core.RULES[n].gate_kind is None])
def test_gate_to_a_rule_without_gate(name):
    rule, inp = make(name, 5, seed=3)
    with pytest.raises(ValueError, match=rf"rule '{name}' takes no gate; rules with a gate: .*gated"):
        _call(rule, inp, gate=0.5)
    with pytest.raises(ValueError, match="takes no gate"):
        rule.step(None, inp["q"][0], inp["k"][0], inp["v"][0], gate=0.5)


def test_per_channel_gate_needs_d_phi():
    rule = fwp_core.make_rule("gla", feature_map="dpfp", nu=2)  # d_phi = 2·4·2 = 16
    _, inp = make("gla", 5, d_k=4, seed=4, rule=rule)
    assert inp["gate"].shape == (5, 16)
    with pytest.raises(ValueError, match=r"a per-channel gate needs trailing axes \(T, d_phi\) = \(5, 16\), got \(5, 4\)"):
        _call(rule, inp, gate=torch.full((5, 4), 0.9, dtype=DT))


# ---------------------------------------------------------------- forms and chunk sizes
@pytest.mark.parametrize("name", SERIAL_RULES)
def test_no_parallel_or_chunked_form(name):
    rule, inp = make(name, 5, seed=5)
    assert rule.has_parallel is False
    with pytest.raises(ValueError, match=rf"rule '{name}' has no parallel form"):
        rule.parallel(**inp)
    with pytest.raises(ValueError, match=rf"rule '{name}' has no chunked form"):
        rule.chunked(**inp, chunk_size=4)


@pytest.mark.parametrize("name", PARALLEL_RULES)
@pytest.mark.parametrize("chunk", (0, -3, 2.5, 4.0, "4", True, None), ids=repr)
def test_bad_chunk_size(name, chunk):
    rule, inp = make(name, 5, seed=5)
    with pytest.raises(ValueError, match=r"chunk_size must be a positive integer, got"):
        rule.chunked(**inp, chunk_size=chunk)


# ---------------------------------------------------------------- initial state and step state
@pytest.mark.parametrize("name", ALL_RULES)
def test_bad_initial_state(name):
    rule, inp = make(name, 5, d_k=4, d_v=3, seed=6)
    d_phi = rule.phi.out_dim(4)
    with pytest.raises(ValueError, match=rf"initial_state W_0 must have shape \(\.\.\., d_v, d_phi\) = \(3, {d_phi}\), got \(4, 3\)"):
        rule.run(**inp, initial_state=torch.zeros(4, 3, dtype=DT))
    with pytest.raises(ValueError, match=r"initial_state must be a tensor W_0 or a state dict with key 'W'"):
        rule.run(**inp, initial_state={"z": torch.zeros(d_phi, dtype=DT)})
    with pytest.raises(ValueError, match=r"unknown state entry 'bogus'"):
        rule.run(**inp, initial_state={"W": torch.zeros(3, d_phi, dtype=DT), "bogus": torch.zeros(1)})
    bad = torch.zeros(3, d_phi, dtype=DT)
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"initial_state contains 1 non-finite value"):
        rule.run(**inp, initial_state=bad)
    if rule.has_parallel:
        with pytest.raises(ValueError, match=r"initial_state W_0 must have shape"):
            rule.chunked(**inp, chunk_size=2, initial_state=torch.zeros(4, 3, dtype=DT))


def _has_extra_state(name: str) -> bool:
    rule, inp = make(name, 1)
    return set(rule.run(**inp).final_state) != {"W"}


@pytest.mark.parametrize("name", [n for n in ALL_RULES if _has_extra_state(n)])
def test_bad_extra_state_entry_shape(name):
    rule, inp = make(name, 5, seed=6)
    st = dict(rule.run(**inp).final_state)
    extra = next(key for key in st if key != "W")
    st[extra] = torch.zeros(7, 7, 7, dtype=DT)
    with pytest.raises(ValueError, match=rf"initial_state\['{extra}'\] must have shape"):
        rule.run(**inp, initial_state=st)


def test_step_rejects_a_bad_state():
    rule, inp = make("hebbian", 3, seed=7)
    with pytest.raises(ValueError, match=r"state must be None or the state dict returned by a previous step"):
        rule.step("W", inp["q"][0], inp["k"][0], inp["v"][0])
    with pytest.raises(ValueError, match=r"q_t must have at least 1 dimension"):
        rule.step(None, torch.tensor(1.0), inp["k"][0], inp["v"][0])
    with pytest.raises(ValueError, match=r"q and k must have the same feature size"):
        rule.step(None, inp["q"][0, :2], inp["k"][0], inp["v"][0])
    bad = inp["v"][0].clone()
    bad[0] = float("nan")
    with pytest.raises(ValueError, match=r"v contains 1 non-finite"):
        rule.step(None, inp["q"][0], inp["k"][0], bad)


# ---------------------------------------------------------------- what the arrays are made of
@pytest.mark.parametrize(
    "value,msg",
    [
        pytest.param(torch.ones(4, 3, dtype=torch.complex128), r"q must be real floating point, got dtype torch\.complex128", id="complex"),
        pytest.param(torch.ones(4, 3, dtype=torch.bool), r"q must be real floating point, got dtype torch\.bool", id="bool"),
        pytest.param("abc", r"q must", id="string"),
        pytest.param([[1.0, 2.0], [3.0]], r"q must be a numeric array or tensor", id="ragged"),
    ],
)
def test_non_numeric_input(value, msg):
    k = torch.ones(4, 3, dtype=DT)
    with pytest.raises(ValueError, match=msg):
        fwp_core.make_rule("hebbian").run(value, k, k)


@pytest.mark.skipif("cuda" not in DEVICES, reason="needs two devices")
def test_mixed_devices():
    q = torch.ones(4, 3, dtype=DT)
    with pytest.raises(ValueError, match=r"q, k and v must be on one device"):
        fwp_core.make_rule("hebbian").run(q, q.cuda(), q)


def test_softmax_attention_shapes():
    q = torch.randn(5, 3, dtype=DT)
    with pytest.raises(ValueError, match=r"softmax attention needs q, k \(\.\.\., T, d_k\)"):
        fwp_core.softmax_attention(q, q[:4], q)
    bad = q.clone()
    bad[1, 1] = math.nan
    with pytest.raises(ValueError, match=r"k contains 1 non-finite"):
        fwp_core.softmax_attention(q, bad, q)
    form = fwp_core.softmax_attention(q, q, q)  # and the good case computes softmax(QKᵀ + mask) V
    logits = q @ q.T
    A = torch.softmax(logits.masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(1), -math.inf), -1)
    assert float((form.outputs - A @ q).abs().max()) < 1e-14
    assert float((A.sum(-1) - 1).abs().max()) < 1e-14
