"""A Mamba2 head is the gated FWP: the SSM scan, the gated rule's recurrence and parallel form, and the SSD
semiseparable form give the same outputs (float64, 1e-9); bad input raises ValueError."""

from __future__ import annotations

import pytest
import torch

import fwp_core
from fwp_core import ssm


def reference_scan(x, dt, A, B, C):
    """The SSM equations written out per head element, independently of fwp_core.ssm (loops over t, p, n)."""
    T, P = x.shape
    N = B.shape[-1]
    h = [[0.0] * N for _ in range(P)]
    y = torch.zeros(T, P, dtype=torch.float64)
    for t in range(T):
        a = float(torch.exp(dt[t] * A))
        for p in range(P):
            for n in range(N):
                h[p][n] = a * h[p][n] + float(dt[t]) * float(x[t, p]) * float(B[t, n])
            y[t, p] = sum(h[p][n] * float(C[t, n]) for n in range(N))
    return y


@pytest.mark.parametrize("T,P,N,seed", [(1, 2, 3, 0), (7, 3, 4, 1), (33, 5, 8, 2)], ids=lambda v: str(v))
def test_scan_matches_the_ssm_equations(T, P, N, seed) -> None:
    head = ssm.random_head(T, P, N, seed, A=-0.7)
    y = ssm.mamba2_scan(**head)
    assert y.shape == (T, P)
    torch.testing.assert_close(y, reference_scan(**head), atol=1e-12, rtol=0)


@pytest.mark.parametrize("batch", [(), (2,), (2, 3)], ids=["unbatched", "b2", "b2x3"])
@pytest.mark.parametrize("A", [-0.05, -1.0, -4.0])
def test_gated_fwp_equals_the_mamba2_head(batch, A) -> None:
    head = ssm.random_head(24, 4, 6, 3, A=A, batch=batch)
    y = ssm.mamba2_scan(**head)
    q, k, v, beta, gate = ssm.mamba2_as_fwp(**head)
    rule = fwp_core.make_rule("gated")
    assert rule.hparams["feature_map"] == "identity" and rule.hparams["normalize"] == "none"
    trace = rule.run(q, k, v, beta=beta, gate=gate)
    assert (trace.outputs - y).abs().max() <= 1e-9
    form = rule.parallel(q, k, v, beta=beta, gate=gate)
    assert (form.outputs - y).abs().max() <= 1e-9
    # the SSD "attention" matrix is the gated rule's attention with β folded out: A_att = (L ⊙ C Bᵀ) diag(Δ)
    M = ssm.semiseparable_matrix(head["dt"], A, head["B"], head["C"])
    assert (form.attention - M * head["dt"][..., None, :]).abs().max() <= 1e-9
    assert (ssm.ssd_outputs(**head) - y).abs().max() <= 1e-9
    # the FWP state after the last token is the SSM state h_T (P × N)
    assert trace.weights.shape[-2:] == (4, 6)


def test_decay_products_are_the_cumulative_gates() -> None:
    dt = torch.tensor([0.5, 1.0, 0.25, 2.0], dtype=torch.float64)
    L = ssm.decay_products(dt, -1.0)
    alpha = torch.exp(-dt)
    for t in range(4):
        for s in range(4):
            want = float(torch.prod(alpha[s + 1: t + 1])) if s <= t else 0.0
            assert abs(float(L[t, s]) - want) <= 1e-15


@pytest.mark.parametrize("bad,match", [
    (dict(A=0.0), "A must be a negative"), (dict(A=float("nan")), "A must be a negative"), (dict(A=True), "A must be"),
    (dict(dt=-1), "dt must be ≥ 0"), (dict(x="shape"), "x must have shape"), (dict(B="shape"), "B must have shape"),
    (dict(C="N"), "same state size"), (dict(x="nan"), "non-finite"),
])
def test_bad_input_says_what_is_allowed(bad, match) -> None:
    head = ssm.random_head(5, 2, 3, 0)
    key, value = next(iter(bad.items()))
    if key == "dt":
        head["dt"] = head["dt"] * -1
    elif value == "shape":
        head[key] = head[key][:-1]
    elif value == "N":
        head["C"] = head["C"][..., :-1]
    elif value == "nan":
        head["x"] = head["x"].clone()
        head["x"][0, 0] = float("nan")
    else:
        head[key] = value
    with pytest.raises(ValueError, match=match):
        ssm.mamba2_scan(**head)
