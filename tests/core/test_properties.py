"""Property tests (hypothesis): forms agree on random shapes, feature maps keep their promises,
hyper-parameters are accepted exactly on their documented ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fwp_core
from fwp_core import FEATURE_MAPS, NORMALIZATIONS, FeatureMap

from .conftest import ALL_RULES, PARALLEL_RULES, assert_close, make

DT = torch.float64
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def episodes(draw):
    """Shapes, a seed, β ∈ (0, 1) as a scalar or per token, and a chunk size."""
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    T = draw(st.integers(1, 24))
    d_k = draw(st.integers(1, 8))
    d_v = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    per_token = draw(st.booleans())
    betas = st.floats(0.001, 0.999, allow_nan=False)
    if per_token:
        beta = torch.tensor(draw(st.lists(betas, min_size=T, max_size=T)), dtype=DT).expand(*batch, T)
    else:
        beta = draw(betas)
    chunk = draw(st.integers(1, T + 3))
    return batch, T, d_k, d_v, seed, beta, chunk


@pytest.mark.parametrize("name", ["delta", "hebbian"])
@FAST
@given(ep=episodes())
def test_run_parallel_chunked_agree_delta_hebbian(name, ep):
    batch, T, d_k, d_v, seed, beta, chunk = ep
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, T, d_k, generator=g, dtype=DT)
    k = torch.randn(*batch, T, d_k, generator=g, dtype=DT)
    v = torch.randn(*batch, T, d_v, generator=g, dtype=DT)
    rule = fwp_core.make_rule(name, normalize="l2")
    tr = rule.run(q, k, v, beta=beta)
    assert tr.diverged_at is None
    n = tr.keys.norm(dim=-1)
    assert bool(((n - 1).abs() < 1e-12).all())  # l2-normalised keys
    form = rule.parallel(q, k, v, beta=beta)
    y, state = rule.chunked(q, k, v, beta=beta, chunk_size=chunk)
    assert_close(form.outputs, tr.outputs, what="parallel")
    assert_close(form.attention @ form.values, form.outputs, what="attention @ values")
    assert_close(y, tr.outputs, what=f"chunked C={chunk}")
    assert_close(state["W"], tr.weights[..., -1, :, :], what="final W")
    if name == "delta":  # β ∈ (0,1) and unit keys: the memory never grows past Σ β‖v‖
        bound = (torch.as_tensor(beta, dtype=DT).expand(*batch, T) * v.norm(dim=-1)).sum(-1)
        assert bool((tr.weights[..., -1, :, :].norm(dim=(-1, -2)) <= bound + 1e-12).all())


@FAST
@given(name=st.sampled_from(PARALLEL_RULES), T=st.integers(1, 20), d_k=st.integers(1, 6),
       batch=st.lists(st.integers(1, 2), max_size=2).map(tuple), chunk=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_every_parallel_rule_agrees_on_random_shapes(name, T, d_k, batch, chunk, seed):
    rule, inp = make(name, T, d_k=d_k, d_v=2, batch=batch, seed=seed)
    tr = rule.run(**inp)
    assert tr.diverged_at is None
    assert_close(rule.parallel(**inp).outputs, tr.outputs, rel_to=tr.outputs, what="parallel")
    y, state = rule.chunked(**inp, chunk_size=chunk)
    assert_close(y, tr.outputs, rel_to=tr.outputs, what="chunked")
    assert_close(state["W"], tr.weights[..., -1, :, :], rel_to=tr.weights, what="final W")


@FAST
@given(
    name=st.sampled_from(FEATURE_MAPS),
    norm=st.sampled_from(NORMALIZATIONS),
    nu=st.integers(1, 4),
    m=st.integers(1, 32),
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                 elements=st.floats(-30, 30, allow_nan=False, allow_subnormal=False)),
)
def test_feature_maps_are_finite_with_documented_dimension(name, norm, nu, m, x):
    fm = FeatureMap(name, norm, nu=nu, m=m, seed=1)
    d = x.shape[-1]
    out = fm(torch.from_numpy(x))
    expected = {"dpfp": 2 * d * nu, "favor": m}.get(name, d)
    assert fm.out_dim(d) == expected
    assert out.shape == (*x.shape[:-1], expected)
    assert out.dtype == DT
    assert bool(torch.isfinite(out).all())
    if name in ("elu1", "softmax", "favor"):
        assert bool((out >= 0).all())
    if name in ("relu", "dpfp"):
        assert bool((out >= 0).all())
    if norm == "l2":
        n = out.norm(dim=-1)
        assert bool(((n == 0) | ((n - 1).abs() < 1e-9)).all())
    if norm == "sum" and name != "identity":
        s = out.sum(-1)
        assert bool(((s == 0) | ((s - 1).abs() < 1e-9)).all())


# ---------------------------------------------------------------- hyper-parameter ranges
BIG = 1e9


def _valid(h: fwp_core.HParam) -> st.SearchStrategy:
    if h.kind == "choice":
        return st.sampled_from(h.choices)
    lo = -BIG if h.low is None else h.low
    hi = BIG if h.high is None else h.high
    if h.kind == "int":
        return st.integers(int(math.ceil(lo)) + int(h.low_open), int(math.floor(hi)) - int(h.high_open))
    return st.floats(lo, hi, exclude_min=h.low_open, exclude_max=h.high_open, allow_nan=False)


def _invalid(h: fwp_core.HParam) -> st.SearchStrategy:
    if h.kind == "choice":
        return st.text(max_size=8).filter(lambda s: s not in h.choices) | st.integers() | st.none()
    outs = [st.sampled_from([float("nan"), float("inf"), "1", None])]
    if h.low is not None:
        outs.append(st.floats(min(-BIG, -4 * abs(h.low) - 1), h.low, exclude_max=not h.low_open, allow_nan=False).filter(lambda x: x < h.low or h.low_open))
    if h.high is not None:
        outs.append(st.floats(h.high, max(2 * BIG, 4 * abs(h.high) + 1), exclude_min=not h.high_open, allow_nan=False).filter(lambda x: x > h.high or h.high_open))
    if h.kind == "int":
        outs.append(st.floats(0.1, 0.9).map(lambda f: (h.low or 0) + 1 + f))
    return st.one_of(*outs)


@st.composite
def valid_hparams(draw):
    name = draw(st.sampled_from(ALL_RULES))
    hps = fwp_core.RULES[name].all_hparams()
    chosen = draw(st.lists(st.sampled_from(hps), unique_by=lambda h: h.name, max_size=len(hps)))
    values = {h.name: draw(_valid(h)) for h in chosen}
    return name, values


@FAST
@given(nv=valid_hparams())
def test_make_rule_accepts_every_value_in_range(nv):
    name, values = nv
    # keep the random features small so the smoke run stays fast
    values = {key: (min(val, 64) if key == "m" else val) for key, val in values.items()}
    rule = fwp_core.make_rule(name, **values)
    assert rule.name == name
    spec = fwp_core.RULES[name]
    assert set(rule.hparams) == {h.name for h in spec.all_hparams()}
    for h in spec.all_hparams():
        expected = values.get(h.name, h.default)
        got = rule.hparams[h.name]
        assert got == expected, h.name
        assert isinstance(got, {"choice": str, "int": int, "float": float}[h.kind]), h.name
    # a valid rule runs: its outputs are finite, or the divergence is reported and masked
    _, inp = make(name, 4, d_k=3, d_v=2, seed=0, rule=rule)
    tr = rule.run(**inp)
    assert tr.outputs.shape == (4, 2)
    if tr.diverged_at is None:
        assert bool(torch.isfinite(tr.outputs).all() and torch.isfinite(tr.weights).all())
    else:
        assert 1 <= tr.diverged_at <= 4
        assert bool(torch.isfinite(tr.outputs[: tr.diverged_at - 1]).all())
        assert bool(torch.isnan(tr.outputs[tr.diverged_at - 1 :]).all())


@st.composite
def invalid_hparam(draw):
    name = draw(st.sampled_from(ALL_RULES))
    h = draw(st.sampled_from(fwp_core.RULES[name].all_hparams()))
    return name, h, draw(_invalid(h))


@FAST
@given(nhv=invalid_hparam())
def test_make_rule_rejects_every_value_out_of_range(nhv):
    name, h, value = nhv
    if h.kind == "float" and isinstance(value, float) and math.isfinite(value):
        assume((h.low is not None and (value < h.low or (h.low_open and value == h.low)))
               or (h.high is not None and (value > h.high or (h.high_open and value == h.high))))
    with pytest.raises(ValueError, match=rf"{h.name}=.* (is not allowed|is out of range); {h.name} must be") as info:
        fwp_core.make_rule(name, **{h.name: value})
    assert h.allowed() in str(info.value)
