"""Stepping through a programmer (fwp_core.programmer.replay): the replayed trace is the model's own fast net, the
right / wrong marks are its predictions, and a blow-up cuts the episode at its first non-finite token."""

from __future__ import annotations

import numpy as np
import torch

import fwp_core
from fwp_core.programmer import pretrain
from fwp_core.programmer.replay import correctness, finite_prefix, min_real_eigs, replay, stepping_batch


def parity_model():
    return pretrain.shipped("parity", "delta", "linear", 2.0, 1500, 0).model


def test_replay_runs_the_models_own_rule_and_marks_its_predictions() -> None:
    model = parity_model()
    batch = stepping_batch("parity", "0110100111", 64, 1)
    r = replay(model, batch)
    assert r.emitted == 11 and r.trace.T == 11 and r.rule.name == "delta"
    with torch.no_grad():
        logits = model(batch.inputs)[0]  # (T, 2): the model's own forward pass
    torch.testing.assert_close(r.logits, logits)
    right = correctness(r, batch)
    parity = np.cumsum([int(c) for c in "0110100111"]) % 2
    want = (logits.argmax(-1).numpy()[1:] == parity).astype(float)
    np.testing.assert_array_equal(right[1:], want)  # token 0 (BOS) is not scored
    assert np.isnan(right[0])
    eigs = min_real_eigs(r)
    assert eigs.shape == (11,) and bool((eigs >= -1 - 1e-6).all())


def test_finite_prefix_stops_at_the_first_bad_token() -> None:
    ep = fwp_core.sequences.random_episode(6, 3, 2, 0)
    assert finite_prefix(ep) == 6
    k = ep.k.clone()
    k[3, 1] = float("inf")
    bad = fwp_core.sequences.Episode(q=ep.q, k=k, v=ep.v, beta=None, gate=None, tokens=ep.tokens, meta={})
    assert finite_prefix(bad) == 3


def test_regression_batches_are_seeded_samples() -> None:
    a, b = stepping_batch("regression", "", 16, 3), stepping_batch("regression", "", 16, 3)
    assert torch.equal(a.inputs, b.inputs) and a.inputs.shape[1] == 17
