"""fwp_core.biology: each simulation shows the fact it is there to show, asserted as numbers."""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from fwp_core import biology as bio


# ------------------------------------------------------------------ 1. three-factor learning
def test_three_factor_without_modulator_changes_nothing():
    r = bio.three_factor(rewarded=())
    assert np.all(r.modulator == 0)
    assert np.all(r.final_weights == 0) and np.all(r.weight_norm == 0)
    assert np.all(r.stored == 0)
    # the coincidences happened: the trace was tagged, and plain Hebbian stored every item
    assert r.eligibility_norm.max() > 0.9
    np.testing.assert_allclose(r.hebbian_stored, 1.0, atol=1e-12)


@pytest.mark.parametrize("delay", [0, 2, 6], ids=lambda d: f"delay{d}")
def test_three_factor_stores_only_modulated_items(delay):
    lam = 0.7
    r = bio.three_factor(n_items=6, rewarded=(1, 4), delay=delay, trace_decay=lam, interval=10)
    assert r.rewarded.tolist() == [False, True, False, False, True, False]
    rewarded, other = r.stored[r.rewarded], r.stored[~r.rewarded]
    # a late reward still reaches its item, scaled by λ^delay (other rewards add < 1e-4 here)
    np.testing.assert_allclose(rewarded, lam**delay, atol=1e-4)
    assert np.all(np.abs(other) < 0.05 * rewarded.min())
    np.testing.assert_allclose(r.hebbian_stored, 1.0, atol=1e-12)  # Hebbian writes every coincidence
    # an item is stored only from its reward step on
    item = 1
    reward_step = int(r.item_times[item]) + delay
    assert np.all(r.stored_over_time[: reward_step - 1, item] == 0)
    assert r.stored_over_time[reward_step - 1, item] == pytest.approx(lam**delay, abs=1e-12)


def _reference_three_factor(r):
    """The three-factor rule and its β identity, recomputed here from the run's inputs in the plainest way."""
    lam, M = r.trace_decay, r.modulator
    T, d = r.pre.shape
    E, W, out = np.zeros((d, d)), np.zeros((d, d)), []
    for t in range(T):
        E = lam * E + np.outer(r.post[t], r.pre[t])
        W = W + M[t] * E
        out.append(W)
    beta = np.array([sum(M[t] * lam ** (t - s) for t in range(s, T)) for s in range(T)])  # Σ_{t≥s} M_t λ^{t−s}
    partial = np.cumsum(beta[:, None, None] * np.einsum("ti,tj->tij", r.post, r.pre), axis=0)  # Σ_{s≤t} β_s v_s k_sᵀ
    return np.stack(out), beta, partial


CAUSAL_CASES = [
    dict(seed=seed, trace_decay=lam, delay=delay, rewarded=rewarded)
    for seed in (0, 1, 5)
    for lam in (0.0, 0.35, 0.7, 0.95, 1.0)
    for delay, rewarded in ((0, (0, 3)), (2, (1, 4)), (7, (0, 1, 2, 5)))
]


@pytest.mark.parametrize("kw", CAUSAL_CASES, ids=lambda kw: "seed{seed}-lam{trace_decay}-delay{delay}".format(**kw))
def test_three_factor_equals_two_fast_weight_fwp_at_every_step(kw):
    r = bio.three_factor(**kw)
    W_ref, _, _ = _reference_three_factor(r)
    assert r.weights.dtype == np.float64 and r.fwp_weights.dtype == np.float64
    assert r.weights.shape == r.fwp_weights.shape == W_ref.shape
    diff = np.abs(r.weights - r.fwp_weights).max(axis=(1, 2))  # every t, not only the end
    assert diff.max() <= 1e-12
    np.testing.assert_array_equal(r.causal_error_over_time, diff)
    assert r.causal_error == diff.max()
    assert np.abs(r.weights - W_ref).max() <= 1e-12  # both agree with the plain recomputation too
    np.testing.assert_allclose(r.fwp_weight_norm, np.linalg.norm(r.fwp_weights, axis=(1, 2)), atol=1e-12)


