"""The programmer package: gradients through every rule, training, save/load, tasks, bad arguments."""

from __future__ import annotations

import importlib
import io
import math

import numpy as np
import pytest
import torch

import fwp_core
from fwp_core.programmer import (
    BETA_RANGES, KINDS, MAX_STEPS, FastWeightProgrammer, TaskBatch, encode_bits, evaluate, evaluate_detail,
    get_task, least_squares_prediction, load, make_config, sample, save, task_names, train,
)

from fwp_core.programmer.tasks import N_KEYS, N_VALUES

from .conftest import ALL_RULES, make

SR_RULES = [n for n in ALL_RULES if not fwp_core.RULES[n].substeps]


# ---------------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("name", ALL_RULES)
def test_rule_gradients_match_finite_differences(name):
    """Autograd through rule.run equals central finite differences (float64) for q, k, v, β and the gate."""
    rule, inp = make(name, 4, d_k=3, d_v=2, seed=1)
    w = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    keys = ["q", "k", "v", "beta"] + (["gate"] if inp["gate"] is not None else [])
    args = tuple(inp[key].clone().requires_grad_(True) for key in keys)

    def loss(q, k, v, beta, gate=None):
        return (rule.run(q, k, v, beta=beta, gate=gate).outputs * w).sum()

    assert torch.autograd.gradcheck(loss, args, eps=1e-6, atol=1e-6, rtol=1e-4)
    # and one derivative spelled out: d loss / d beta_2 against a central difference
    grad = torch.autograd.grad(loss(*args), args[3])[0]
    plus, minus = [a.detach().clone() for a in args], [a.detach().clone() for a in args]
    plus[3].view(-1)[2] += 1e-6
    minus[3].view(-1)[2] -= 1e-6
    fd = (loss(*plus) - loss(*minus)) / 2e-6
    assert abs(float(grad.view(-1)[2]) - float(fd)) <= 1e-6 * max(1.0, abs(float(fd)))


@pytest.mark.parametrize("kind", KINDS)
def test_every_parameter_gets_a_finite_gradient(kind):
    model = FastWeightProgrammer(make_config("parity", "delta", kind=kind, beta_range=(0, 2)))
    batch = sample("parity", 6, 4, seed=3, labels=False)
    logits = model(batch.inputs)
    torch.nn.functional.cross_entropy(logits[batch.mask], batch.targets[batch.mask]).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()), pname
        assert float(p.grad.abs().sum()) > 0, f"{pname} gets no gradient"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ALL_RULES)
def test_every_rule_and_kind_trains_a_step(kind, name):
    if kind == "self_referential" and name not in SR_RULES:
        with pytest.raises(ValueError, match="self_referential"):
            train("parity", name, kind=kind, steps=1)
        return
    result = train("parity", name, kind=kind, beta_range=(0, 1), steps=2, batch_size=4, length=3)
    assert len(result.history.loss) == 2 and len(result.history.accuracy) == 2
    assert all(math.isfinite(x) for x in result.history.loss) or result.history.skipped > 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("task", task_names())
def test_every_task_and_kind_trains_and_programmes(task, kind):
    result = train(task, "delta", kind=kind, beta_range=(0, 2), steps=2, batch_size=4, length=3)
    assert all(math.isfinite(x) for x in result.history.loss)
    assert len(result.history.metric) == 2 and result.history.metric_name in ("accuracy", "error / least squares")
    ep = result.model.programme(sample(task, 3, n=2, seed=1))
    T = get_task(task).seq_len(3)
    assert ep.q.shape[:2] == (2, T) and ep.beta.shape == (2, T) and ep.meta["logits"].shape[:2] == (2, T)
    assert ep.meta["outputs"].shape == (2, T, result.config.d)


