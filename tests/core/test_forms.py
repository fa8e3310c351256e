"""Parallel and chunkwise forms against the recurrent run, for every rule with a parallel form.

float64, max |Δ| ≤ 1e-9 (T ≤ 256, d ≤ 32 as rules.md promises); float32 within 1e-4.
"""

from __future__ import annotations

import pytest
import torch

import fwp_core

from .conftest import DEVICES, PARALLEL_RULES, SERIAL_RULES, assert_close, make, slice_time

CHUNKS = (1, 3, 16, 64)  # with T = 37 every one but 1 leaves a ragged last chunk; 64 > T


def _ids(name, T, d_k, extra=""):
    return f"{name}-T{T}-dk{d_k}{extra}"


def _form_cases():
    for name in PARALLEL_RULES:
        for T, d_k, batch in ((1, 4, ()), (7, 5, ()), (37, 5, (2, 3)), (100, 32, ())):
            for dev in DEVICES:
                b = "x".join(map(str, batch)) or "nobatch"
                yield pytest.param(name, T, d_k, batch, dev, id=_ids(name, T, d_k, f"-{b}-{dev}"))


def test_registry_split_is_consistent():
    assert set(PARALLEL_RULES) | set(SERIAL_RULES) == set(fwp_core.rule_names())
    assert not set(PARALLEL_RULES) & set(SERIAL_RULES)
    for name in fwp_core.rule_names():
        assert fwp_core.make_rule(name).has_parallel == fwp_core.RULES[name].has_parallel
        assert (fwp_core.RULES[name].parallel_latex is not None) == fwp_core.RULES[name].has_parallel, name


@pytest.mark.parametrize("name,T,d_k,batch,device", list(_form_cases()))
def test_parallel_equals_run(name, T, d_k, batch, device):
    rule, inp = make(name, T, d_k=d_k, d_v=3, batch=batch, seed=T + d_k, device=device)
    tr = rule.run(**inp)
    assert tr.diverged_at is None
    form = rule.parallel(**inp)
    assert form.outputs.device.type == device
    assert_close(form.outputs, tr.outputs, what="parallel vs run")
    assert_close(form.attention @ form.values, form.outputs, what="attention @ values")
    # causal: no output depends on later tokens (attention above the diagonal is exactly zero)
    A = form.attention
    if not fwp_core.RULES[name].substeps:
        assert A.shape == (*batch, T, T)
        assert torch.all(torch.triu(A, diagonal=1) == 0)


@pytest.mark.parametrize("name,T,d_k,batch,device", list(_form_cases()))
@pytest.mark.parametrize("chunk", CHUNKS, ids=lambda c: f"C{c}")
def test_chunked_equals_run(name, T, d_k, batch, device, chunk):
    rule, inp = make(name, T, d_k=d_k, d_v=3, batch=batch, seed=T + d_k, device=device)
    tr = rule.run(**inp)
    y, state = rule.chunked(**inp, chunk_size=chunk)
    assert y.device.type == device
    assert_close(y, tr.outputs, what=f"chunked C={chunk} outputs")
    assert set(state) == set(tr.final_state)
    assert_close(state["W"], tr.weights[..., -1, :, :], what="final W")
    for key in state:
        assert_close(state[key], tr.final_state[key], rel_to=tr.final_state[key], what=f"final {key}")


def test_chunked_accepts_numpy_integer_chunk_size():
    import numpy as np

    rule, inp = make(PARALLEL_RULES[0], 10, seed=1)
    y, _ = rule.chunked(**inp, chunk_size=np.int64(4))
    assert_close(y, rule.run(**inp).outputs)