def test_two_fast_weight_fwp_is_causal_and_beta_is_not():
    """Changing the neuromodulator after step t0 leaves the FWP's W_t for t < t0 untouched, but changes β_s for s < t0."""
    from fwp_core.biology.eligibility import two_fast_weight_fwp

    r = bio.three_factor()
    t0 = int(r.reward_times[0]) - 1  # 0-based index of the first reward
    M = torch.tensor(np.array(r.modulator), dtype=torch.float64)
    M_late = M.clone()
    M_late[t0:] *= 3.0
    k, v = torch.tensor(np.array(r.pre)), torch.tensor(np.array(r.post))
    W, W_late = two_fast_weight_fwp(k, v, M, r.trace_decay), two_fast_weight_fwp(k, v, M_late, r.trace_decay)
    assert torch.equal(W[:t0], W_late[:t0])  # the FWP never looks ahead
    assert not torch.equal(W[t0:], W_late[t0:])
    b, b_late = bio.equivalent_beta(M.numpy(), r.trace_decay), bio.equivalent_beta(M_late.numpy(), r.trace_decay)
    assert np.abs(b[:t0] - b_late[:t0]).max() > 0.1  # β_s for items before the reward depends on the later M


@pytest.mark.parametrize("seed", [0, 3, 11])
@pytest.mark.parametrize("lam", [0.4, 0.7, 1.0])
def test_beta_identity_holds_for_final_weights_only(seed, lam):
    r = bio.three_factor(seed=seed, trace_decay=lam, delay=3, rewarded=(1, 4))
    W_ref, beta, partial = _reference_three_factor(r)
    np.testing.assert_allclose(r.beta_equivalent, beta, atol=1e-12)  # β_s = Σ_{t≥s} M_t λ^{t−s}
    assert np.abs(partial[-1] - r.final_weights).max() <= 1e-12  # W_T = Σ_s β_s v_s k_sᵀ
    assert r.final_identity_error <= 1e-12
    gaps = np.abs(partial - W_ref).max(axis=(1, 2))
    np.testing.assert_allclose(r.beta_sum_gap, gaps, atol=1e-12)
    # at an intermediate step, here when rewarded item 2 is presented but its reward is 3 steps away, they differ
    t = int(r.item_times[1])
    d = r.pre.shape[1]
    assert beta[t - 1] >= lam**3 and gaps[t - 1] >= beta[t - 1] / d  # its own reward, λ³ away; a unit v kᵀ has an entry ≥ 1/d
    assert r.beta_sum_stored_over_time[t - 1, 1] == pytest.approx(beta[t - 1], abs=1e-12)
    assert r.stored_over_time[t - 1, 1] == pytest.approx(0.0, abs=1e-12)
    assert r.largest_gap == pytest.approx(gaps[:-1].max(), abs=1e-12) and r.largest_gap >= lam**3 / d
    assert r.largest_gap_step == int(np.argmax(gaps[:-1])) + 1
    # keys are orthonormal, so the final stored strength of item i is its β_{s_i}
    np.testing.assert_allclose(r.stored, r.beta_equivalent[r.item_times - 1], atol=1e-12)


def test_beta_is_causal_only_without_trace_or_delay():
    r0 = bio.three_factor(delay=0, trace_decay=0.0, reward=0.7)
    np.testing.assert_array_equal(r0.beta_equivalent, r0.modulator)  # M_t is β_t itself
    np.testing.assert_allclose(r0.stored, 0.7 * r0.rewarded, atol=1e-12)
    assert r0.beta_sum_gap.max() <= 1e-12 and r0.largest_gap_step is None and r0.first_gap_step is None
    r1 = bio.three_factor(delay=0, trace_decay=0.5)  # a trace alone already lets later rewards reach back
    assert r1.largest_gap_step is not None and r1.largest_gap > 1e-4


# ---------------------------------------------------------------------------- 2. Oja's rule
# the page's own default settings (pages/biology.py: bio_lr, bio_steps, bio_lam1, bio_lam2, bio_init)
PAGE_OJA = dict(eigenvalues=(3.0, 0.2), n_steps=600, learning_rate=0.005, init_norm=0.3)


