r"""Three-factor learning (eligibility traces), and the causal fast weight programmer that computes it: two fast weights.

A coincidence of presynaptic activity k_t and postsynaptic activity v_t only *tags* the synapses with an
eligibility trace; a neuromodulator M_t that arrives while the tag lasts turns it into a weight change
(Frémaux & Gerstner 2016; Gerstner et al. 2018):

.. math:: E_t = \lambda E_{t-1} + v_t k_t^\top, \qquad W_t = W_{t-1} + M_t E_t .

**The causal FWP.** The trace is itself a fast weight, the registered ``decay`` rule with γ = λ and β = 1,
and M_t gates its transfer into a second fast weight W. A programmer that emits k_t, v_t and M_t at step t
(nothing from the future) computes W_t at every t. ``three_factor`` runs the synapse-level three-factor
model in plain numpy and this two-fast-weight FWP through the registered rule, and reports how far apart
they are at any step (``causal_error``: zero up to rounding).

**The non-causal identity.** Unrolled, :math:`W_T = \sum_s \beta_s v_s k_s^\top` with
:math:`\beta_s = \sum_{t \ge s} M_t \lambda^{t-s}`: one Hebbian fast weight with write strengths β_s gives
the same *final* weights. But β_s sums neuromodulator pulses that arrive after step s, so no causal
programmer can emit it at step s, and at an intermediate t the β-weighted sum
:math:`\sum_{s \le t} \beta_s v_s k_s^\top` is not W_t in general: it already holds an item whose reward
has not happened yet. ``beta_sum_gap`` measures that at every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..registry import make_rule
from ._common import DT, integer, num, orthonormal, ro, seed_of

__all__ = ["GAP_TOLERANCE", "ThreeFactorResult", "three_factor"]

GAP_TOLERANCE = 1e-12
"""Entries that differ by no more than this count as equal (float64 rounding over at most 640 steps is ~1e-15)."""


@dataclass(frozen=True)
class ThreeFactorResult:
    """Three-factor learning beside its causal FWP, the non-causal β identity and plain Hebbian learning.

    Steps are numbered t = 1..T; per-step arrays have length T and entry t−1 belongs to step t.
    "Gap" and "error" are max-abs entry differences between two (d, d) weight matrices.
    """

    time: np.ndarray  # (T,) step numbers 1..T
    pre: np.ndarray  # (T, d) presynaptic activity k_t (zero between items)
    post: np.ndarray  # (T, d) postsynaptic activity v_t (zero between items)
    item_times: np.ndarray  # (n_items,) int, the step at which item i is presented
    rewarded: np.ndarray  # (n_items,) bool, whether item i is followed by a neuromodulator pulse
    reward_times: np.ndarray  # (n_rewarded,) int, the steps at which M_t > 0
    modulator: np.ndarray  # (T,) M_t, the third factor
    eligibility_norm: np.ndarray  # (T,) ‖E_t‖_F, the synapses' tags (three-factor simulation)
    weights: np.ndarray  # (T, d, d) W_t, three-factor simulation (synapse by synapse, plain numpy)
    fwp_weights: np.ndarray  # (T, d, d) W_t, causal FWP: fast weights E (``decay`` rule) and W += M_t E_t
    fwp_weight_norm: np.ndarray  # (T,) ‖W_t‖_F of the causal FWP
    causal_error_over_time: np.ndarray  # (T,) max |W_t(three-factor) − W_t(two fast weights)|
    causal_error: float  # its maximum over all t
    weight_norm: np.ndarray  # (T,) ‖W_t‖_F, three-factor simulation
    hebbian_weight_norm: np.ndarray  # (T,) ‖W_t‖_F, plain Hebbian rule (β ≡ 1)
    stored_over_time: np.ndarray  # (T, n_items) v_iᵀ W_t k_i, three-factor
    hebbian_stored_over_time: np.ndarray  # (T, n_items) v_iᵀ W_t k_i, Hebbian
    stored: np.ndarray  # (n_items,) v_iᵀ W_T k_i at the end, three-factor
    hebbian_stored: np.ndarray  # (n_items,) v_iᵀ W_T k_i at the end, Hebbian
    beta_equivalent: np.ndarray  # (T,) β_s = Σ_{t≥s} M_t λ^{t−s}: NON-causal, it sums rewards after step s
    beta_sum_norm: np.ndarray  # (T,) ‖Σ_{s≤t} β_s v_s k_sᵀ‖_F (``hebbian`` rule run with β_s)
    beta_sum_stored_over_time: np.ndarray  # (T, n_items) v_iᵀ (Σ_{s≤t} β_s v_s k_sᵀ) k_i
    beta_sum_gap: np.ndarray  # (T,) max |Σ_{s≤t} β_s v_s k_sᵀ − W_t|: 0 at t = T, not in general before
    final_identity_error: float  # beta_sum_gap at t = T: the identity W_T = Σ_s β_s v_s k_sᵀ
    largest_gap: float  # max of beta_sum_gap over t < T
    largest_gap_step: int | None  # the step t < T where it is largest (None if it never exceeds GAP_TOLERANCE)
    first_gap_step: int | None  # the first step where beta_sum_gap > GAP_TOLERANCE (None if never)
    final_weights: np.ndarray  # (d, d) W_T, three-factor
    hebbian_final_weights: np.ndarray  # (d, d) W_T, Hebbian
    trace_decay: float  # λ
    delay: int  # steps from an item to its reward
    interval: int  # steps from one item to the next


def _check_rewarded(rewarded: Sequence[int], n_items: int) -> list[int]:
    if isinstance(rewarded, (str, bytes)) or not isinstance(rewarded, (Sequence, np.ndarray)):
        raise ValueError(f"rewarded={rewarded!r} is not allowed; rewarded must be a sequence of item indices in [0, {n_items - 1}]")
    idx = []
    for i in rewarded:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n_items:
            raise ValueError(f"rewarded item {i!r} is not allowed; rewarded items must be integers in [0, {n_items - 1}]")
        idx.append(int(i))
    if len(set(idx)) != len(idx):
        raise ValueError(f"rewarded={tuple(idx)} lists an item twice; each item may be rewarded at most once")
    return idx


def three_factor_synapses(pre: np.ndarray, post: np.ndarray, modulator: np.ndarray, trace_decay: float) -> tuple[np.ndarray, np.ndarray]:
    """The three-factor model, synapse by synapse in plain numpy: (E_t, W_t) for t = 1..T, each (T, d_v, d_k).

    Synapse (i, j) tags the coincidence post_i·pre_j in its trace e_ij ← λ e_ij + post_i pre_j, and the
    neuromodulator converts the tag: w_ij ← w_ij + M_t e_ij.
    """
    T = len(modulator)
    e = np.zeros((post.shape[1], pre.shape[1]))
    w = np.zeros_like(e)
    E, W = np.empty((T, *e.shape)), np.empty((T, *e.shape))
    for t in range(T):
        e = trace_decay * e + post[t][:, None] * pre[t][None, :]
        w = w + modulator[t] * e
        E[t], W[t] = e, w
    return E, W


def two_fast_weight_fwp(keys: torch.Tensor, values: torch.Tensor, modulator: torch.Tensor, trace_decay: float) -> torch.Tensor:
    """The causal FWP: W_t for t = 1..T, (T, d_v, d_k), one step at a time from (k_t, v_t, M_t) only.

    Fast weight 1 is the trace E_t = λE_{t−1} + v_t k_tᵀ, the registered ``decay`` rule (gate λ, β = 1)
    advanced by ``rule.step``; fast weight 2 is W_t = W_{t−1} + M_t E_t, M_t gating the transfer.
    """
    trace_rule = make_rule("decay")
    state = None
    W = torch.zeros(values.shape[1], keys.shape[1], dtype=DT)
    out = []
    for t in range(len(modulator)):
        state, _ = trace_rule.step(state, keys[t], keys[t], values[t], beta=1.0, gate=trace_decay)  # E_t
        W = W + modulator[t] * state["W"]  # W_t: M_t moves the current trace into W
        out.append(W)
    return torch.stack(out)


def equivalent_beta(modulator: np.ndarray, trace_decay: float) -> np.ndarray:
    """β_s = Σ_{t≥s} M_t λ^{t−s}, by the backward recursion β_s = M_s + λ β_{s+1}: it needs every later M_t."""
    beta = np.zeros(len(modulator))
    later = 0.0
    for t in range(len(modulator) - 1, -1, -1):
        later = modulator[t] + trace_decay * later
        beta[t] = later
    return beta


def three_factor(
    n_items: int = 6,
    d: int = 8,
    rewarded: Sequence[int] = (1, 4),
    delay: int = 2,
    trace_decay: float = 0.7,
    interval: int = 10,
    reward: float = 1.0,
    seed: int = 0,
) -> ThreeFactorResult:
    r"""Hebbian vs three-factor learning: only rewarded (salient) pairs are stored.

    Item i is a coincidence of presynaptic activity k_i (the key, orthonormal over items) and
    postsynaptic activity v_i (the value, a unit vector), presented at step s_i = 1 + i·interval;
    between items all activity is zero. The neuromodulator M_t is ``reward`` at step s_i + delay for
    each rewarded item and 0 elsewhere.

    * Hebbian: every coincidence is written, :math:`W_t = W_{t-1} + v_t k_t^\top` (the registered
      ``hebbian`` rule with β ≡ 1).
    * Three-factor, :math:`E_t = \lambda E_{t-1} + v_t k_t^\top,\ W_t = W_{t-1} + M_t E_t`, computed twice:
      synapse by synapse in plain numpy (``weights``) and as the causal FWP with two fast weights — the
      trace by the registered ``decay`` rule, M_t gating it into W (``fwp_weights``). ``causal_error`` is
      the largest difference between the two over all t.
    * The non-causal identity :math:`W_T = \sum_s \beta_s v_s k_s^\top`,
      :math:`\beta_s = \sum_{t \ge s} M_t \lambda^{t-s}` (``beta_equivalent``), checked with the ``hebbian``
      rule run with β_s: ``final_identity_error`` at T, and ``beta_sum_gap`` at every t — not zero in
      general before T, because β_s counts rewards that have not arrived yet.

    A reward that comes ``delay`` steps late still reaches its item, scaled by λ^delay; it must arrive
    before the next item (delay < interval), or it would also credit that item. With M ≡ 0
    (``rewarded=()``) nothing changes.

    Args: n_items ∈ [1, 16] pairs in d ∈ [n_items, 32] dimensions; ``rewarded``: distinct indices of
    rewarded items in [0, n_items − 1]; delay ∈ [0, interval − 1]; trace_decay λ ∈ [0, 1];
    interval ∈ [1, 40] steps between items; reward ∈ (0, 1e6]; seed.
    """
    n_items = integer("n_items", n_items, 1, 16)
    d = integer("d", d, 1, 32)
    if d < n_items:
        raise ValueError(f"d={d} is too small; the keys are orthonormal, so d must be at least n_items={n_items}")
    interval = integer("interval", interval, 1, 40)
    delay = integer("delay", delay, 0, 10**6)
    if delay >= interval:
        raise ValueError(
            f"delay={delay} is not allowed; the reward must arrive before the next item, so delay must be an "
            f"integer in [0, interval − 1] = [0, {interval - 1}]"
        )
    lam = num("trace_decay", trace_decay, 0.0, 1.0)
    reward = num("reward", reward, 0.0, 1e6, low_open=True)
    seed = seed_of(seed)
    idx = _check_rewarded(rewarded, n_items)

    rng = np.random.default_rng(seed)
    keys = orthonormal(rng, d, n_items)  # (n, d)
    values = rng.standard_normal((n_items, d))
    values /= np.linalg.norm(values, axis=1, keepdims=True)  # (n, d) unit
    T = n_items * interval
    item_steps = np.arange(n_items) * interval  # 0-based
    k = np.zeros((T, d))
    v = np.zeros((T, d))
    k[item_steps] = keys
    v[item_steps] = values
    mask = np.zeros(n_items, dtype=bool)
    mask[idx] = True
    M = np.zeros(T)
    M[item_steps[mask] + delay] = reward

    E, W3 = three_factor_synapses(k, v, M, lam)  # (T, d, d) each
    kt, vt = torch.as_tensor(k, dtype=DT), torch.as_tensor(v, dtype=DT)
    Wf = two_fast_weight_fwp(kt, vt, torch.as_tensor(M, dtype=DT), lam).numpy()
    hebb = make_rule("hebbian").run(kt, kt, vt).weights[1:].numpy()  # (T, d, d)
    beta = equivalent_beta(M, lam)
    Wb = make_rule("hebbian").run(kt, kt, vt, beta=torch.as_tensor(beta, dtype=DT)).weights[1:].numpy()  # Σ_{s≤t} β_s v_s k_sᵀ

    def stored(Ws: np.ndarray) -> np.ndarray:  # (T, d, d) -> (T, n) v_iᵀ W_t k_i
        return np.einsum("id,tde,ie->ti", values, Ws, keys)

    def norm(Ws: np.ndarray) -> np.ndarray:  # (T, d, d) -> (T,) Frobenius norms
        return np.sqrt((Ws**2).sum(axis=(1, 2)))

    def gap(A: np.ndarray, B: np.ndarray) -> np.ndarray:  # (T, d, d) x2 -> (T,) max-abs difference per step
        return np.abs(A - B).max(axis=(1, 2))

    causal = gap(W3, Wf)
    bgap = gap(Wb, W3)
    before_end = bgap[:-1]
    over = np.flatnonzero(bgap > GAP_TOLERANCE)
    largest_at = int(np.argmax(before_end)) if before_end.size else 0
    s3, sh = stored(W3), stored(hebb)
    return ThreeFactorResult(
        time=ro(np.arange(1, T + 1)), pre=ro(k), post=ro(v), item_times=ro(item_steps + 1), rewarded=ro(mask),
        reward_times=ro(item_steps[mask] + delay + 1), modulator=ro(M), eligibility_norm=ro(norm(E)),
        weights=ro(W3), fwp_weights=ro(Wf), fwp_weight_norm=ro(norm(Wf)), causal_error_over_time=ro(causal),
        causal_error=float(causal.max()), weight_norm=ro(norm(W3)), hebbian_weight_norm=ro(norm(hebb)),
        stored_over_time=ro(s3), hebbian_stored_over_time=ro(sh), stored=ro(s3[-1]), hebbian_stored=ro(sh[-1]),
        beta_equivalent=ro(beta), beta_sum_norm=ro(norm(Wb)), beta_sum_stored_over_time=ro(stored(Wb)),
        beta_sum_gap=ro(bgap), final_identity_error=float(bgap[-1]),
        largest_gap=float(before_end.max()) if before_end.size else 0.0,
        largest_gap_step=largest_at + 1 if before_end.size and before_end[largest_at] > GAP_TOLERANCE else None,
        first_gap_step=int(over[0]) + 1 if over.size else None,
        final_weights=ro(W3[-1]), hebbian_final_weights=ro(hebb[-1]), trace_decay=lam, delay=delay, interval=interval,
    )
