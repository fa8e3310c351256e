"""Divergence is reported, not raised: trace.diverged_at and NaN from that step on (fwp_core/trace.py)."""

from __future__ import annotations

import pytest
import torch

import fwp_core

from .conftest import ALL_RULES, DEVICES, assert_close, make

DT = torch.float64
PER_STEP = ("retrieved", "outputs", "retrieval_error")


def _gaussian(T, d, seed, batch=()):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*batch, T, d, generator=g, dtype=DT), torch.randn(*batch, T, d, generator=g, dtype=DT),
            torch.randn(*batch, T, 3, generator=g, dtype=DT))


def _check_split(tr, at):
    """Every field finite before step ``at`` and NaN from it on (single sequence)."""
    assert torch.isfinite(tr.weights[:at]).all(), "W_0..W_{at-1} must be finite"
    assert torch.isnan(tr.weights[at:]).all(), "W_at.. must be NaN"
    for field in PER_STEP:
        x = getattr(tr, field)
        assert torch.isfinite(x[: at - 1]).all(), f"{field} before step {at}"
        assert torch.isnan(x[at - 1 :]).all(), f"{field} from step {at}"
    assert torch.isnan(tr.updates[at - 1 :]).all()
    assert torch.isfinite(tr.updates[: at - 1]).all()
    for key, val in tr.final_state.items():
        assert torch.isnan(val).all(), key


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", (0, 1, 2), ids=lambda s: f"seed{s}")
def test_unnormalised_delta_with_beta_19_diverges(seed, device):
    q, k, v = (x.to(device) for x in _gaussian(40, 16, seed))
    tr = fwp_core.make_rule("delta", normalize="none").run(q, k, v, beta=1.9)
    at = tr.diverged_at
    assert isinstance(at, int) and 1 <= at <= 40
    assert tr.valid_steps == at - 1
    _check_split(tr, at)
    # it really was blowing up: ‖W‖ grew by orders of magnitude over the finite steps (1 − 1.9‖k‖² ≈ −29)
    norms = tr.weights[:at].norm(dim=(-1, -2))
    if at >= 4:
        assert float(norms[at - 1]) > 100 * float(norms[1])


def test_same_keys_normalised_are_stable():
    q, k, v = _gaussian(40, 16, 0)
    tr = fwp_core.make_rule("delta", normalize="l2").run(q, k, v, beta=1.9)  # eigenvalue −0.9: bounded
    assert tr.diverged_at is None and tr.valid_steps == 40
    for field in ("weights", *PER_STEP):
        assert torch.isfinite(getattr(tr, field)).all(), field
    assert float(tr.weights.norm(dim=(-1, -2)).max()) < 100


def test_divergence_in_one_batch_element_leaves_the_others_alone():
    q, k, v = _gaussian(30, 16, 3, batch=(2,))
    beta = torch.tensor([[1.9], [0.01]], dtype=DT).expand(2, 30)  # element 1: β‖k‖² ≈ 0.16, stable
    tr = fwp_core.make_rule("delta", normalize="none").run(q, k, v, beta=beta)
    alone = fwp_core.make_rule("delta", normalize="none").run(q[0], k[0], v[0], beta=1.9)
    assert tr.diverged_at == alone.diverged_at is not None
    _check_split(Trace1(tr, 0), tr.diverged_at)
    stable = fwp_core.make_rule("delta", normalize="none").run(q[1], k[1], v[1], beta=0.01)
    assert stable.diverged_at is None
    for field in ("weights", *PER_STEP):
        assert_close(getattr(tr, field)[1], getattr(stable, field), 1e-12, what=field)
    assert torch.isfinite(tr.final_state["W"][1]).all()


class Trace1:
    """One batch element of a trace, viewed with the fields _check_split reads."""

    def __init__(self, tr, i):
        for field in ("weights", "updates", *PER_STEP):
            setattr(self, field, getattr(tr, field)[i])
        self.final_state = {key: val[i] for key, val in tr.final_state.items()}


@pytest.mark.parametrize("name", ALL_RULES)
def test_stable_runs_report_no_divergence(name):
    rule, inp = make(name, 64, d_k=6, d_v=3, batch=(3,), seed=70)
    tr = rule.run(**inp)
    assert tr.diverged_at is None
    assert tr.valid_steps == tr.T == 64
    for field in ("weights", *PER_STEP):
        assert torch.isfinite(getattr(tr, field)).all(), field


def test_oja_with_large_beta_diverges_and_is_reported():
    """Oja's transition I − β v vᵀ has eigenvalue 1 − β‖v‖²: far below −1 the state explodes."""
    g = torch.Generator().manual_seed(5)
    k = torch.randn(60, 4, generator=g, dtype=DT)
    v = 3 * torch.randn(60, 3, generator=g, dtype=DT)
    tr = fwp_core.make_rule("oja").run(k, k, v, beta=1.0)
    assert isinstance(tr.diverged_at, int)
    _check_split(tr, tr.diverged_at)