def test_oja_at_the_page_settings_reaches_unit_norm_on_the_top_eigenvector():
    r = bio.oja_pca(**PAGE_OJA)
    assert r.norm_oja[-1] == pytest.approx(1.0, abs=0.01)
    assert r.angle_oja[-1] < 1.0


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_oja_normalises_and_finds_top_component(seed):
    r = bio.oja_pca(seed=seed)
    assert r.norm_oja[0] == pytest.approx(0.3)
    assert np.all(np.abs(r.norm_oja[-100:] - 1.0) < 0.02)
    assert r.angle_oja[-1] < 5.0 and r.angle_oja[-100:].mean() < 5.0
    np.testing.assert_allclose(np.linalg.norm(r.top_eigenvector), 1.0)
    np.testing.assert_allclose(r.covariance @ r.top_eigenvector, r.eigenvalues[0] * r.top_eigenvector, atol=1e-12)
    # plain Hebbian turns the same way but its norm grows without bound
    assert r.log10_norm_hebbian[-1] - r.log10_norm_hebbian[0] > 3.0
    assert np.all(np.diff(r.log10_norm_hebbian) >= 0)  # w(I + β k kᵀ) never shrinks
    assert r.angle_hebbian[-1] < 5.0


@pytest.mark.parametrize("eigenvalues", [(3.0, 0.2), (2.0, 1.5, 0.5), (4.0, 1.0, 0.7, 0.1)])
def test_oja_every_eigenvector_is_a_fixed_point_but_only_the_top_one_is_stable(eigenvalues):
    r = bio.oja_pca(eigenvalues=eigenvalues, n_steps=1, learning_rate=0.001)
    C = r.covariance
    lam, U = np.linalg.eigh(C)
    lam, U = lam[::-1], U[:, ::-1]

    def drift(w):  # Oja's mean dynamics
        return C @ w - (w @ C @ w) * w

    def jacobian(w):
        return C - (w @ C @ w) * np.eye(len(w)) - 2.0 * np.outer(w, C @ w)

    assert r.fixed_points == ("0", *(f"±u_{i + 1}" for i in range(len(lam))))
    points = [np.zeros(len(lam))] + [U[:, i] for i in range(len(lam))]
    growth = []
    for w in points:
        for sign in (1.0, -1.0):
            assert np.abs(drift(sign * w)).max() < 1e-12  # 0 and every ±u_i are fixed points
        growth.append(np.linalg.eigvals(jacobian(w)).real.max())
    np.testing.assert_allclose(r.fixed_point_growth, growth, atol=1e-9)
    assert r.fixed_point_stable.tolist() == [False, True] + [False] * (len(lam) - 1)  # only ±u_1
    # integrate the mean dynamics: exactly at u_2 it stays; a nudge towards u_1 carries it to u_1, with norm 1
    w = U[:, 1].copy()
    for _ in range(2000):
        w = w + 0.01 * drift(w)
    assert np.abs(w - U[:, 1]).max() < 1e-9
    w = U[:, 1] + 1e-3 * U[:, 0]
    for _ in range(20000):
        w = w + 0.01 * drift(w)
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=1e-6) and abs(w @ U[:, 0]) == pytest.approx(1.0, abs=1e-6)


def test_oja_hebbian_norm_bookkeeping_is_exact():
    r = bio.oja_pca(n_steps=1500, learning_rate=0.02)
    assert r.log10_norm_hebbian[-1] > 12  # well past 1e6, where the run rescales its copy
    w = r.initial_weights.copy()
    norms = [np.linalg.norm(w)]
    for k in r.inputs:  # w_t = w_{t-1}(I + β k kᵀ), in plain numpy
        w = w + r.learning_rate * (w @ k) * k
        norms.append(np.linalg.norm(w))
    np.testing.assert_allclose(r.norm_hebbian, norms, rtol=1e-9)
    np.testing.assert_allclose(r.log10_norm_hebbian, np.log10(norms), atol=1e-9)


# ----------------------------------------------------------------- 3. short-term plasticity
def _at(r, t):
    return int(round(t / (r.time[1] - r.time[0])))


def test_stp_efficacy_stays_raised_for_about_tau_f_then_decays():
    r = bio.short_term_plasticity()
    U, L, tf = r.baseline, r.last_spike, r.tau_f
    assert not r.spikes[r.time > L + 1e-9].any()  # nothing fires after the last spike: activity-silent
    assert np.all(r.efficacy[r.time < r.spike_times[0] - 1e-9] == pytest.approx(U))  # rested synapse
    held = (r.time >= L + 3 * r.tau_d) & (r.time <= L + tf)
    assert np.all(r.efficacy[held] > 1.5 * U)  # well above baseline for about τ_F after the last spike
    excess_1 = r.efficacy[_at(r, L + tf)] - U
    excess_4 = r.efficacy[_at(r, L + 4 * tf)] - U
    assert excess_1 > 0.5 * U
    assert 0 < excess_4 < 0.1 * excess_1  # back near baseline after a few τ_F
    np.testing.assert_allclose(r.efficacy, r.u * r.x)