# ---------------------------------------------------------------------------------------------- programme
@pytest.mark.parametrize("kind", ["linear", "recurrent"])
@pytest.mark.parametrize("name", ["delta", "gla", "delta_product", "rls"])
def test_programme_replays_through_rule_run(kind, name):
    """The emitted episode, run through make_rule(...).run, gives the outputs the readout used."""
    model = train("parity", name, kind=kind, beta_range=(0, 2), steps=3, batch_size=4, seed=2).model
    ep = model.programme("0110100")
    assert isinstance(ep, fwp_core.sequences.Episode)
    assert ep.q.shape[0] == 8 and ep.tokens == ("BOS", "0", "1", "1", "0", "1", "0", "0")
    assert ep.meta["rule"] == name and ep.meta["kind"] == kind
    assert float(ep.beta.min()) > 0 and float(ep.beta.max()) < 2
    trace = fwp_core.make_rule(name, **ep.meta["rule_hparams"]).run(ep.q, ep.k, ep.v, **ep.run_kwargs())
    if fwp_core.RULES[name].defaults.get("normalize") == "l2":  # the rule, not the programmer, normalises
        assert torch.allclose(torch.linalg.vector_norm(trace.keys, dim=-1), torch.ones(()), atol=1e-5)
    # float32: the two paths round in different orders (rls divides by 1 + φᵀPφ), so compare relative to size
    scale = max(1.0, float(ep.meta["outputs"].abs().max()))
    assert (trace.outputs - ep.meta["outputs"]).abs().max() <= 2e-5 * scale
    logits = model(encode_bits("parity", "0110100").inputs)[0]
    assert (logits - ep.meta["logits"]).abs().max() <= 1e-4  # forward (parallel form where there is one) = run


@pytest.mark.parametrize("name", ["delta", "hebbian", "gated_delta"])
def test_self_referential_episode_replays_its_own_updates(name):
    """Rule.run with initial_state W_0 replays the matrix: each value is W_{t-1} φ(q_t)."""
    model = FastWeightProgrammer(make_config("parity", name, kind="self_referential", beta_range=(0, 2)))
    ep = model.programme("10110")
    rule = fwp_core.make_rule(name)
    trace = rule.run(ep.q, ep.k, ep.v, **ep.run_kwargs(), initial_state=ep.meta["initial_state"])
    W_prev = trace.weights[:-1]  # (T, rows, d_phi)
    expect = (W_prev @ trace.queries.unsqueeze(-1)).squeeze(-1)  # W_{t-1} φ(q_t)
    assert (expect - ep.v).abs().max() <= 1e-5
    assert ep.v.shape == (6, model.W0.shape[0])


def test_programme_accepts_batches_and_features():
    model = FastWeightProgrammer(make_config("associative_recall", "delta"))
    batch = sample("associative_recall", 3, n=2, seed=0)
    ep = model.programme(batch)
    assert ep.q.shape == (2, 6, 32) and ep.v.shape == (2, 6, 32) and ep.beta.shape == (2, 6)
    assert ep.tokens[:1] == batch.labels[0][:1] and ep.tokens[3].startswith("?k")
    single = model.programme(batch.inputs[1])
    assert torch.allclose(single.k, ep.k[1], atol=1e-6)
    with pytest.raises(ValueError, match="bit tasks"):
        model.programme("0101")
    with pytest.raises(ValueError, match="trained on"):
        model.programme(sample("parity", 3))


# ---------------------------------------------------------------------------------------------- training
def test_short_training_reduces_the_loss_and_is_deterministic():
    a = train("parity", "delta", beta_range=(0, 2), steps=60, length=(1, 4), batch_size=32, lr=1e-2, seed=5)
    first, last = np.mean(a.history.loss[:3]), np.mean(a.history.loss[-10:])
    assert first == pytest.approx(math.log(2), abs=0.05)  # chance level at the start
    assert last < 0.1
    b = train("parity", "delta", beta_range=(0, 2), steps=60, length=(1, 4), batch_size=32, lr=1e-2, seed=5)
    assert a.history.loss == b.history.loss
    c = train("parity", "delta", beta_range=(0, 2), steps=5, length=(1, 4), batch_size=32, lr=1e-2, seed=6)
    assert c.history.loss != a.history.loss[:5]
    assert a.history.skipped == 0 and a.seconds > 0 and a.settings["lengths"] == (1, 4)


def test_progress_callback_is_called_up_to_the_last_step():
    calls = []
    train("parity", "delta", steps=30, batch_size=4, length=2, progress=lambda *a: calls.append(a))
    assert calls[-1][:2] == (30, 30) and len(calls) == 30
    assert all(0 <= c[3] <= 1 and math.isfinite(c[2]) for c in calls)


def test_smoke_parity_with_reflections_learns_fast():
    model = train("parity", "delta", beta_range=(0, 2), steps=150, length=(1, 4), batch_size=32, lr=1e-2).model
    assert evaluate(model, "parity", length=8, n=256) >= 0.9  # chance is 0.5