@pytest.mark.parametrize("name", PARALLEL_RULES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("chunk", (1, 5, 64), ids=lambda c: f"C{c}")
def test_chunked_from_tensor_initial_state(name, device, chunk):
    rule, inp = make(name, 23, d_k=4, d_v=3, batch=(2,), seed=21, device=device)
    W0 = 0.5 * torch.randn(2, 3, rule.phi.out_dim(4), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    W0 = W0.to(device)
    tr = rule.run(**inp, initial_state=W0)
    assert torch.equal(tr.weights[:, 0], W0)
    assert not torch.allclose(tr.outputs, rule.run(**inp).outputs)  # W_0 matters
    y, state = rule.chunked(**inp, chunk_size=chunk, initial_state=W0)
    assert_close(y, tr.outputs, what="outputs")
    assert_close(state["W"], tr.weights[:, -1], what="final W")


@pytest.mark.parametrize("name", PARALLEL_RULES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("chunk", (1, 4, 64), ids=lambda c: f"C{c}")
def test_chunked_continues_from_final_state(name, device, chunk):
    """First half by run (its final_state carries z / P where the rule has them), second half chunked."""
    T, h = 37, 15
    rule, inp = make(name, T, d_k=4, d_v=3, batch=(2,), seed=22, device=device)
    whole = rule.run(**inp)
    first = rule.run(**slice_time(inp, slice(0, h), name))
    y2, state = rule.chunked(**slice_time(inp, slice(h, T), name), chunk_size=chunk, initial_state=first.final_state)
    assert_close(y2, whole.outputs[:, h:], what="second-half outputs")
    for key in whole.final_state:
        assert_close(state[key], whole.final_state[key], rel_to=whole.final_state[key], what=f"final {key}")
    # and chunked on the first half hands over a state that run can continue from
    _, s1 = rule.chunked(**slice_time(inp, slice(0, h), name), chunk_size=chunk)
    second = rule.run(**slice_time(inp, slice(h, T), name), initial_state=s1)
    assert_close(second.outputs, whole.outputs[:, h:], what="run after chunked")


def _feature_cases():
    maps = {
        "identity": {}, "elu1": {}, "relu": {}, "softmax": {}, "dpfp": {"nu": 2}, "favor": {"m": 16},
    }
    for name in PARALLEL_RULES:
        for fm, extra in maps.items():
            for norm in fwp_core.NORMALIZATIONS:
                tag = "".join(f"-{k}{v}" for k, v in extra.items())
                yield pytest.param(name, fm, norm, extra, id=f"{name}-{fm}{tag}-{norm}")


@pytest.mark.parametrize("name,fm,norm,extra", list(_feature_cases()))
def test_forms_agree_for_every_feature_map(name, fm, norm, extra):
    T, d_k = 29, 4
    rule, inp = make(name, T, d_k=d_k, d_v=3, seed=31, feature_map=fm, normalize=norm, **extra)
    tr = rule.run(**inp)
    assert tr.diverged_at is None
    d_phi = rule.phi.out_dim(d_k)
    assert tr.weights.shape[-1] == d_phi and tr.keys.shape[-1] == d_phi
    assert_close(tr.keys, rule.phi(inp["k"]), 0.0)
    form = rule.parallel(**inp)
    assert_close(form.outputs, tr.outputs, rel_to=tr.outputs, what="parallel")
    for chunk in (3, 8):
        y, state = rule.chunked(**inp, chunk_size=chunk)
        assert_close(y, tr.outputs, rel_to=tr.outputs, what=f"chunked C={chunk}")
        assert_close(state["W"], tr.weights[-1], rel_to=tr.weights[-1], what=f"final W C={chunk}")


@pytest.mark.parametrize("name", [n for n in PARALLEL_RULES if fwp_core.RULES[n].gate_kind == "channel"])
def test_channel_rule_with_scalar_gate(name):
    """A per-channel rule also takes a scalar gate (..., T): all forms agree and equal α broadcast."""
    rule, inp = make(name, 19, d_k=4, d_v=3, seed=3, channel_gate=False)
    a = torch.linspace(0.7, 1.0, 19, dtype=torch.float64)
    tr = rule.run(**{**inp, "gate": a})
    tr_c = rule.run(**{**inp, "gate": a.unsqueeze(-1).expand(19, rule.phi.out_dim(4))})
    assert_close(tr.outputs, tr_c.outputs, 1e-12)
    assert_close(rule.parallel(**{**inp, "gate": a}).outputs, tr.outputs)
    for chunk in (1, 4, 64):
        assert_close(rule.chunked(**{**inp, "gate": a}, chunk_size=chunk)[0], tr.outputs)


@pytest.mark.parametrize("name", [n for n in PARALLEL_RULES if fwp_core.RULES[n].gate_kind is not None])
def test_zero_gate_forgets_exactly(name):
    """α_t = 0 wipes the memory; the parallel and chunked forms must agree exactly there too."""
    T = 12
    rule, inp = make(name, T, d_k=4, d_v=3, seed=4)
    gate = inp["gate"].clone()
    gate[5] = 0.0
    inp = {**inp, "gate": gate}
    tr = rule.run(**inp)
    assert_close(rule.parallel(**inp).outputs, tr.outputs)
    for chunk in (1, 3, 7, 64):
        assert_close(rule.chunked(**inp, chunk_size=chunk)[0], tr.outputs, what=f"C={chunk}")
    # from step 6 on, the run equals a fresh run on tokens 6.. (nothing from before survives)
    fresh = rule.run(**slice_time(inp, slice(5, T), name))
    assert_close(tr.outputs[5:], fresh.outputs, 1e-12)


@pytest.mark.parametrize("name", PARALLEL_RULES)
@pytest.mark.parametrize("device", DEVICES)
def test_float32_forms_agree(name, device):
    rule, inp = make(name, 64, d_k=8, d_v=4, batch=(2,), seed=41, device=device, dtype=torch.float32)
    tr = rule.run(**inp)
    assert tr.outputs.dtype == torch.float32
    form = rule.parallel(**inp)
    y, state = rule.chunked(**inp, chunk_size=16)
    assert form.outputs.dtype == torch.float32 and y.dtype == torch.float32
    assert_close(form.outputs, tr.outputs, 1e-4, rel_to=tr.outputs, what="parallel f32")
    assert_close(y, tr.outputs, 1e-4, rel_to=tr.outputs, what="chunked f32")
    assert_close(state["W"], tr.weights[:, -1], 1e-4, rel_to=tr.weights[:, -1], what="final W f32")


@pytest.mark.parametrize("name", PARALLEL_RULES)
def test_forms_agree_with_default_beta_and_gate(name):
    """No beta and no gate: the hyper-parameter defaults (β = 1, γ for decay) in every form."""
    rule, inp = make(name, 21, d_k=4, d_v=3, seed=51)
    q, k, v = inp["q"], inp["k"], inp["v"]
    tr = rule.run(q, k, v)
    assert tr.diverged_at is None
    assert torch.all(tr.beta == 1.0)
    assert_close(rule.parallel(q, k, v).outputs, tr.outputs)
    for chunk in (1, 6, 64):
        y, state = rule.chunked(q, k, v, chunk_size=chunk)
        assert_close(y, tr.outputs, what=f"C={chunk}")
        assert_close(state["W"], tr.weights[-1], what=f"final W C={chunk}")


@pytest.mark.parametrize("name", PARALLEL_RULES)
def test_forms_agree_with_query_scale(name):
    rule, inp = make(name, 17, d_k=4, d_v=3, seed=52, scale=2.5)
    tr = rule.run(**inp)
    assert_close(tr.queries, 2.5 * rule.phi(inp["q"]), 1e-15)
    assert_close(rule.parallel(**inp).outputs, tr.outputs, rel_to=tr.outputs)
    assert_close(rule.chunked(**inp, chunk_size=5)[0], tr.outputs, rel_to=tr.outputs)


def _substep_rules():
    return [n for n in fwp_core.rule_names() if fwp_core.RULES[n].substeps]


@pytest.mark.parametrize("name", _substep_rules())
@pytest.mark.parametrize("n_h", (1, 3), ids=lambda n: f"nh{n}")
def test_substeps_are_delta_over_the_interleaved_sequence(name, n_h):
    """rules.md: delta_product = the delta rule over the interleaved sub-step sequence, read every n_h-th output."""
    T = 9
    rule, inp = make(name, T, d_k=4, d_v=3, n_h=n_h, seed=53)
    tr = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"])
    flat = {
        "q": inp["q"].repeat_interleave(n_h, dim=0),
        "k": inp["k"].reshape(T * n_h, 4),
        "v": inp["v"].reshape(T * n_h, 3),
        "beta": inp["beta"].reshape(T * n_h),
    }
    delta = fwp_core.make_rule("delta", **{h: rule.hparams[h] for h in ("feature_map", "normalize")})
    ref = delta.run(flat["q"], flat["k"], flat["v"], beta=flat["beta"])
    assert_close(tr.outputs, ref.outputs[n_h - 1 :: n_h], 1e-12)
    assert_close(tr.weights[1:], ref.weights[n_h::n_h], 1e-12)
    assert_close(tr.retrieved, ref.retrieved[::n_h], 1e-12)  # read with the first sub-step's key
    # and a gate decays once per token, before its first sub-step: gated_delta on the interleaved sequence
    gate = torch.ones(T, n_h, dtype=torch.float64)
    gate[:, 0] = inp["gate"]
    gd = fwp_core.make_rule("gated_delta", **{h: rule.hparams[h] for h in ("feature_map", "normalize")})
    ref_g = gd.run(flat["q"], flat["k"], flat["v"], beta=flat["beta"], gate=gate.reshape(T * n_h))
    assert_close(rule.run(**inp).outputs, ref_g.outputs[n_h - 1 :: n_h], 1e-12)


@pytest.mark.parametrize("name", PARALLEL_RULES)
def test_chunked_gradients_equal_the_recurrence(name):
    """Gradients flow through the chunked form (training through it) and equal those through run."""
    rule, inp = make(name, 23, d_k=4, d_v=3, batch=(2,), seed=5, device="cpu")
    leaves = {key: val.detach().clone().requires_grad_(True) for key, val in inp.items()
              if key in ("q", "k", "v") and isinstance(val, torch.Tensor)}
    w = torch.randn(*rule.run(**inp).outputs.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    grads = []
    for form in ("run", "chunked"):
        x = {key: val.detach().clone().requires_grad_(True) for key, val in leaves.items()}
        args = {**inp, **x}
        y = rule.run(**args).outputs if form == "run" else rule.chunked(**args, chunk_size=8)[0]
        (y * w).sum().backward()
        grads.append([x[key].grad for key in sorted(x)])
    for g_run, g_chunk in zip(*grads):
        assert torch.isfinite(g_chunk).all() and g_chunk.abs().max() > 0
        assert_close(g_chunk, g_run, rel_to=g_run, what="gradient chunked vs run")