def test_stp_fast_weight_rules_hold_the_item():
    r = bio.short_term_plasticity()
    L, tf = r.last_spike, r.tau_f
    held = r.decay_strength[_at(r, L)]
    assert held > 0
    # decay rule with γ = exp(−dt/τ_F): down by exactly e after τ_F
    assert r.decay_strength[_at(r, L + tf)] == pytest.approx(held / math.e, rel=1e-9)
    # gated rule: holds every write (β = U per spike) unchanged until the programmer clears it
    n_spikes = r.spike_times.size
    hold = (r.time >= L) & (r.time < r.clear_time - 1e-9)
    np.testing.assert_allclose(r.gated_strength[hold], n_spikes * r.baseline, rtol=1e-12)
    assert np.all(r.gated_strength[r.time >= r.clear_time - 1e-9] == 0)


def test_stp_poisson_spikes_are_seeded_and_inside_the_stimulus():
    a = bio.short_term_plasticity(poisson=True, seed=3)
    b = bio.short_term_plasticity(poisson=True, seed=3)
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    assert a.spike_times.min() >= 0.5 - 1e-9 and a.spike_times.max() < 1.0


# --------------------------------------------------------------------------------- 4. BTSP
def test_btsp_writes_a_field_in_one_lap_and_hebbian_does_not():
    r = bio.btsp_place_field()
    p0 = r.plateau_position
    assert np.all(r.field_before == 0)
    assert r.field_btsp.max() > 0.5 * r.w_max  # a field after one lap
    assert abs(r.peak_position_btsp - p0) <= 20.0  # peaked near the plateau position
    # seconds-wide and asymmetric: more before the plateau than after it
    before = r.field_btsp[np.argmin(np.abs(r.positions - (p0 - 25)))]
    after = r.field_btsp[np.argmin(np.abs(r.positions - (p0 + 25)))]
    assert before > 0.3 and before > 2 * after
    # Hebbian (registered rule, same plateau): hardly anything after one lap, many laps to catch up
    assert r.hebbian_fields[1].max() < 0.2 * r.field_btsp.max()
    assert r.hebbian_laps_to_match is not None and r.hebbian_laps_to_match >= 5
    gains = r.hebbian_fields.max(axis=1)
    assert np.all(np.diff(gains) > 0)


def test_btsp_is_weight_dependent_and_bidirectional():
    r = bio.btsp_place_field()
    assert np.all(r.dw_from_zero >= 0) and np.all(r.dw_from_max <= 1e-12)
    assert r.dw_from_zero.max() > 0.9 and r.dw_from_max.min() < -0.5
    # a second plateau 40 cm (2 s) past an existing field depresses the old field and builds the new one
    r2 = bio.btsp_place_field(prior_field_position=60.0, plateau_position=100.0)
    old = np.argmax(r2.field_before)
    assert r2.field_before[old] > 0.5
    assert r2.field_btsp[old] < 0.5 * r2.field_before[old]
    assert abs(r2.peak_position_btsp - 100.0) <= 20.0
    # a repeated plateau at the same place leaves the field nearly as it was (error-correcting)
    r3 = bio.btsp_place_field(prior_field_position=100.0, plateau_position=100.0)
    assert np.abs(r3.field_btsp - r3.field_before).max() < 0.1


def test_btsp_delta_rule_writes_one_shot():
    r = bio.btsp_place_field()
    assert r.delta_error_before > 1.0 and r.delta_error_after < 1e-12
    assert abs(r.positions[np.argmax(r.field_delta)] - r.plateau_position) <= 20.0