def test_smoke_recall_and_regression_learn_above_chance():
    recall = train("associative_recall", "delta", steps=150, length=2, d=16, batch_size=32, lr=1e-2).model
    assert evaluate(recall, "associative_recall", length=2, n=256) >= 0.5  # chance is 1/64
    reg = train("regression", "delta", steps=300, length=16, batch_size=32, lr=1e-2).model
    detail = evaluate_detail(reg, "regression", length=16, n=256)
    assert detail.metric == pytest.approx(detail.model_error / detail.baseline_error)
    assert detail.metric < 3.0 and detail.model_error < 0.4  # predicting 0 has error 1 + σ² ≈ 1.06


def test_evaluation_is_seeded_and_independent_of_the_memory_chunking(monkeypatch):
    model = train("parity", "delta", beta_range=(0, 2), steps=30, length=(1, 4), batch_size=16, lr=1e-2).model
    a = evaluate(model, "parity", length=100, n=130)
    train_module = importlib.import_module("fwp_core.programmer.train")  # the package's `train` is the function
    monkeypatch.setattr(train_module, "EVAL_ELEMENTS", 1 << 10)  # chunks of a few sequences
    assert evaluate(model, "parity", length=100, n=130) == a
    assert evaluate(model, "parity", length=100, n=130, seed=1) != a
    detail = evaluate_detail(model, "parity", length=100, n=130)
    assert detail.metric == a and detail.model_error is None and detail.n == 130 and detail.length == 100


# ---------------------------------------------------------------------------------------------- save / load
@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(kind, tmp_path):
    model = train("parity", "gated_delta", kind=kind, beta_range=(0, 2), steps=3, batch_size=4, length=3).model
    path = tmp_path / "p.pt"
    save(model, path)
    back = load(path)
    assert back.config == model.config and not back.training
    x = encode_bits("parity", "011010111").inputs
    with torch.no_grad():
        assert torch.equal(back(x), model(x))
    ep1, ep2 = model.programme("0110"), back.programme("0110")
    assert torch.equal(ep1.k, ep2.k) and torch.equal(ep1.beta, ep2.beta)
    buf = io.BytesIO()
    save(model, buf)
    assert torch.equal(load(buf.getvalue())(x), back(x))
    assert torch.equal(load(io.BytesIO(buf.getvalue()))(x), back(x))


def _saved(model) -> dict:
    buf = io.BytesIO()
    save(model, buf)
    return torch.load(io.BytesIO(buf.getvalue()), weights_only=True)


def _bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


class _NotAllowed:
    """Pickling this makes torch.load(weights_only=True) refuse the file."""


