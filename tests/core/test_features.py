"""Feature maps φ and normalisation (fwp_core/features.py) against their formulas in rules.md."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import fwp_core
from fwp_core import FEATURE_MAPS, NORMALIZATIONS, FeatureMap

from .conftest import DEVICES, assert_close

DT = torch.float64


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


def test_the_documented_maps_and_normalisations_exist():
    assert set(FEATURE_MAPS) == {"identity", "elu1", "relu", "softmax", "dpfp", "favor"}
    assert set(NORMALIZATIONS) == {"none", "l2", "sum"}


def _hand_dpfp(x: torch.Tensor, nu: int) -> torch.Tensor:
    """DPFP-ν from its definition, element by element: r = [relu(x), relu(−x)],
    φ = concat over i = 1..ν of (r_j · r_{(j−i) mod 2d})_j."""
    r = torch.cat([x.clamp(min=0), (-x).clamp(min=0)], dim=-1)
    n = r.shape[-1]
    out = torch.empty(*x.shape[:-1], n * nu, dtype=x.dtype)
    for i in range(1, nu + 1):
        for j in range(n):
            out[..., (i - 1) * n + j] = r[..., j] * r[..., (j - i) % n]
    return out


@pytest.mark.parametrize("d", (1, 3, 8), ids=lambda d: f"d{d}")
def test_each_map_matches_its_formula(d):
    x = _x(5, d, seed=d)
    assert_close(FeatureMap("identity")(x), x, 0.0)
    elu1 = torch.where(x > 0, x + 1, torch.exp(x))
    assert_close(FeatureMap("elu1")(x), elu1, 1e-15)
    assert_close(FeatureMap("relu")(x), torch.where(x > 0, x, torch.zeros_like(x)), 0.0)
    sm = torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)
    assert_close(FeatureMap("softmax")(x), sm, 1e-15)
    for nu in (1, 2, 3):
        assert_close(FeatureMap("dpfp", nu=nu)(x), _hand_dpfp(x, nu), 0.0)
    fm = FeatureMap("favor", m=16, seed=7)
    omega = fm.projection(d, DT, "cpu")
    assert omega.shape == (d, 16)
    favor = torch.exp(x @ omega - 0.5 * (x * x).sum(-1, keepdim=True)) / 4.0
    assert_close(fm(x), favor, 1e-14)


@pytest.mark.parametrize("d", (1, 4, 7), ids=lambda d: f"d{d}")
def test_output_dimensions(d):
    x = _x(2, 3, d)
    for name in FEATURE_MAPS:
        fm = FeatureMap(name, nu=2, m=16)
        expected = {"dpfp": 2 * d * 2, "favor": 16}.get(name, d)
        assert fm.out_dim(d) == expected
        assert fm(x).shape == (2, 3, expected)
    for nu in range(1, 5):
        assert FeatureMap("dpfp", nu=nu)(x).shape[-1] == 2 * d * nu
    for m in (1, 5, 64):
        assert FeatureMap("favor", m=m)(x).shape[-1] == m


def test_rules_use_d_phi_for_the_state():
    x = _x(6, 5)
    for fm, extra, d_phi in (("dpfp", {"nu": 2}, 20), ("favor", {"m": 16}, 16), ("elu1", {}, 5)):
        rule = fwp_core.make_rule("hebbian", feature_map=fm, **extra)
        tr = rule.run(x, x, x[:, :3])
        assert tr.weights.shape == (7, 3, d_phi)
        assert tr.keys.shape == (6, d_phi)


def test_favor_projection_is_seeded_and_pure():
    a = FeatureMap("favor", m=32, seed=1)
    assert torch.equal(a.projection(4, DT, "cpu"), FeatureMap("favor", m=32, seed=1).projection(4, DT, "cpu"))
    assert not torch.equal(a.projection(4, DT, "cpu"), FeatureMap("favor", m=32, seed=2).projection(4, DT, "cpu"))
    x = _x(3, 4)
    assert torch.equal(a(x), a(x))
    assert bool((a(x) > 0).all())  # positive random features


def test_favor_approximates_exp_dot_product():
    """E_ω[φ(q)·φ(k)] = exp(q·k): close for large m, and closer than for small m (loose tolerances)."""
    q, k = 0.3 * _x(50, 8, seed=1), 0.3 * _x(50, 8, seed=2)
    exact = torch.exp((q * k).sum(-1))

    def err(m, seeds):
        rel = []
        for s in seeds:
            fm = FeatureMap("favor", m=m, seed=s)
            rel.append(((fm(q) * fm(k)).sum(-1) / exact - 1).abs().mean())
        return float(torch.stack(rel).mean())

    big, small = err(4096, range(4)), err(16, range(4))
    assert big < 0.1
    assert small > 2 * big
    # unbiased: the average over many independent projections converges on exp(q·k)
    avg = torch.stack([(FeatureMap("favor", m=64, seed=s)(q) * FeatureMap("favor", m=64, seed=s)(k)).sum(-1) for s in range(64)]).mean(0)
    assert float((avg / exact - 1).abs().mean()) < 0.05


def _blocks(omega: torch.Tensor) -> list[torch.Tensor]:
    """The columns of ω (d, m) in FAVOR+ blocks of d (the last one truncated when d ∤ m)."""
    d = omega.shape[0]
    return [omega[:, i : i + d] for i in range(0, omega.shape[1], d)]


@pytest.mark.parametrize(("d", "m"), ((1, 5), (3, 3), (3, 16), (8, 8), (8, 20), (8, 3), (16, 64)), ids=lambda v: str(v))
def test_favor_projection_is_orthogonal_within_each_block(d, m):
    """FAVOR+ draws ω in blocks of d exactly orthogonal directions; m need not be a multiple of d."""
    omega = FeatureMap("favor", m=m, seed=11).projection(d, DT, "cpu")
    assert omega.shape == (d, m)
    assert bool(torch.isfinite(omega).all())
    blocks = _blocks(omega)
    assert len(blocks) == -(-m // d) and sum(b.shape[1] for b in blocks) == m
    for b in blocks:
        norms = b.norm(dim=0)
        assert bool((norms > 0).all())
        gram = b.T @ b / torch.outer(norms, norms)  # cosines between the block's ω
        assert_close(gram, torch.eye(b.shape[1], dtype=DT), 1e-10)
    if len(blocks) > 1 and d > 1:  # different blocks are independent draws, not one block repeated
        a, b = blocks[0], blocks[1]
        cos = (a.T @ b) / torch.outer(a.norm(dim=0), b.norm(dim=0))
        assert float(cos.abs().max()) < 1 - 1e-6


def test_favor_iid_gaussian_is_not_orthogonal():
    """Sanity check of the test above: i.i.d. Gaussian ω (plain positive random features) fail it."""
    b = torch.randn(8, 8, generator=torch.Generator().manual_seed(11), dtype=DT)
    norms = b.norm(dim=0)
    assert float((b.T @ b / torch.outer(norms, norms) - torch.eye(8, dtype=DT)).abs().max()) > 0.1


def test_favor_lengths_are_chi_distributed_and_omega_is_marginally_standard_normal():
    """Each ω is rescaled by an independent ‖g‖, g ~ N(0, I_d): lengths vary, with mean √2 Γ((d+1)/2)/Γ(d/2)."""
    d, m = 8, 8 * 1000
    omega = FeatureMap("favor", m=m, seed=3).projection(d, DT, "cpu")
    lengths = omega.norm(dim=0)
    mean_chi = math.sqrt(2) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))  # ≈ 2.74 for d = 8
    std_chi = math.sqrt(d - mean_chi**2)  # ≈ 0.49
    assert float(lengths.std()) > 0.5 * std_chi  # not all equal (no fixed √d rescaling)
    assert abs(float(lengths.mean()) / mean_chi - 1) < 0.03
    assert abs(float(lengths.std()) / std_chi - 1) < 0.1
    # marginally N(0, I): E[ω] = 0, E[ω ωᵀ] = I
    assert float(omega.mean(dim=1).abs().max()) < 0.1
    assert_close(omega @ omega.T / m, torch.eye(d, dtype=DT), 0.1)


def test_favor_projection_is_deterministic_and_not_shared():
    fm = FeatureMap("favor", m=20, seed=5)
    a = fm.projection(8, DT, "cpu")
    assert torch.equal(a, FeatureMap("favor", m=20, seed=5).projection(8, DT, "cpu"))
    assert not torch.equal(a, FeatureMap("favor", m=20, seed=6).projection(8, DT, "cpu"))
    assert torch.equal(fm.projection(8, torch.float32, "cpu"), a.to(torch.float32))  # one draw, cast
    a.zero_()  # the caller owns its copy: the next call is unaffected
    assert torch.equal(fm.projection(8, DT, "cpu"), FeatureMap("favor", m=20, seed=5).projection(8, DT, "cpu"))
    assert bool((fm.projection(8, DT, "cpu") != 0).any())


def _hypergeometric_1f1(a: float, b: float, x: float, terms: int = 200) -> float:
    term = total = 1.0
    for k in range(terms):
        term *= (a + k) / (b + k) * x / (k + 1)
        total += term
    return total


def test_favor_is_unbiased_and_orthogonality_lowers_the_mse():
    """φ(x)·φ(y) estimates exp(x·y) without bias, and with orthogonal ω its mean squared error is lower than
    with i.i.d. Gaussian ω of the same m (the point of FAVOR+, Choromanski et al. 2021).

    With s = ‖x + y‖², the relative MSE of m i.i.d. features is (eˢ − 1)/m. Orthogonal ω in one block
    (m = d) add the covariance of each pair, (m − 1)/m · (e⁻ˢ ₁F₁(d; d/2; s/2) − 1) < 0 (‖ωᵢ + ωⱼ‖² ~ χ²₂d
    instead of 2χ²_d). At d = m = 8, s = 1.2 the ratio is ≈ 0.82. Fixed seeds: deterministic."""
    d = m = 8
    s = 1.2
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(32, d, generator=gen, dtype=DT), torch.randn(32, d, generator=gen, dtype=DT)
    c = (s / ((x + y) ** 2).sum(-1, keepdim=True)).sqrt()
    x, y = c * x, c * y  # every pair has ‖x + y‖² = s
    exact = torch.exp((x * y).sum(-1))

    def phi(v, omega):  # the favor formula with a given ω (d, m)
        return torch.exp(v @ omega - 0.5 * (v * v).sum(-1, keepdim=True)) / math.sqrt(m)

    seeds = range(4000)
    ort = torch.stack([(FeatureMap("favor", m=m, seed=k)(x) * FeatureMap("favor", m=m, seed=k)(y)).sum(-1) for k in seeds]) / exact
    iid = []
    for k in seeds:
        omega = torch.randn(d, m, generator=torch.Generator().manual_seed(k), dtype=DT)
        iid.append((phi(x, omega) * phi(y, omega)).sum(-1))
    iid = torch.stack(iid) / exact
    # unbiased: the average over seeds converges on exp(x·y)
    assert float((ort.mean(0) - 1).abs().mean()) < 0.02
    assert float((ort.mean(0) - 1).abs().max()) < 0.06
    mse_ort, mse_iid = float(((ort - 1) ** 2).mean()), float(((iid - 1) ** 2).mean())
    theory_iid = (math.exp(s) - 1) / m
    theory_ort = theory_iid + (m - 1) / m * (math.exp(-s) * _hypergeometric_1f1(d, d / 2, s / 2) - 1)
    assert abs(mse_iid / theory_iid - 1) < 0.15
    assert abs(mse_ort / theory_ort - 1) < 0.15
    assert mse_ort < 0.92 * mse_iid


@pytest.mark.parametrize("name", FEATURE_MAPS)
def test_normalisations(name):
    x = _x(10, 6, seed=3)
    raw = FeatureMap(name, "none", nu=2, m=16)(x)
    l2 = FeatureMap(name, "l2", nu=2, m=16)(x)
    sm = FeatureMap(name, "sum", nu=2, m=16)(x)
    nz = raw.norm(dim=-1) > 0
    assert_close(l2[nz], (raw / raw.norm(dim=-1, keepdim=True))[nz], 1e-15)
    assert_close(l2.norm(dim=-1)[nz], torch.ones(int(nz.sum()), dtype=DT), 1e-14)
    s = raw.sum(-1)
    ok = s != 0
    assert_close(sm[ok], (raw / s.unsqueeze(-1))[ok], 1e-12)
    if name != "identity":  # positive maps: the sum-normalised features sum to 1
        assert_close(sm.sum(-1)[ok], torch.ones(int(ok.sum()), dtype=DT), 1e-12)
    assert bool(torch.isfinite(l2).all() and torch.isfinite(sm).all())


@pytest.mark.parametrize("norm", ("l2", "sum"))
@pytest.mark.parametrize("name", ("relu", "dpfp"))
def test_zero_feature_vector_stays_exactly_zero(name, norm):
    """A ReLU key with no positive entry maps to 0, and normalising it leaves exactly 0 (no ε, no NaN)."""
    x = -torch.rand(3, 5, dtype=DT) - 0.1 if name == "relu" else torch.zeros(3, 5, dtype=DT)
    out = FeatureMap(name, norm, nu=2)(x)
    assert torch.equal(out, torch.zeros_like(out))
    # mixed batch: the non-zero rows are normalised, the zero row stays zero
    y = torch.cat([x[:1], _x(1, 5).abs() + 0.1])
    out = FeatureMap(name, norm, nu=2)(y)
    assert torch.equal(out[0], torch.zeros_like(out[0]))
    target = out[1].norm() if norm == "l2" else out[1].sum()
    assert abs(float(target) - 1.0) < 1e-14


def test_identity_sum_to_zero_stays_zero():
    """normalize='sum' of a vector whose sum is exactly 0 gives 0, not inf/NaN (documented)."""
    x = torch.tensor([[1.0, -1.0, 2.0, -2.0]], dtype=DT)
    assert torch.equal(FeatureMap("identity", "sum")(x), torch.zeros_like(x))


def test_zero_relu_key_writes_nothing():
    rule = fwp_core.make_rule("hebbian", feature_map="relu", normalize="l2")
    q = _x(3, 4)
    k = torch.tensor([[1.0, 2.0, 0.0, 0.5], [-1.0, -2.0, -0.1, -3.0], [0.0, 1.0, 0.0, 0.0]], dtype=DT)
    tr = rule.run(q, k, _x(3, 2))
    assert torch.equal(tr.updates[1], torch.zeros(2, 4, dtype=DT))
    assert bool(torch.isfinite(tr.outputs).all())


def _mean_cos(name, d=64, n=1000, seed=0, **kw):
    fm = FeatureMap(name, **kw)
    a, b = fm(_x(n, d, seed=seed)), fm(_x(n, d, seed=seed + 1))
    return float(F.cosine_similarity(a, b, dim=-1).mean())


def test_positive_feature_maps_correlate_unrelated_keys():
    """rules.md: mean cosine ≈ 0.7 for elu+1 on Gaussian inputs at d = 64; raw keys ≈ 0; DPFP reduces it."""
    elu = _mean_cos("elu1")
    assert 0.6 <= elu <= 0.8
    assert abs(_mean_cos("identity")) < 0.03
    relu = _mean_cos("relu")
    assert 0.25 < relu < elu  # 1/π in expectation
    assert abs(relu - 1 / math.pi) < 0.05
    assert _mean_cos("dpfp", nu=1) < 0.5 * elu
    assert _mean_cos("dpfp", nu=3) < 0.5 * elu


@pytest.mark.parametrize("device", DEVICES)
def test_feature_maps_keep_dtype_and_device(device):
    x = _x(4, 6).to(device)
    for name in FEATURE_MAPS:
        for dtype in (torch.float32, torch.float64):
            out = FeatureMap(name, "l2", nu=2, m=8)(x.to(dtype))
            assert out.dtype == dtype and out.device.type == device, name


def test_unknown_map_or_normalisation_raises():
    with pytest.raises(ValueError, match=r"unknown feature_map 'cosine'.*elu1"):
        FeatureMap("cosine")
    with pytest.raises(ValueError, match=r"unknown normalize 'l1'.*l2"):
        FeatureMap("relu", "l1")