# ------------------------------------------------------------- 5. key–value memory, forgetting
@pytest.mark.parametrize("rule", ["hebbian", "delta"])
def test_kv_better_query_recovers_the_forgotten_value(rule):
    r = bio.kv_retrieval(rule=rule, similarity=0.9)
    deg, orig, spec = (r.query_names.index(n) for n in ("degraded", "original", "specific"))
    assert r.cos_target[deg] < 0.75  # the degraded cue recalls a blend or the wrong value
    assert r.recalled[deg] != "target" and r.recalled[spec] == "target"
    assert r.cos_target[spec] > 1 - 1e-12 and abs(r.cos_interferer[spec]) < 1e-9
    # not erased: W (k1 − c k2) = (1 − c²) v1 exactly
    k1, k2 = r.keys
    np.testing.assert_allclose(r.weights @ (k1 - 0.9 * k2), (1 - 0.81) * r.values[0], atol=1e-12)
    assert np.all(np.diff(r.sweep_cos_target) > -1e-12)  # a more specific cue never recalls worse


def test_kv_delta_second_write_hides_the_first_even_from_its_own_key():
    r = bio.kv_retrieval(rule="delta", similarity=0.9)
    orig = r.query_names.index("original")
    assert r.recalled[orig] == "interferer" and r.cos_interferer[orig] > 0.95
    h = bio.kv_retrieval(rule="hebbian", similarity=0.9)
    assert h.recalled[orig] == "mixed"


# -------------------------------------------------------------------------- 6. mapping table
def test_biology_map_covers_every_fwp_quantity_and_the_open_questions():
    m = bio.biology_map()
    quantities = " | ".join(link.quantity for link in m.links)
    for q in ("fast weight", "write", "write strength", "gate", "key", "value", "query", "programmer", "normaliser"):
        assert q in quantities, q
    allowed = {s for s, _ in m.statuses}
    assert allowed == {"established", "hypothesis"}
    assert {link.status for link in m.links} == allowed
    for link in m.links:
        assert link.counterpart and link.explanation
        assert link.simulation is None or callable(getattr(bio, link.simulation))
    questions = " | ".join(q.question for q in m.open_questions)
    for phrase in ("error term W k", "β > 1", "keys and values learned"):
        assert phrase in questions, phrase
    assert all(q.why_it_matters and q.candidate_answers for q in m.open_questions)


def test_every_mapping_row_cites_its_sources():
    m = bio.biology_map()
    for link in m.links:
        assert len(link.sources) >= 1, link.quantity
        assert len({s.key for s in link.sources}) == len(link.sources), link.quantity
        for src in link.sources:
            year = re.search(r"\d{4}", src.short).group()
            assert f"({year})" in src.citation, src  # the short form and the citation agree on the year
            surname = src.short.split()[0].rstrip(",")
            assert surname in src.citation and surname in link.explanation, (link.quantity, src.short)
        assert link.references == tuple(s.citation for s in link.sources)


def test_nothing_is_attributed_to_the_primer_unless_marked():
    m = bio.biology_map()
    for link in m.links:
        text = " ".join([link.quantity, link.symbol, link.counterpart, link.explanation,
                         *(s.citation for s in link.sources), *(s.short for s in link.sources)])
        if not link.after_primer:
            assert "primer" not in text.lower() and "2508.08435" not in text and "Irie & Gershman" not in text, link.quantity
    # the note says that no row is taken from the primer: then none may be marked
    assert "no row is attributed" in m.primer_note
    assert not any(link.after_primer for link in m.links)
    assert "2508.08435" in m.primer.citation


def test_mapping_table_is_plain_data():
    from fwp_core.biology import mapping_table

    public = {k: v for k, v in vars(mapping_table).items() if not k.startswith("_")}
    assert set(public) == {"SOURCES", "PRIMER", "PRIMER_NOTE", "LINKS", "OPEN_QUESTIONS"}
    assert all(isinstance(v, (dict, tuple, str)) for v in public.values())
    for row in mapping_table.LINKS:
        assert set(row) <= {"quantity", "symbol", "counterpart", "status", "explanation", "simulation", "sources",
                            "after_primer"}
        assert row["sources"] and all(k in mapping_table.SOURCES for k in row["sources"])


