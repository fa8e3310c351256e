"""The recurrent form of every registered rule: step vs run, batching, the Trace contract, dtypes.

Parametrised over the registry (``fwp_core.rule_names()``), in float64 with max |Δ| ≤ 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fwp_core

from .conftest import ALL_RULES, DEVICES, assert_close, make, slice_time


def _at(x: torch.Tensor | None, nb: int, t: int):
    return None if x is None else x[(slice(None),) * nb + (t,)]


def _cases(Ts=(1, 7, 37), batches=((), (2, 3))):
    for name in ALL_RULES:
        for T in Ts:
            for batch in batches:
                for dev in DEVICES:
                    b = "x".join(map(str, batch)) or "nobatch"
                    yield pytest.param(name, T, batch, dev, id=f"{name}-T{T}-dk5-{b}-{dev}")


@pytest.mark.parametrize("name,T,batch,device", list(_cases()))
def test_step_loop_equals_run(name, T, batch, device):
    rule, inp = make(name, T, d_k=5, d_v=3, batch=batch, seed=T, device=device)
    tr = rule.run(**inp)
    assert tr.diverged_at is None
    nb = len(batch)
    state = None
    for t in range(T):
        x = {key: _at(val, nb, t) for key, val in inp.items()}
        W_prev = tr.weights.select(nb, t)
        state, rec = rule.step(state, x["q"], x["k"], x["v"], beta=x["beta"], gate=x["gate"])
        assert rec.output.device.type == device
        assert_close(rec.weights, tr.weights.select(nb, t + 1), what=f"W_{t + 1}")
        assert_close(state["W"], tr.weights.select(nb, t + 1), what=f"state W_{t + 1}")
        assert_close(rec.update, tr.weights.select(nb, t + 1) - W_prev, what=f"update {t + 1}")
        assert_close(rec.retrieved, tr.retrieved.select(nb, t), what=f"r_{t + 1}")
        assert_close(rec.output, tr.outputs.select(nb, t), what=f"y_{t + 1}")
        assert_close(rec.retrieval_error, tr.retrieval_error.select(nb, t), what=f"e_{t + 1}")
        assert_close(rec.key, tr.keys.select(nb, t), what=f"φ(k_{t + 1})")
        assert_close(rec.query, tr.queries.select(nb, t), what=f"φ(q_{t + 1})")
    assert set(state) == set(tr.final_state)
    for key in state:
        assert_close(state[key], tr.final_state[key], what=f"final state {key}")


@pytest.mark.parametrize("name", ALL_RULES)
@pytest.mark.parametrize("device", DEVICES)
def test_batched_equals_one_element_at_a_time(name, device):
    batch = (2, 3)
    rule, inp = make(name, 11, d_k=4, d_v=3, batch=batch, seed=5, device=device)
    tr = rule.run(**inp)
    assert tr.weights.shape[:2] == batch
    for i in range(batch[0]):
        for j in range(batch[1]):
            one = rule.run(**{key: None if x is None else x[i, j] for key, x in inp.items()})
            for field in ("weights", "retrieved", "outputs", "retrieval_error", "keys", "queries"):
                assert_close(getattr(tr, field)[i, j], getattr(one, field), what=f"{field}[{i},{j}]")
            for key, val in one.final_state.items():
                assert_close(tr.final_state[key][i, j], val, what=f"final_state[{key}][{i},{j}]")


@pytest.mark.parametrize("name", ALL_RULES)
def test_trace_contract(name):
    """Shapes; updates = Δweights; retrieved = W_{t−1}φ(k_t) (linear_attention: / (z_{t−1}ᵀφ(k_t) + ε));
    e_t = ‖v_t − r_t‖; weights[0] = W_0."""
    s = fwp_core.RULES[name]
    T, d_k, d_v, batch = 7, 5, 3, (2,)
    rule, inp = make(name, T, d_k=d_k, d_v=d_v, batch=batch, seed=9)
    d_phi = rule.phi.out_dim(d_k)
    W0 = torch.randn(*batch, d_v, d_phi, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 0.2
    tr = rule.run(**inp, initial_state=W0)
    assert tr.rule == name
    assert tr.T == T and tr.valid_steps == T and tr.diverged_at is None
    assert tr.weights.shape == (*batch, T + 1, d_v, d_phi)
    assert tr.updates.shape == (*batch, T, d_v, d_phi)
    assert tr.retrieved.shape == (*batch, T, d_v)
    assert tr.outputs.shape == (*batch, T, d_v)
    assert tr.retrieval_error.shape == (*batch, T)
    assert tr.queries.shape == (*batch, T, d_phi)
    n_h = (inp["k"].shape[-2],) if s.substeps else ()
    assert tr.keys.shape == (*batch, T, *n_h, d_phi)
    assert tr.values.shape == (*batch, T, *n_h, d_v)
    assert tr.beta.shape == (*batch, T, *n_h)
    assert torch.equal(tr.weights[:, 0], W0)
    assert_close(tr.updates, tr.weights[:, 1:] - tr.weights[:, :-1], 0.0)
    # retrieved from the trace's own weights and keys (delta_product: the first sub-step's key/value)
    k_first = tr.keys[..., 0, :] if s.substeps else tr.keys
    v_first = inp["v"][..., 0, :] if s.substeps else inp["v"]
    r_hand = (tr.weights[:, :-1] @ k_first.unsqueeze(-1)).squeeze(-1)
    if name == "linear_attention":  # the normalised read, with z_{t−1} = Σ_{s<t} β_s φ(k_s) (z_0 = 0: W_0 alone given)
        z_prev = torch.cumsum(tr.beta.unsqueeze(-1) * tr.keys, dim=-2) - tr.beta.unsqueeze(-1) * tr.keys
        r_hand = r_hand / ((z_prev * tr.keys).sum(-1, keepdim=True) + rule.hparams["eps"])
    assert_close(tr.retrieved, r_hand, 1e-12, rel_to=r_hand)
    assert_close(tr.retrieval_error, (v_first - r_hand).norm(dim=-1), 1e-12, rel_to=r_hand)
    # outputs: y_t = W_t φ(q_t) (linear_attention divides by z_tᵀφ(q_t) + ε, z_t = Σ β_s φ(k_s))
    y_hand = (tr.weights[:, 1:] @ tr.queries.unsqueeze(-1)).squeeze(-1)
    if name == "linear_attention":
        z = torch.cumsum(tr.beta.unsqueeze(-1) * tr.keys, dim=-2)
        y_hand = y_hand / ((z * tr.queries).sum(-1, keepdim=True) + rule.hparams["eps"])
    assert_close(tr.outputs, y_hand, 1e-12)
    assert_close(tr.final_state["W"], tr.weights[:, -1], 0.0)


@pytest.mark.parametrize("name", ALL_RULES)
def test_numpy_input_is_accepted_and_dtype_kept(name):
    rule, inp = make(name, 5, d_k=4, d_v=2, seed=2)
    np_inp = {key: None if x is None else x.numpy() for key, x in inp.items()}
    assert np_inp["q"].dtype == np.float64
    tr_np = rule.run(**np_inp)
    tr = rule.run(**inp)
    for field in ("weights", "retrieved", "outputs", "retrieval_error"):
        got = getattr(tr_np, field)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64, field
        assert_close(got, getattr(tr, field), 0.0, what=field)
    # float32 numpy stays float32
    tr32 = rule.run(**{key: None if x is None else x.astype(np.float32) for key, x in np_inp.items()})
    assert tr32.outputs.dtype == torch.float32 and tr32.weights.dtype == torch.float32
    # a nested list of Python floats goes through numpy, hence float64, and gives the same numbers
    tr_list = rule.run(np_inp["q"].tolist(), np_inp["k"].tolist(), np_inp["v"].tolist(),
                       beta=np_inp["beta"].tolist(), gate=None if np_inp["gate"] is None else np_inp["gate"].tolist())
    assert tr_list.outputs.dtype == torch.float64
    assert_close(tr_list.outputs, tr.outputs, 0.0)
    # integer arrays become the default float dtype
    ints = {key: None if x is None else np.round(3 * x).astype(np.int64) for key, x in np_inp.items() if key in "qkv"}
    tr_int = rule.run(**ints, beta=np.float32(0.01), gate=None)
    assert tr_int.outputs.dtype == torch.get_default_dtype()
    assert_close(tr_int.keys, rule.phi(torch.as_tensor(ints["k"]).to(torch.get_default_dtype())), 0.0)


@pytest.mark.parametrize("name", ALL_RULES)
@pytest.mark.parametrize("device", DEVICES)
def test_run_continues_from_final_state(name, device):
    """Run on the first half, then from trace.final_state on the second: equals one run on the whole."""
    T, h = 37, 18
    rule, inp = make(name, T, d_k=4, d_v=3, batch=(2,), seed=11, device=device)
    whole = rule.run(**inp)
    first = rule.run(**slice_time(inp, slice(0, h), name))
    second = rule.run(**slice_time(inp, slice(h, T), name), initial_state=first.final_state)
    assert_close(torch.cat([first.outputs, second.outputs], dim=1), whole.outputs)
    assert_close(torch.cat([first.retrieved, second.retrieved], dim=1), whole.retrieved)
    assert_close(second.weights[:, 0], whole.weights[:, h])
    assert_close(second.weights, whole.weights[:, h:])
    for key in whole.final_state:
        assert_close(second.final_state[key], whole.final_state[key], what=key)


@pytest.mark.parametrize("name", ALL_RULES)
def test_float32_agrees_with_float64(name):
    rule, inp = make(name, 37, d_k=5, d_v=3, batch=(2,), seed=12)
    t64 = rule.run(**inp)
    t32 = rule.run(**{key: None if x is None else x.float() for key, x in inp.items()})
    assert t32.outputs.dtype == torch.float32
    for field in ("weights", "outputs", "retrieved"):
        assert_close(getattr(t32, field), getattr(t64, field), 1e-4, rel_to=getattr(t64, field), what=field)


@pytest.mark.parametrize("name", ALL_RULES)
@pytest.mark.parametrize("device", DEVICES)
def test_device_is_kept(name, device):
    rule, inp = make(name, 4, device=device)
    tr = rule.run(**inp)
    for field in ("weights", "retrieved", "outputs", "retrieval_error", "keys", "queries"):
        assert getattr(tr, field).device.type == device, field
    for key, val in tr.final_state.items():
        assert val.device.type == device, key


@pytest.mark.parametrize("name", ALL_RULES)
def test_step_with_default_beta_and_gate_equals_run(name):
    """No beta and no gate passed: step and run fill in the same defaults (β = 1 or lr, γ or 1 − forget)."""
    rule, inp = make(name, 6, d_k=4, d_v=3, batch=(2,), seed=13)
    v = inp["v"] / (2 * inp["v"].norm(dim=-1, keepdim=True))  # ‖v‖ = ½ keeps Oja stable at β = 1
    tr = rule.run(inp["q"], inp["k"], v)
    state = None
    for t in range(6):
        state, rec = rule.step(state, inp["q"][:, t], inp["k"][:, t], v[:, t])
        assert_close(rec.weights, tr.weights[:, t + 1], what=f"W_{t + 1}")
        assert_close(rec.output, tr.outputs[:, t], what=f"y_{t + 1}")


@pytest.mark.parametrize("name", ALL_RULES)
def test_batch_dimensions_broadcast(name):
    """q with a batch axis, k and v (and β, gate) without: the same as repeating k, v along the batch."""
    rule, inp = make(name, 8, d_k=4, d_v=3, seed=14)
    q2 = torch.stack([inp["q"], -inp["q"]])
    gate = inp["gate"]
    if fwp_core.RULES[name].gate_kind == "channel":
        gate = gate.unsqueeze(0)  # (1, T, d_phi); a bare (T, d_phi) broadcasts too (tests below)
    tr = rule.run(q2, inp["k"], inp["v"], beta=inp["beta"], gate=gate)
    assert tr.outputs.shape[0] == 2 and tr.weights.shape[0] == 2
    for i in range(2):
        one = rule.run(q2[i], inp["k"], inp["v"], beta=inp["beta"], gate=inp["gate"])
        assert_close(tr.outputs[i], one.outputs, what=f"outputs[{i}]")
        assert_close(tr.weights[i], one.weights, what=f"weights[{i}]")


def _channel_rules():
    return [n for n in ALL_RULES if fwp_core.RULES[n].gate_kind == "channel"]


@pytest.mark.parametrize("name", _channel_rules())
def test_per_channel_gate_broadcasts_over_batch_when_batch_equals_T(name):
    T = d = B = 4
    rule, inp = make(name, T, d_k=d, d_v=2, batch=(B,), seed=15)
    a = inp["gate"][0]  # (T, d_phi): one per-channel gate for the whole batch, like beta (T,) is allowed to be
    assert a.shape == (T, rule.phi.out_dim(d))
    tr = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=a)
    ref = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=a.expand(B, T, d))
    assert_close(tr.outputs, ref.outputs)
    assert tr.gate.shape == (B, T, d)


@pytest.mark.parametrize("name", _channel_rules())
def test_per_channel_gate_broadcasts_over_batch(name):
    rule, inp = make(name, 5, d_k=4, d_v=2, batch=(2,), seed=16)
    a = inp["gate"][0]  # (T, d_phi)
    tr = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=a)
    ref = rule.run(inp["q"], inp["k"], inp["v"], beta=inp["beta"], gate=a.expand(2, 5, a.shape[-1]))
    assert_close(tr.outputs, ref.outputs)


@pytest.mark.parametrize("name", _channel_rules())
def test_step_per_channel_gate_broadcasts_over_batch(name):
    B = d = 4
    rule, inp = make(name, 1, d_k=d, d_v=2, batch=(B,), seed=17)
    W0 = torch.randn(B, 2, rule.phi.out_dim(d), dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    a = inp["gate"][0, 0]  # (d_phi,): one per-channel gate for the whole batch
    x = {key: None if val is None else val[:, 0] for key, val in inp.items()}
    _, rec = rule.step({"W": W0}, x["q"], x["k"], x["v"], beta=x["beta"], gate=a)
    _, ref = rule.step({"W": W0}, x["q"], x["k"], x["v"], beta=x["beta"], gate=a.expand(B, a.shape[0]))
    assert_close(rec.weights, ref.weights)