class _Exploit:
    """A pickle that would create a file if it were ever unpickled with full pickle."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


NOT_READABLE = "not a readable programmer file"
NOT_OURS = "not a programmer file: expected a dict with format 'fwp_core.programmer'"


def _bad_files():
    model = FastWeightProgrammer(make_config("parity", "delta"))
    good = _saved(model)
    buf = io.BytesIO()
    save(model, buf)
    raw = buf.getvalue()
    wrong_shape = {**good, "state_dict": {**good["state_dict"], "readout.weight": torch.zeros(3, 3)}}
    nan = {**good, "state_dict": {**good["state_dict"], "readout.bias": torch.full((2,), float("nan"))}}
    missing = {**good, "state_dict": {k: v for k, v in good["state_dict"].items() if k != "readout.bias"}}
    bad_rule = {**good, "config": {**good["config"], "rule": "nope"}}
    bad_beta = {**good, "config": {**good["config"], "beta_max": 3.0}}
    return [
        pytest.param(raw[: len(raw) // 2], NOT_READABLE, id="truncated"),
        pytest.param(raw[:100] + bytes(200) + raw[300:], NOT_READABLE, id="corrupted"),
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"d,k,v\n1,2,3\n", NOT_READABLE, id="text"),
        pytest.param(_bytes({"weights": torch.ones(3)}), NOT_OURS, id="foreign-dict"),
        pytest.param(_bytes(torch.nn.Linear(3, 2).state_dict()), NOT_OURS, id="foreign-state-dict"),
        pytest.param(_bytes(torch.ones(4)), NOT_OURS, id="foreign-tensor"),
        pytest.param(_bytes({"x": _NotAllowed()}), NOT_READABLE, id="pickled-object"),
        pytest.param(_bytes({**good, "version": 99}), "unsupported programmer file version 99", id="version"),
        pytest.param(_bytes({**good, "extra": 1}), "unexpected entries", id="extra-entry"),
        pytest.param(_bytes(wrong_shape), "'readout.weight' must be a float tensor of shape (2, 8), got (3, 3)", id="wrong-shape"),
        pytest.param(_bytes(nan), "'readout.bias' contains NaN", id="nan-weights"),
        pytest.param(_bytes(missing), "the weights do not match its config", id="missing-weight"),
        pytest.param(_bytes(bad_rule), "bad config: unknown rule 'nope'; known rules: hebbian", id="unknown-rule"),
        pytest.param(_bytes(bad_beta), "bad config: beta_range=(0.0, 3.0) is not allowed", id="bad-beta"),
    ]


@pytest.mark.parametrize(("data", "needle"), _bad_files())
def test_load_rejects_anything_but_a_programmer_file(data, needle, tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(data)
    for source in (path, data, io.BytesIO(data)):
        with pytest.raises(ValueError) as info:
            load(source)
        assert needle in str(info.value)


def test_load_never_runs_code_from_the_file(tmp_path):
    marker = tmp_path / "pwned"
    data = _bytes({"format": "fwp_core.programmer", "version": 1, "config": _Exploit(str(marker)), "state_dict": {}})
    with pytest.raises(ValueError, match=NOT_READABLE):
        load(data)
    assert not marker.exists()


def test_load_rejects_missing_paths_and_wrong_types(tmp_path):
    with pytest.raises(ValueError, match="no programmer file"):
        load(tmp_path / "absent.pt")
    with pytest.raises(ValueError, match="path, bytes"):
        load(123)
    with pytest.raises(ValueError, match="only a FastWeightProgrammer"):
        save(torch.nn.Linear(2, 2), tmp_path / "x.pt")


# ---------------------------------------------------------------------------------------------- tasks
def test_parity_and_count_targets():
    for task, mod in (("parity", 2), ("modular_count", 3)):
        b = encode_bits(task, "1101 1")
        assert b.inputs.shape == (1, 6, 3) and b.labels[0] == ("BOS", "1", "1", "0", "1", "1")
        assert b.targets[0].tolist() == [0, 1, 2 % mod, 2 % mod, 3 % mod, 4 % mod]
        assert b.mask[0].tolist() == [False] + [True] * 5
    s = sample("parity", 20, n=8, seed=1, labels=False)
    bits = s.inputs[:, 1:, 2]  # the one-hot column of the symbol "1"
    assert torch.equal(s.targets[:, 1:], (torch.cumsum(bits, 1) % 2).long())


def test_recall_queries_every_stored_key_once():
    K, V = N_KEYS, N_VALUES
    b = sample("associative_recall", 5, n=4, seed=2)
    assert b.inputs.shape == (4, 10, K + V + 2) and b.mask[:, 5:].all() and not b.mask[:, :5].any()
    for i in range(4):
        keys = b.inputs[i, :5, :K].argmax(-1)
        vals = b.inputs[i, :5, K : K + V].argmax(-1)
        qkeys = b.inputs[i, 5:, :K].argmax(-1)
        assert sorted(keys.tolist()) == sorted(qkeys.tolist()) and len(set(keys.tolist())) == 5
        stored = dict(zip(keys.tolist(), vals.tolist()))
        assert b.targets[i, 5:].tolist() == [stored[k] for k in qkeys.tolist()]
        assert b.inputs[i, 5:, K : K + V].abs().sum() == 0  # queries carry no value


def test_regression_baseline_is_least_squares():
    b = sample("regression", 12, n=3, seed=4)
    x, y = b.inputs[..., :4].double(), b.targets.double()
    assert torch.equal(b.inputs[:, -1, 4:8], torch.zeros(3, 4))  # the query's y is hidden
    for i in range(3):
        A, *_ = np.linalg.lstsq(x[i, :-1].numpy(), y[i, :-1].numpy(), rcond=None)
        assert np.allclose(b.baseline[i, -1].numpy(), x[i, -1].numpy() @ A, atol=1e-5)
    assert torch.allclose(torch.linalg.vector_norm(x, dim=-1), torch.ones(()).double(), atol=1e-6)
    xs = torch.randn(2, 6, 3, dtype=torch.float64)
    A = torch.randn(2, 3, 2, dtype=torch.float64)
    q = torch.randn(2, 3, dtype=torch.float64)
    assert torch.allclose(least_squares_prediction(xs, xs @ A, q), (q.unsqueeze(1) @ A).squeeze(1))


def test_task_sampling_is_seeded():
    for task in task_names():
        a, b = sample(task, 5, n=3, seed=9), sample(task, 5, n=3, seed=9)
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
        assert isinstance(a, TaskBatch) and a.labels == b.labels and len(a.labels) == 3


# ---------------------------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        pytest.param({"task": "sorting"}, "known tasks: associative_recall, regression, parity, modular_count", id="task"),
        pytest.param({"rule": "nope"}, "known rules: hebbian", id="rule"),
        pytest.param({"kind": "transformer"}, "known kinds: linear, recurrent, self_referential", id="kind"),
        pytest.param({"beta_range": (0, 3)}, "choose (0, 1) or (0, 2)", id="beta-0-3"),
        pytest.param({"beta_range": (0.5, 1)}, "choose (0, 1) or (0, 2)", id="beta-half"),
        pytest.param({"beta_range": "wide"}, "choose (0, 1) or (0, 2)", id="beta-str"),
        pytest.param({"beta_range": (False, True)}, "choose (0, 1) or (0, 2)", id="beta-bool"),
        pytest.param({"steps": 0}, f"integer in [1, {MAX_STEPS}]", id="steps-0"),
        pytest.param({"steps": -3}, f"integer in [1, {MAX_STEPS}]", id="steps-neg"),
        pytest.param({"steps": MAX_STEPS + 1}, f"integer in [1, {MAX_STEPS}]", id="steps-cap"),
        pytest.param({"steps": 2.5}, f"integer in [1, {MAX_STEPS}]", id="steps-float"),
        pytest.param({"steps": True}, f"integer in [1, {MAX_STEPS}]", id="steps-bool"),
        pytest.param({"d": 0}, "d must be an integer in [1, 128]", id="d-0"),
        pytest.param({"d": 1000}, "d must be an integer in [1, 128]", id="d-big"),
        pytest.param({"length": 500}, "integers in [1, 64]", id="length-big"),
        pytest.param({"length": (8, 2)}, "lo must not exceed hi", id="length-order"),
        pytest.param({"batch_size": 0}, "integer in [1, 512]", id="batch"),
        pytest.param({"lr": -1.0}, "lr must be a number in (0, 1]", id="lr"),
        pytest.param({"seed": -1}, "seed must be an integer", id="seed"),
        pytest.param({"device": "tpu"}, "use 'cpu' or 'cuda'", id="device"),
        pytest.param({"n_h": 2}, "n_h must be an integer in [1, 1]", id="n_h-no-substeps"),
        pytest.param({"rule_hparams": {"gamma": 0.5}}, "unknown hyper-parameter", id="hparam"),
        pytest.param({"progress": 3}, "progress must be a callable", id="progress"),
    ],
)
def test_bad_train_arguments_raise_value_error(kwargs, needle):
    args = {"task": "parity", "rule": "delta", "steps": 1, **kwargs}
    with pytest.raises(ValueError) as info:
        train(args.pop("task"), args.pop("rule"), **args)
    assert needle in str(info.value)


def test_bad_evaluate_arguments_raise_value_error():
    model = FastWeightProgrammer(make_config("parity", "delta"))
    with pytest.raises(ValueError, match="integer in \\[1, 1024\\]"):
        evaluate(model, "parity", length=0)
    with pytest.raises(ValueError, match="trained on 'parity'"):
        evaluate(model, "modular_count", length=4)
    with pytest.raises(ValueError, match="n must be an integer"):
        evaluate(model, "parity", length=4, n=0)
    with pytest.raises(ValueError, match="known tasks"):
        evaluate(model, "sorting", length=4)
    with pytest.raises(ValueError, match="0 and 1"):
        model.programme("01a")


def test_beta_ranges_are_the_two_documented_ones():
    assert BETA_RANGES == ((0.0, 1.0), (0.0, 2.0))
    assert make_config("parity", "delta", beta_range=[0, 2.0]).beta_max == 2.0