def test_core_never_imports_streamlit_or_plotly():
    root = Path(bio.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(streamlit|plotly)", text, re.M), path.name


# ------------------------------------------------------------------------- contracts, speed
SIMULATIONS = bio.SIMULATIONS


@pytest.mark.parametrize("fn", SIMULATIONS, ids=lambda f: f.__name__)
def test_results_are_frozen_and_read_only(fn):
    r = fn()
    assert dataclasses.is_dataclass(r)
    field = dataclasses.fields(r)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(r, field, None)
    arrays = [getattr(r, f.name) for f in dataclasses.fields(r) if isinstance(getattr(r, f.name), np.ndarray)]
    assert arrays and all(not a.flags.writeable for a in arrays)
    assert all(np.all(np.isfinite(a)) for a in arrays if a.dtype.kind == "f" and a is not getattr(r, "animal_position", None))


BAD = [
    (bio.three_factor, {"n_items": 0}, "n_items"),
    (bio.three_factor, {"d": 3, "n_items": 6}, "at least n_items"),
    (bio.three_factor, {"delay": 10, "interval": 10}, "before the next item"),
    (bio.three_factor, {"delay": -1}, "delay"),
    (bio.three_factor, {"trace_decay": 1.5}, r"trace_decay.*\[0, 1\]"),
    (bio.three_factor, {"rewarded": (7,)}, r"\[0, 5\]"),
    (bio.three_factor, {"rewarded": (1, 1)}, "twice"),
    (bio.three_factor, {"rewarded": "1"}, "sequence"),
    (bio.three_factor, {"reward": 0.0}, "reward"),
    (bio.three_factor, {"seed": -1}, "seed"),
    (bio.oja_pca, {"eigenvalues": (1.0, 1.0)}, "strictly larger"),
    (bio.oja_pca, {"eigenvalues": (1.0, -0.5)}, "> 0"),
    (bio.oja_pca, {"eigenvalues": (1.0,)}, "2 to 16"),
    (bio.oja_pca, {"eigenvalues": "big"}, "eigenvalues"),
    (bio.oja_pca, {"learning_rate": 0.0}, "learning_rate"),
    (bio.oja_pca, {"learning_rate": 0.3}, "too large"),
    (bio.oja_pca, {"init_norm": 5.0}, "init_norm"),
    (bio.oja_pca, {"n_steps": 2.5}, "n_steps"),
    (bio.oja_pca, {"init_norm": float("nan")}, "init_norm"),
    (bio.short_term_plasticity, {"U": 0.0}, r"U.*\(0, 1\]"),
    (bio.short_term_plasticity, {"tau_f": -1.0}, "tau_f"),
    (bio.short_term_plasticity, {"stim_start": 1.0, "stim_stop": 0.5}, "later than"),
    (bio.short_term_plasticity, {"dt": 1.0}, "dt"),
    (bio.short_term_plasticity, {"duration": 60.0, "dt": 0.001}, "20000"),
    (bio.short_term_plasticity, {"clear_time": 0.8}, "clear_time"),
    (bio.short_term_plasticity, {"poisson": "yes"}, "poisson"),
    (bio.short_term_plasticity, {"rate": 0.1, "stim_stop": 0.6, "poisson": True}, "no spike"),
    (bio.btsp_place_field, {"plateau_position": 500.0}, "plateau_position"),
    (bio.btsp_place_field, {"speed": 0.0}, "speed"),
    (bio.btsp_place_field, {"n_laps": 0}, "n_laps"),
    (bio.btsp_place_field, {"rate_threshold": 1.0}, "rate_threshold"),
    (bio.btsp_place_field, {"prior_field_position": -5.0}, "prior_field_position"),
    (bio.btsp_place_field, {"speed": 0.5, "dt": 0.005}, "4000"),
    (bio.kv_retrieval, {"similarity": 1.0}, r"similarity.*\[0, 1\)"),
    (bio.kv_retrieval, {"rule": "oja"}, "hebbian, delta"),
    (bio.kv_retrieval, {"d_k": 1}, "d_k"),
    (bio.kv_retrieval, {"n_sweep": True}, "n_sweep"),
]


@pytest.mark.parametrize(
    "fn, kwargs, message",
    [pytest.param(*b, id=b[0].__name__ + "-" + ",".join(f"{k}={v}" for k, v in b[1].items())) for b in BAD],
)
def test_bad_arguments_raise_value_error(fn, kwargs, message):
    assert set(kwargs) <= set(inspect.signature(fn).parameters)
    with pytest.raises(ValueError, match=message):
        fn(**kwargs)
