r"""Small neuroscience simulations built on the same update rules as the rest of ``fwp_core``.

Every function here is pure: parameters in, one frozen dataclass of numpy arrays and numbers out.
Wherever a simulation *is* one of the registered rules it calls ``make_rule(...).run`` or
``make_rule(...).step`` instead of re-implementing it, so the biology page shows the very code the
other pages run. Nothing here imports Streamlit or Plotly.

=========================  ===============================================  ==========================
function                   biology                                          FWP counterpart
=========================  ===============================================  ==========================
``three_factor``           eligibility trace gated by a neuromodulator      β_t (and the trace is a
                           E_t = λE_{t−1} + v_t k_tᵀ, W_t = W_{t−1} + M_t E_t  ``decay`` fast weight)
``oja_pca``                Oja's rule finds the top principal component     the ``oja`` rule
``short_term_plasticity``  Tsodyks–Markram facilitation and depression      ``decay`` / ``gated``
``btsp_place_field``       one plateau writes a place field in one lap      ``delta`` (one shot),
                                                                            ``hebbian`` (many laps)
``kv_retrieval``           forgetting as retrieval failure                  keys, values, queries
``biology_map``            the mapping table and the open questions         every FWP quantity
=========================  ===============================================  ==========================

Arrays in the results are float64 numpy arrays marked read-only; a page only reads them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .registry import HParam, make_rule

__all__ = [
    "BTSPResult", "BioLink", "BiologyMap", "KVRetrievalResult", "OjaResult", "OpenQuestion", "SIMULATIONS", "STATUSES",
    "STPResult", "ThreeFactorResult", "biology_map", "btsp_place_field", "kv_retrieval", "oja_pca",
    "short_term_plasticity", "three_factor",
]

_DT = torch.float64
_SEED = HParam("seed", 0, "int", 0, 2**31 - 1)


# ---------------------------------------------------------------------------------------- helpers
def _num(name: str, value: Any, low: float | None = None, high: float | None = None, *, low_open: bool = False,
         high_open: bool = False) -> float:
    """A finite number in the given range, or ValueError saying what is allowed (the registry's wording)."""
    return float(HParam(name, None, "float", low, high, low_open=low_open, high_open=high_open).validate(value))


def _int(name: str, value: Any, low: int, high: int) -> int:
    return int(HParam(name, None, "int", low, high).validate(value))


def _seed(value: Any) -> int:
    return int(_SEED.validate(value))


def _ro(x: Any) -> np.ndarray:
    """A float64 (or bool/int) numpy copy that cannot be written to."""
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    a = np.array(a, dtype=np.float64 if a.dtype.kind in "fc" else a.dtype)
    a.setflags(write=False)
    return a


def _orthonormal(rng: np.random.Generator, d: int, n: int) -> np.ndarray:
    """n orthonormal vectors in d dimensions as rows: (n, d), n ≤ d."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))  # a uniformly random rotation
    return q[:, :n].T.copy()


# ====================================================================== 1. three-factor learning
@dataclass(frozen=True)
class ThreeFactorResult:
    """Hebbian vs three-factor learning of a sequence of pre/post pairs (see ``three_factor``).

    Steps are numbered t = 1..T; per-step arrays have length T and entry t−1 belongs to step t.
    """

    time: np.ndarray  # (T,) step numbers 1..T
    pre: np.ndarray  # (T, d) presynaptic activity k_t (zero between items)
    post: np.ndarray  # (T, d) postsynaptic activity v_t (zero between items)
    item_times: np.ndarray  # (n_items,) int, the step at which item i is presented
    rewarded: np.ndarray  # (n_items,) bool, whether item i is followed by a neuromodulator pulse
    reward_times: np.ndarray  # (n_rewarded,) int, the steps at which M_t > 0
    modulator: np.ndarray  # (T,) M_t, the third factor
    eligibility_norm: np.ndarray  # (T,) ‖E_t‖_F
    weight_norm: np.ndarray  # (T,) ‖W_t‖_F, three-factor rule
    hebbian_weight_norm: np.ndarray  # (T,) ‖W_t‖_F, plain Hebbian rule (β ≡ 1)
    stored_over_time: np.ndarray  # (T, n_items) v_iᵀ W_t k_i, three-factor rule
    hebbian_stored_over_time: np.ndarray  # (T, n_items) v_iᵀ W_t k_i, Hebbian rule
    stored: np.ndarray  # (n_items,) v_iᵀ W_T k_i at the end, three-factor rule
    hebbian_stored: np.ndarray  # (n_items,) v_iᵀ W_T k_i at the end, Hebbian rule
    beta_equivalent: np.ndarray  # (T,) β_s = Σ_{t≥s} λ^{t−s} M_t: the FWP write strength that gives the same W_T
    mapping_error: float  # max |W_T(three-factor) − W_T(hebbian rule run with beta_equivalent)|
    final_weights: np.ndarray  # (d, d) W_T, three-factor rule
    hebbian_final_weights: np.ndarray  # (d, d) W_T, Hebbian rule
    trace_decay: float  # λ
    delay: int  # steps from an item to its reward
    interval: int  # steps from one item to the next


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
    between items all activity is zero.

    * Hebbian: every coincidence is written, :math:`W_t = W_{t-1} + v_t k_t^\top` (the registered
      ``hebbian`` rule with β ≡ 1).
    * Three-factor: the coincidence only tags the synapse with an eligibility trace
      :math:`E_t = \lambda E_{t-1} + v_t k_t^\top` — exactly the ``decay`` fast weight with γ = λ,
      computed by that rule — and a neuromodulator M_t (dopamine-like; ``reward`` at step s_i + delay
      for each rewarded item, 0 elsewhere) turns the tag into a weight change:
      :math:`W_t = W_{t-1} + M_t E_t`.

    Unrolled, :math:`W_T = \sum_s \beta_s v_s k_s^\top` with
    :math:`\beta_s = \sum_{t \ge s} \lambda^{t-s} M_t`: the three-factor rule *is* the Hebbian FWP
    whose programmer emits the write strength β_s. ``beta_equivalent`` holds β_s, and ``mapping_error``
    shows that the ``hebbian`` rule run with it gives the same W_T. A reward that comes ``delay``
    steps late still reaches its item, scaled by λ^delay; it must arrive before the next item
    (delay < interval), or it would also credit that item. With M ≡ 0 (``rewarded=()``) nothing changes.

    Args: n_items ∈ [1, 16] pairs in d ∈ [n_items, 32] dimensions; ``rewarded``: distinct indices of
    rewarded items in [0, n_items − 1]; delay ∈ [0, interval − 1]; trace_decay λ ∈ [0, 1];
    interval ∈ [1, 40] steps between items; reward ∈ (0, 1e6]; seed.
    """
    n_items = _int("n_items", n_items, 1, 16)
    d = _int("d", d, 1, 32)
    if d < n_items:
        raise ValueError(f"d={d} is too small; the keys are orthonormal, so d must be at least n_items={n_items}")
    interval = _int("interval", interval, 1, 40)
    delay = _int("delay", delay, 0, 10**6)
    if delay >= interval:
        raise ValueError(
            f"delay={delay} is not allowed; the reward must arrive before the next item, so delay must be an "
            f"integer in [0, interval − 1] = [0, {interval - 1}]"
        )
    lam = _num("trace_decay", trace_decay, 0.0, 1.0)
    reward = _num("reward", reward, 0.0, 1e6, low_open=True)
    seed = _seed(seed)
    if isinstance(rewarded, (str, bytes)) or not isinstance(rewarded, (Sequence, np.ndarray)):
        raise ValueError(f"rewarded={rewarded!r} is not allowed; rewarded must be a sequence of item indices in [0, {n_items - 1}]")
    idx = []
    for i in rewarded:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n_items:
            raise ValueError(f"rewarded item {i!r} is not allowed; rewarded items must be integers in [0, {n_items - 1}]")
        idx.append(int(i))
    if len(set(idx)) != len(idx):
        raise ValueError(f"rewarded={tuple(idx)} lists an item twice; each item may be rewarded at most once")

    rng = np.random.default_rng(seed)
    keys = _orthonormal(rng, d, n_items)  # (n, d)
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

    kt, vt = torch.as_tensor(k, dtype=_DT), torch.as_tensor(v, dtype=_DT)
    elig = make_rule("decay").run(kt, kt, vt, gate=lam).weights[1:]  # (T, d, d) E_t, gate λ overrides γ
    W = torch.cumsum(torch.as_tensor(M, dtype=_DT)[:, None, None] * elig, dim=0)  # (T, d, d) W_t = Σ_{s≤t} M_s E_s
    hebb = make_rule("hebbian").run(kt, kt, vt).weights[1:]  # (T, d, d)

    beta_eq = np.zeros(T)  # β_s = Σ_{t≥s} λ^{t−s} M_t, by the backward recursion β_s = M_s + λ β_{s+1}
    later = 0.0
    for t in range(T - 1, -1, -1):
        later = M[t] + lam * later
        beta_eq[t] = later
    W_eq = make_rule("hebbian").run(kt, kt, vt, beta=torch.as_tensor(beta_eq, dtype=_DT)).weights[-1]

    E, Wn, Hn = elig.numpy(), W.numpy(), hebb.numpy()

    def stored(Ws: np.ndarray) -> np.ndarray:  # (T, d, d) -> (T, n) v_iᵀ W_t k_i
        return np.einsum("id,tde,ie->ti", values, Ws, keys)

    def norm(Ws: np.ndarray) -> np.ndarray:  # (T, d, d) -> (T,) Frobenius norms
        return np.sqrt((Ws**2).sum(axis=(1, 2)))

    s3, sh = stored(Wn), stored(Hn)
    return ThreeFactorResult(
        time=_ro(np.arange(1, T + 1)), pre=_ro(k), post=_ro(v), item_times=_ro(item_steps + 1), rewarded=_ro(mask),
        reward_times=_ro(item_steps[mask] + delay + 1), modulator=_ro(M), eligibility_norm=_ro(norm(E)),
        weight_norm=_ro(norm(Wn)), hebbian_weight_norm=_ro(norm(Hn)), stored_over_time=_ro(s3),
        hebbian_stored_over_time=_ro(sh), stored=_ro(s3[-1]), hebbian_stored=_ro(sh[-1]), beta_equivalent=_ro(beta_eq),
        mapping_error=float(np.abs(Wn[-1] - W_eq.numpy()).max()), final_weights=_ro(Wn[-1]),
        hebbian_final_weights=_ro(Hn[-1]), trace_decay=lam, delay=delay, interval=interval,
    )


# ============================================================================== 2. Oja's rule
@dataclass(frozen=True)
class OjaResult:
    """Oja's rule vs plain Hebbian growth on inputs with a clear principal component (see ``oja_pca``)."""

    steps: np.ndarray  # (n_steps+1,) 0..n_steps; entry t is after t inputs
    norm_oja: np.ndarray  # (n_steps+1,) ‖w_t‖, Oja
    norm_hebbian: np.ndarray  # (n_steps+1,) ‖w_t‖, Hebbian (may be huge; inf if beyond float range)
    log10_norm_hebbian: np.ndarray  # (n_steps+1,) log10 ‖w_t‖, Hebbian, exact even where ‖w_t‖ overflows
    angle_oja: np.ndarray  # (n_steps+1,) degrees in [0, 90] between w_t and ±(top eigenvector)
    angle_hebbian: np.ndarray  # (n_steps+1,) the same for the Hebbian weights
    inputs: np.ndarray  # (n_steps, d) the inputs k_t ~ N(0, C)
    covariance: np.ndarray  # (d, d) C
    eigenvalues: np.ndarray  # (d,) of C, largest first
    top_eigenvector: np.ndarray  # (d,) unit, sign chosen so that its first non-zero entry is positive
    weights_oja: np.ndarray  # (n_steps+1, d) w_t, Oja
    initial_weights: np.ndarray  # (d,) w_0, the same for both rules
    learning_rate: float  # β


def oja_pca(
    eigenvalues: Sequence[float] = (3.0, 0.2),
    n_steps: int = 600,
    learning_rate: float = 0.005,
    init_norm: float = 0.3,
    seed: int = 0,
) -> OjaResult:
    r"""Oja's rule finds the top principal component with unit norm; plain Hebbian growth explodes.

    One linear neuron with weights w (a 1 × d fast weight) sees inputs
    :math:`k_t \sim \mathcal N(0, C)`, :math:`C = R\,\mathrm{diag}(\lambda)R^\top` with a random rotation R.
    Its output is its own read-out, :math:`v_t = w_{t-1} k_t`, and the registered ``oja`` rule writes

    .. math:: w_t = w_{t-1} + \beta\, v_t\,(k_t - w_{t-1}^\top v_t)^\top ,

    whose fixed points are ±(top eigenvector of C) with ‖w‖ = 1 (Oja 1982). The registered ``hebbian``
    rule with the same v_t, :math:`w_t = w_{t-1} + \beta v_t k_t^\top = w_{t-1}(I + \beta k_t k_t^\top)`,
    turns towards the same direction but its norm grows without bound. Both run through
    ``rule.step`` one input at a time (v_t depends on w_{t−1}). The Hebbian step is linear in w, so
    it is run on a rescaled copy and the scale is kept separately: ``log10_norm_hebbian`` stays exact
    even where the norm itself would overflow.

    Args: eigenvalues: 2–16 positive numbers whose largest is strictly larger than the rest;
    n_steps ∈ [1, 5000]; init_norm ‖w_0‖ ∈ (0, 2]; learning_rate β ∈ (0, 0.5] with
    β·Σλ·max(1, ‖w_0‖)² ≤ 0.2 (Σλ = E‖k‖²; larger steps make Oja's rule unstable); seed.
    """
    try:
        lam = np.asarray(eigenvalues, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"eigenvalues={eigenvalues!r} is not allowed; eigenvalues must be a sequence of positive numbers") from exc
    if lam.ndim != 1 or not 2 <= lam.size <= 16:
        raise ValueError(f"eigenvalues must be a flat sequence of 2 to 16 positive numbers, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"eigenvalues={tuple(lam.tolist())} is not allowed; every eigenvalue must be a finite number > 0")
    lam = np.sort(lam)[::-1]
    if lam[0] <= lam[1]:
        raise ValueError(
            f"eigenvalues={tuple(lam.tolist())} have no unique top component; the largest eigenvalue must be strictly "
            "larger than all the others"
        )
    n_steps = _int("n_steps", n_steps, 1, 5000)
    lr = _num("learning_rate", learning_rate, 0.0, 0.5, low_open=True)
    init_norm = _num("init_norm", init_norm, 0.0, 2.0, low_open=True)
    size = lam.sum() * max(1.0, init_norm) ** 2  # E‖k‖²·max(1, ‖w_0‖)²: what one step is multiplied by
    if lr * size > 0.2 * (1 + 1e-12):
        raise ValueError(
            f"learning_rate={lr:g} is too large for these inputs; Oja's rule is stable only for small steps, so "
            f"learning_rate·(sum of eigenvalues)·max(1, init_norm)² must be at most 0.2, i.e. learning_rate ≤ "
            f"{0.2 / size:.4g}"
        )
    seed = _seed(seed)

    d = lam.size
    rng = np.random.default_rng(seed)
    R = _orthonormal(rng, d, d).T  # (d, d) columns = eigenvectors
    C = (R * lam) @ R.T
    u = R[:, 0] * np.sign(R[np.flatnonzero(np.abs(R[:, 0]) > 1e-12)[0], 0])
    x = rng.standard_normal((n_steps, d)) * np.sqrt(lam) @ R.T  # (n, d) ~ N(0, C)
    w0 = rng.standard_normal(d)
    w0 *= init_norm / np.linalg.norm(w0)

    oja, hebb = make_rule("oja"), make_rule("hebbian")
    xs = torch.as_tensor(x, dtype=_DT)
    s_oja = {"W": torch.as_tensor(w0, dtype=_DT)[None, :]}  # (1, d)
    s_heb = {"W": s_oja["W"].clone()}
    W_oja = [s_oja["W"][0]]
    W_heb = [s_heb["W"][0]]
    log_scale = [0.0]  # w_hebbian,t = 10**log_scale[t] · W_heb[t]
    for t in range(n_steps):
        k_t = xs[t]
        s_oja, _ = oja.step(s_oja, k_t, k_t, s_oja["W"] @ k_t, beta=lr)
        s_heb, _ = hebb.step(s_heb, k_t, k_t, s_heb["W"] @ k_t, beta=lr)
        scale = log_scale[-1]
        nrm = float(torch.linalg.vector_norm(s_heb["W"]))
        if nrm > 1e6:  # the Hebbian step is linear in w: rescaling changes nothing but the bookkeeping
            s_heb = {"W": s_heb["W"] / nrm}
            scale += math.log10(nrm)
        W_oja.append(s_oja["W"][0])
        W_heb.append(s_heb["W"][0])
        log_scale.append(scale)
    Wo = torch.stack(W_oja).numpy()  # (n+1, d)
    Wh = torch.stack(W_heb).numpy()

    def angle(W: np.ndarray) -> np.ndarray:
        cos = np.abs(W @ u) / np.linalg.norm(W, axis=1)
        return np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))

    log_h = np.log10(np.linalg.norm(Wh, axis=1)) + np.asarray(log_scale)
    with np.errstate(over="ignore"):
        norm_h = np.power(10.0, log_h)
    return OjaResult(
        steps=_ro(np.arange(n_steps + 1)), norm_oja=_ro(np.linalg.norm(Wo, axis=1)), norm_hebbian=_ro(norm_h),
        log10_norm_hebbian=_ro(log_h), angle_oja=_ro(angle(Wo)), angle_hebbian=_ro(angle(Wh)), inputs=_ro(x),
        covariance=_ro(C), eigenvalues=_ro(lam), top_eigenvector=_ro(u), weights_oja=_ro(Wo), initial_weights=_ro(w0),
        learning_rate=lr,
    )


# ================================================================= 3. short-term plasticity
@dataclass(frozen=True)
class STPResult:
    """A Tsodyks–Markram synapse beside two fast-weight rules holding one item (see ``short_term_plasticity``)."""

    time: np.ndarray  # (n,) seconds, 0..duration in steps of dt
    spikes: np.ndarray  # (n,) bool, a presynaptic spike in this time bin
    spike_times: np.ndarray  # (n_spikes,) seconds
    u: np.ndarray  # (n,) facilitation: release probability, baseline U
    x: np.ndarray  # (n,) depression: fraction of resources available, baseline 1
    efficacy: np.ndarray  # (n,) u·x, baseline U
    baseline: float  # U, the efficacy of a rested synapse
    last_spike: float  # seconds
    tau_f: float  # s
    tau_d: float  # s
    decay_strength: np.ndarray  # (n,) vᵀ W_t k, ``decay`` rule with γ = exp(−dt/τ_F), a write of β = U per spike
    gated_strength: np.ndarray  # (n,) vᵀ W_t k, ``gated`` rule: α_t = 1 (hold) until clear_time, then 0
    decay_gamma: float  # γ per time step
    gate: np.ndarray  # (n,) α_t of the gated rule
    clear_time: float | None  # s, when the gated rule's programmer clears the memory (None: never)


def short_term_plasticity(
    U: float = 0.2,
    tau_f: float = 1.5,
    tau_d: float = 0.2,
    rate: float = 20.0,
    stim_start: float = 0.5,
    stim_stop: float = 1.0,
    duration: float = 8.0,
    dt: float = 0.01,
    poisson: bool = False,
    clear_time: float | None = 6.0,
    seed: int = 0,
) -> STPResult:
    r"""Short-term facilitation holds an item without activity, like a decaying fast weight.

    The Tsodyks–Markram synapse (as in Mongillo, Barak & Tsodyks 2008) has a release probability u
    (facilitation) and a fraction of available resources x (depression):

    .. math::
        \frac{du}{dt} = \frac{U - u}{\tau_F} + U(1 - u)\sum_s \delta(t - t_s), \qquad
        \frac{dx}{dt} = \frac{1 - x}{\tau_D} - u^+ x \sum_s \delta(t - t_s),

    where u⁺ is u just after the spike's increment; the efficacy is u·x (U at rest). Between spikes u
    and x relax exactly (exponentials over each bin of width dt). Presynaptic spikes arrive at ``rate``
    Hz (regular, or Poisson with ``poisson=True``) from ``stim_start`` to ``stim_stop``. After the last
    spike x recovers within a few τ_D while u decays over τ_F ≫ τ_D: the efficacy stays raised for
    about τ_F with no spikes at all — an activity-silent memory of the burst.

    Beside it, one item (unit key k, unit value v) is written at each spike with β = U by two
    registered rules, and ``vᵀ W_t k`` measures how strongly it is held:

    * ``decay``: :math:`W_t = \gamma W_{t-1} + \beta_t v k^\top` with γ = exp(−dt/τ_F) — forgets on the
      facilitation time scale, whatever happens;
    * ``gated``: :math:`W_t = \alpha_t W_{t-1} + \beta_t v k^\top` with α_t = 1 until ``clear_time``
      and 0 there — the programmer decides when to forget.

    Args: U ∈ (0, 1]; tau_f, tau_d ∈ (0, 100] s; rate ∈ (0, 1/dt] Hz; 0 ≤ stim_start < stim_stop ≤
    duration ≤ 60 s; dt ∈ [1e-4, 0.05] s with duration/dt ≤ 20000 bins; clear_time in (stim_stop,
    duration] or None; seed (Poisson spikes only).
    """
    U = _num("U", U, 0.0, 1.0, low_open=True)
    tau_f = _num("tau_f", tau_f, 0.0, 100.0, low_open=True)
    tau_d = _num("tau_d", tau_d, 0.0, 100.0, low_open=True)
    dt = _num("dt", dt, 1e-4, 0.05)
    duration = _num("duration", duration, 0.0, 60.0, low_open=True)
    if duration / dt > 20000:
        raise ValueError(f"duration/dt = {duration / dt:.0f} bins is too many; at most 20000 bins are allowed (raise dt)")
    rate = _num("rate", rate, 0.0, 1.0 / dt, low_open=True)
    stim_start = _num("stim_start", stim_start, 0.0, duration)
    stim_stop = _num("stim_stop", stim_stop, 0.0, duration)
    if stim_stop <= stim_start:
        raise ValueError(f"stim_stop={stim_stop} must be later than stim_start={stim_start} (both in [0, duration])")
    if not isinstance(poisson, (bool, np.bool_)):
        raise ValueError(f"poisson={poisson!r} is not allowed; poisson must be True or False")
    if clear_time is not None:
        clear_time = _num("clear_time", clear_time, stim_stop, duration, low_open=True)
    seed = _seed(seed)

    n = int(round(duration / dt)) + 1
    time = np.arange(n) * dt
    if poisson:
        rng = np.random.default_rng(seed)
        spikes = (rng.random(n) < rate * dt) & (time >= stim_start) & (time < stim_stop)
    else:
        period = 1.0 / rate
        times = stim_start + period * np.arange(int(math.ceil((stim_stop - stim_start) / period - 1e-9)))
        spikes = np.zeros(n, dtype=bool)
        spikes[np.clip(np.round(times / dt).astype(int), 0, n - 1)] = True
    if not spikes.any():
        raise ValueError("the stimulus produced no spike; raise rate or widen [stim_start, stim_stop)")

    ef, ed = math.exp(-dt / tau_f), math.exp(-dt / tau_d)
    u = np.empty(n)
    x = np.empty(n)
    uu, xx = U, 1.0
    for i in range(n):
        if i:
            uu = U + (uu - U) * ef  # exact relaxation over one bin
            xx = 1.0 + (xx - 1.0) * ed
        if spikes[i]:
            uu = uu + U * (1.0 - uu)  # facilitation jump, then release with the new u
            xx = xx - uu * xx
        u[i], x[i] = uu, xx

    key = torch.zeros(n, 1, dtype=_DT) + 1.0  # (n, 1): one unit key ...
    val = torch.ones(n, 1, dtype=_DT)  # ... and one unit value
    beta = torch.as_tensor(spikes * U, dtype=_DT)  # (n,) write at each spike
    gamma = ef
    dec = make_rule("decay").run(key, key, val, beta=beta, gate=gamma).weights[1:, 0, 0]  # (n,)
    gate = np.ones(n)
    if clear_time is not None:
        gate[int(round(clear_time / dt)):int(round(clear_time / dt)) + 1] = 0.0
    gat = make_rule("gated").run(key, key, val, beta=beta, gate=torch.as_tensor(gate, dtype=_DT)).weights[1:, 0, 0]
    st = time[spikes]
    return STPResult(
        time=_ro(time), spikes=_ro(spikes), spike_times=_ro(st), u=_ro(u), x=_ro(x), efficacy=_ro(u * x), baseline=U,
        last_spike=float(st[-1]), tau_f=tau_f, tau_d=tau_d, decay_strength=_ro(dec), gated_strength=_ro(gat),
        decay_gamma=gamma, gate=_ro(gate), clear_time=clear_time,
    )


# ============================================================================ 4. BTSP place field
@dataclass(frozen=True)
class BTSPResult:
    """One-lap place-field formation by BTSP, beside Hebbian and delta-rule writes (see ``btsp_place_field``).

    A *field* is the cell's input-weighted response along the track,
    field(x) = Σ_i w_i r_i(x) / Σ_i r_i(x), in units of w_max.
    """

    positions: np.ndarray  # (n_pos,) cm, where fields are read out
    input_centres: np.ndarray  # (N,) cm, centres of the Gaussian place inputs
    time: np.ndarray  # (n_t,) s since the lap started (the lap, then a few seconds after it)
    animal_position: np.ndarray  # (n_t,) cm; NaN once the lap is over (inputs silent)
    plateau: np.ndarray  # (n_t,) 1 during the plateau potential, else 0
    eligibility: np.ndarray  # (n_t, N) ET_i(t), the synaptic eligibility traces
    instructive: np.ndarray  # (n_t,) IS(t), the plateau's instructive signal
    signal: np.ndarray  # (N,) s_i = ∫ET_i IS dt / max_j(...) ∈ [0, 1]
    window_lag: np.ndarray  # (N,) s, when input i's centre is passed minus the plateau onset
    dw_from_zero: np.ndarray  # (N,) Δw_i of a synapse that starts at 0: potentiation only
    dw_from_max: np.ndarray  # (N,) Δw_i of a synapse that starts at w_max: depression only
    weights_before: np.ndarray  # (N,) w before the lap (zero, or a field from a first plateau)
    weights_btsp: np.ndarray  # (N,) w after one lap with the plateau
    field_before: np.ndarray  # (n_pos,)
    field_btsp: np.ndarray  # (n_pos,) after one lap
    peak_position_btsp: float  # cm, argmax of field_btsp
    hebbian_weights: np.ndarray  # (n_laps+1, N) after 0..n_laps laps of the Hebbian rule
    hebbian_fields: np.ndarray  # (n_laps+1, n_pos)
    hebbian_laps_to_match: int | None  # first lap whose Hebbian field gain reaches BTSP's one-lap gain
    delta_weights: np.ndarray  # (N,) after one delta-rule write
    field_delta: np.ndarray  # (n_pos,)
    delta_error_before: float  # |v − w·k| before the delta write
    delta_error_after: float  # |v − w·k| after it (0 up to rounding: one-shot)
    plateau_position: float  # cm
    plateau_time: float  # s
    lap_duration: float  # s
    speed: float  # cm/s
    w_max: float


def _unit_sigmoid(s: np.ndarray, threshold: float, width: float) -> np.ndarray:
    """A logistic step in s ∈ [0, 1], rescaled so that it is exactly 0 at s = 0 and 1 at s = 1."""
    f = lambda z: 1.0 / (1.0 + np.exp(-(z - threshold) / width))  # noqa: E731
    return (f(s) - f(0.0)) / (f(1.0) - f(0.0))


def btsp_place_field(
    track_length: float = 180.0,
    n_inputs: int = 90,
    place_width: float = 10.0,
    speed: float = 20.0,
    plateau_position: float = 100.0,
    plateau_duration: float = 0.3,
    tau_eligibility: float = 1.66,
    tau_instructive: float = 0.44,
    rate_threshold: float = 0.1,
    potentiation_threshold: float = 0.5,
    w_max: float = 1.0,
    hebbian_rate: float = 0.3,
    n_laps: int = 20,
    prior_field_position: float | None = None,
    dt: float = 0.05,
) -> BTSPResult:
    r"""One plateau potential writes a place field in one lap (behavioural-timescale plasticity).

    The animal runs along a linear track at ``speed``; N Gaussian place inputs
    :math:`r_i(x) = \exp(-(x - c_i)^2 / 2\sigma^2)` tile it. When it reaches ``plateau_position`` the
    cell fires a plateau potential P(t) lasting ``plateau_duration``. Following Bittner et al. (2017)
    and Milstein et al. (2021), each synapse keeps a slow eligibility trace of its input and the
    plateau leaves a shorter instructive signal,

    .. math::
        \tau_E \dot{ET}_i = r_i(x(t)) - ET_i, \qquad \tau_I \dot{IS} = P(t) - IS, \qquad
        s_i = \frac{\int ET_i\, IS\, dt}{\max_j \int ET_j\, IS\, dt} \in [0, 1].

    Because τ_E > τ_I the window is seconds wide and asymmetric: inputs active up to a few seconds
    *before* the plateau gain more than those after it. The weight change is weight-dependent and
    bidirectional, written here in delta form (a simplification of Milstein et al.'s model):

    .. math:: \Delta w_i = \eta(s_i)\,\big(w_{\max}\, p(s_i) - w_i\big),

    with η (how plastic the synapse is) and p (how high its target is) rescaled logistic steps of s
    at ``rate_threshold`` and ``potentiation_threshold``. A silent synapse near the plateau jumps to
    its target in one lap; a strong synapse seconds away is depressed; one at its target stays.
    The step applies once, at the end of the lap.

    Compared with:

    * the registered ``hebbian`` rule, keys r(x_t), value P(t), β = ``hebbian_rate``·dt: it only
      pairs inputs active *during* the plateau, a little per lap, so it needs many laps and makes a
      narrow, symmetric field (run lap by lap for ``n_laps`` laps; steps without a plateau write
      nothing, so only the plateau's steps are fed to the rule);
    * one write of the registered ``delta`` rule with key k = s/‖s‖ (the eligibility pattern the
      plateau meets) and value v = w_max‖s‖: :math:`w \leftarrow w + (v - w k)k^\top` makes w·k = v
      exactly in one shot, correcting by the *neuron's* error v − w·k where BTSP uses each synapse's
      own weight.

    ``prior_field_position`` (cm, or None) first forms a field there by the same BTSP step, so the
    second plateau shows bidirectional plasticity: the old field is depressed if it lies within a few
    seconds of the new plateau.

    Args: track_length ∈ [20, 1000] cm; n_inputs ∈ [4, 400]; place_width ∈ (0, track_length] cm;
    speed ∈ (0, 200] cm/s; plateau_position and prior_field_position in [0, track_length];
    plateau_duration ∈ [dt, 2] s; tau_eligibility, tau_instructive ∈ (0, 10] s; thresholds in (0, 1);
    w_max > 0; hebbian_rate ≥ 0; n_laps ∈ [1, 200]; dt ∈ [0.005, 0.2] s.
    """
    L = _num("track_length", track_length, 20.0, 1000.0)
    N = _int("n_inputs", n_inputs, 4, 400)
    sigma = _num("place_width", place_width, 0.0, L, low_open=True)
    speed = _num("speed", speed, 0.0, 200.0, low_open=True)
    dt = _num("dt", dt, 0.005, 0.2)
    p0 = _num("plateau_position", plateau_position, 0.0, L)
    dur = _num("plateau_duration", plateau_duration, dt, 2.0)
    tau_e = _num("tau_eligibility", tau_eligibility, 0.0, 10.0, low_open=True)
    tau_i = _num("tau_instructive", tau_instructive, 0.0, 10.0, low_open=True)
    th_rate = _num("rate_threshold", rate_threshold, 0.0, 1.0, low_open=True, high_open=True)
    th_pot = _num("potentiation_threshold", potentiation_threshold, 0.0, 1.0, low_open=True, high_open=True)
    w_max = _num("w_max", w_max, 0.0, 1e3, low_open=True)
    eta_h = _num("hebbian_rate", hebbian_rate, 0.0, 1e3)
    n_laps = _int("n_laps", n_laps, 1, 200)
    prior = None if prior_field_position is None else _num("prior_field_position", prior_field_position, 0.0, L)
    lap = L / speed
    if lap / dt > 4000:
        raise ValueError(f"a lap of {lap:g} s at dt={dt:g} s is {lap / dt:.0f} steps; at most 4000 are allowed (raise speed or dt)")

    centres = np.linspace(0.0, L, N)  # (N,)
    positions = np.linspace(0.0, L, 181)  # (n_pos,)
    tail = 3.0 * max(tau_e, tau_i) + dur  # keep integrating after the lap so late plateaus count fully
    time = np.arange(int(round((lap + tail) / dt)) + 1) * dt  # (n_t,)
    on_track = time <= lap + 1e-9
    x = np.where(on_track, speed * time, np.nan)  # (n_t,)
    inputs = np.where(on_track[:, None], np.exp(-((np.nan_to_num(x)[:, None] - centres) ** 2) / (2 * sigma**2)), 0.0)

    def place(pos: np.ndarray) -> np.ndarray:  # (n_pos,) -> (n_pos, N)
        return np.exp(-((pos[:, None] - centres) ** 2) / (2 * sigma**2))

    R = place(positions)  # (n_pos, N)

    def field(w: np.ndarray) -> np.ndarray:  # (..., N) -> (..., n_pos)
        return (w @ R.T) / R.sum(axis=1)

    ae, ai = math.exp(-dt / tau_e), math.exp(-dt / tau_i)

    def lap_signal(p_pos: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
        t_p = p_pos / speed
        P = ((time >= t_p - 1e-9) & (time < t_p + dur - 1e-9)).astype(float)  # (n_t,)
        ET = np.empty_like(inputs)
        IS = np.empty_like(P)
        e, i = np.zeros(N), 0.0
        for t in range(time.size):
            e = ae * e + (1.0 - ae) * inputs[t]
            i = ai * i + (1.0 - ai) * P[t]
            ET[t], IS[t] = e, i
        overlap = (ET * IS[:, None]).sum(axis=0) * dt  # (N,)
        return P, ET, IS, overlap / overlap.max(), t_p

    def btsp(w: np.ndarray, s: np.ndarray) -> np.ndarray:
        return w + _unit_sigmoid(s, th_rate, 0.05) * (w_max * _unit_sigmoid(s, th_pot, 0.1) - w)

    w_before = np.zeros(N) if prior is None else btsp(np.zeros(N), lap_signal(prior)[3])
    P, ET, IS, s, t_p = lap_signal(p0)
    w_btsp = btsp(w_before, s)

    # Hebbian: the registered rule, lap after lap, keys = place inputs, value = the plateau
    # (a step whose value P(t) is 0 writes nothing, so only the plateau's steps are fed to the rule)
    hebb = make_rule("hebbian")
    during = P > 0
    keys = torch.as_tensor(inputs[during], dtype=_DT)  # (n_plateau, N)
    post = torch.as_tensor(P[during][:, None], dtype=_DT)  # (n_plateau, 1)
    W = torch.as_tensor(w_before[None, :], dtype=_DT)  # (1, N)
    hw = [W[0]]
    for _ in range(n_laps):
        W = hebb.run(keys, keys, post, beta=eta_h * dt, initial_state=W).weights[-1]
        hw.append(W[0])
    hw_np = torch.stack(hw).numpy()  # (n_laps+1, N)
    f_before, f_btsp, f_hebb = field(w_before), field(w_btsp), field(hw_np)
    gain_btsp = float((f_btsp - f_before).max())
    gains = (f_hebb - f_before).max(axis=1)
    reached = np.flatnonzero(gains >= gain_btsp - 1e-12)
    laps_to_match = int(reached[0]) if reached.size and reached[0] > 0 else None

    # delta rule: one error-correcting write of the eligibility pattern the plateau meets
    k = torch.as_tensor(s / np.linalg.norm(s), dtype=_DT)[None, :]  # (1, N) unit key
    v = torch.tensor([[w_max * float(np.linalg.norm(s))]], dtype=_DT)  # (1, 1)
    tr = make_rule("delta", normalize="none").run(k, k, v, beta=1.0, initial_state=torch.as_tensor(w_before[None, :], dtype=_DT))
    w_delta = tr.weights[-1, 0].numpy()
    return BTSPResult(
        positions=_ro(positions), input_centres=_ro(centres), time=_ro(time), animal_position=_ro(x), plateau=_ro(P),
        eligibility=_ro(ET), instructive=_ro(IS), signal=_ro(s), window_lag=_ro(centres / speed - t_p),
        dw_from_zero=_ro(btsp(np.zeros(N), s)), dw_from_max=_ro(btsp(np.full(N, w_max), s) - w_max),
        weights_before=_ro(w_before), weights_btsp=_ro(w_btsp), field_before=_ro(f_before), field_btsp=_ro(f_btsp),
        peak_position_btsp=float(positions[np.argmax(f_btsp)]), hebbian_weights=_ro(hw_np), hebbian_fields=_ro(f_hebb),
        hebbian_laps_to_match=laps_to_match, delta_weights=_ro(w_delta), field_delta=_ro(field(w_delta)),
        delta_error_before=float(tr.retrieval_error[0]), delta_error_after=float((v - tr.outputs[0]).abs().max()),
        plateau_position=p0, plateau_time=t_p, lap_duration=lap, speed=speed, w_max=w_max,
    )


# ============================================================ 5. key–value memory and forgetting
_KV_RULES: tuple[str, ...] = ("hebbian", "delta")
_KV_QUERIES: tuple[str, ...] = ("degraded", "original", "specific")


@dataclass(frozen=True)
class KVRetrievalResult:
    """Two memories with similar keys: what different cues recall (see ``kv_retrieval``).

    Memory 1 (the *target*, stored first) and memory 2 (the *interferer*, stored second).
    """

    rule: str
    similarity: float  # k1·k2 (unit keys)
    keys: np.ndarray  # (2, d_k) k1, k2
    values: np.ndarray  # (2, d_v) v1, v2 (orthonormal)
    weights: np.ndarray  # (d_v, d_k) W after storing both pairs
    query_names: tuple[str, ...]  # ("degraded", "original", "specific")
    queries: np.ndarray  # (3, d_k) unit cues
    retrieved: np.ndarray  # (3, d_v) W q
    cos_target: np.ndarray  # (3,) cos(W q, v1)
    cos_interferer: np.ndarray  # (3,) cos(W q, v2)
    recalled: tuple[str, ...]  # per cue: "target", "interferer" or "mixed" (cos ≥ 0.9 decides)
    specificity: np.ndarray  # (n_sweep,) s ∈ [−1, 1]: the cue q(s) ∝ k1 − s·c·k2
    sweep_cos_target: np.ndarray  # (n_sweep,) cos(W q(s), v1)
    sweep_cos_interferer: np.ndarray  # (n_sweep,) cos(W q(s), v2)
    sweep_strength: np.ndarray  # (n_sweep,) ‖W q(s)‖


def kv_retrieval(
    similarity: float = 0.9,
    d_k: int = 16,
    d_v: int = 16,
    rule: str = "delta",
    n_sweep: int = 41,
    seed: int = 0,
) -> KVRetrievalResult:
    r"""Forgetting as retrieval failure: a memory that a poor cue cannot reach is still in W.

    Two pairs (k1, v1) then (k2, v2) are written by the registered ``rule`` (``delta`` or
    ``hebbian``, identity features, no normalisation). The keys are unit vectors with k1·k2 = c
    (``similarity``); the values are orthonormal. Reading with a cue q gives W q.

    * Hebbian: :math:`W = v_1k_1^\top + v_2k_2^\top`, so :math:`W k_1 = v_1 + c\,v_2` — a blend.
    * Delta: the second write corrects what the memory said for k2,
      :math:`W = v_1k_1^\top + (v_2 - c\,v_1)k_2^\top`, so :math:`W k_1 = (1 - c^2)v_1 + c\,v_2` —
      mostly the *wrong* value, although v1 was never erased.

    Cues :math:`q(s) \propto k_1 - s\,c\,k_2` for specificity s ∈ [−1, 1]: s = −1 is the
    ``degraded`` cue k1 + c k2, dominated by what the two keys share; s = 0 is the ``original`` key
    k1; s = 1 is the ``specific`` cue k1 − c k2, the part of k1 that k2 lacks (orthogonal to k2).
    For both rules :math:`W(k_1 - c k_2) = (1 - c^2) v_1`: the specific cue recovers v1 exactly
    (weaker, by √(1 − c²) for a unit cue, but pure). Keys matter for discrimination, values for
    fidelity (Gershman, Fiete & Irie 2025).

    Args: similarity c ∈ [0, 1) (c = 1 makes the keys identical and v1 unreachable); d_k ∈ [2, 512];
    d_v ∈ [2, 512]; rule ∈ {hebbian, delta}; n_sweep ∈ [3, 1001]; seed.
    """
    c = _num("similarity", similarity, 0.0, 1.0, high_open=True)
    d_k = _int("d_k", d_k, 2, 512)
    d_v = _int("d_v", d_v, 2, 512)
    if not isinstance(rule, str) or rule not in _KV_RULES:
        raise ValueError(f"rule={rule!r} is not allowed; rule must be one of {', '.join(_KV_RULES)}")
    n_sweep = _int("n_sweep", n_sweep, 3, 1001)
    seed = _seed(seed)

    rng = np.random.default_rng(seed)
    e = _orthonormal(rng, d_k, 2)  # (2, d_k)
    keys = np.stack([e[0], c * e[0] + math.sqrt(1.0 - c * c) * e[1]])  # (2, d_k) unit, k1·k2 = c
    values = _orthonormal(rng, d_v, 2)  # (2, d_v)
    K, V = torch.as_tensor(keys, dtype=_DT), torch.as_tensor(values, dtype=_DT)
    W = make_rule(rule, normalize="none").run(K, K, V).weights[-1].numpy()  # (d_v, d_k)

    s = np.linspace(-1.0, 1.0, n_sweep)  # (n_sweep,)
    cues = np.concatenate([np.array([-1.0, 0.0, 1.0]), s])  # the three named cues, then the sweep
    Q = keys[0][None, :] - cues[:, None] * c * keys[1][None, :]  # (3 + n_sweep, d_k)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    Y = Q @ W.T  # (3 + n_sweep, d_v) W q
    strength = np.linalg.norm(Y, axis=1)
    cos = (Y @ values.T) / np.where(strength > 0, strength, 1.0)[:, None]  # (3 + n_sweep, 2)

    def label(ct: float, ci: float) -> str:
        return "target" if ct >= 0.9 else "interferer" if ci >= 0.9 else "mixed"

    return KVRetrievalResult(
        rule=rule, similarity=c, keys=_ro(keys), values=_ro(values), weights=_ro(W), query_names=_KV_QUERIES,
        queries=_ro(Q[:3]), retrieved=_ro(Y[:3]), cos_target=_ro(cos[:3, 0]), cos_interferer=_ro(cos[:3, 1]),
        recalled=tuple(label(cos[i, 0], cos[i, 1]) for i in range(3)), specificity=_ro(s),
        sweep_cos_target=_ro(cos[3:, 0]), sweep_cos_interferer=_ro(cos[3:, 1]), sweep_strength=_ro(strength[3:]),
    )


# ===================================================================== 6. the mapping table
STATUSES: tuple[tuple[str, str], ...] = (
    ("established", "The biological process is shown by experiments and does the job described; treating it as "
                    "this FWP quantity is a simplification, not a discovery."),
    ("hypothesis", "A proposed correspondence: plausible and useful for thinking, but not yet tested directly."),
)


@dataclass(frozen=True)
class BioLink:
    """One row of the mapping table: an FWP quantity beside its proposed biological counterpart."""

    quantity: str  # the FWP quantity, in words
    symbol: str  # its symbol in the equations (plain text)
    counterpart: str  # the proposed biological counterpart
    status: str  # "established" or "hypothesis" (see STATUSES)
    explanation: str  # why the link is drawn, and where it is weak
    simulation: str | None  # the function in fwp_core.biology that shows it, if any
    references: tuple[str, ...]


@dataclass(frozen=True)
class OpenQuestion:
    """A question the FWP–biology mapping raises but does not answer."""

    question: str
    why_it_matters: str
    candidate_answers: str


@dataclass(frozen=True)
class BiologyMap:
    """The mapping table and the open questions, as data a page can lay out."""

    links: tuple[BioLink, ...]
    open_questions: tuple[OpenQuestion, ...]
    statuses: tuple[tuple[str, str], ...]  # (status, what it means)
    source: str  # the primer the table follows


_PRIMER = ("Irie & Gershman (2025), Fast weight programming and linear transformers: from machine learning to "
           "neurobiology, arXiv:2508.08435")

_LINKS: tuple[BioLink, ...] = (
    BioLink(
        "fast weight", "W_t",
        "The strengths of a set of synapses onto a neuron, changing within seconds to minutes "
        "(short-term plasticity, early long-term potentiation, behavioural-timescale plasticity).",
        "established",
        "Synapses do change on these time scales, and the changes outlast the activity that caused them. "
        "Treating a whole population of synapses as one matrix that the rest of the network writes to is the "
        "modelling step.",
        None, (_PRIMER, "von der Malsburg (1981), The correlation theory of brain function",
               "Schmidhuber (1992), Learning to control fast-weight memories"),
    ),
    BioLink(
        "write (outer product)", "β_t v_t k_tᵀ",
        "Hebbian plasticity: a synapse strengthens when its presynaptic input and the postsynaptic cell are "
        "active together.",
        "established",
        "Coincidence-driven potentiation is among the best-studied facts about synapses. The outer product is "
        "its rate-based idealisation: every synapse changes by (post activity) × (pre activity).",
        "three_factor", ("Hebb (1949), The Organization of Behavior",
                         "Bliss & Lømo (1973), Long-lasting potentiation of synaptic transmission"),
    ),
    BioLink(
        "write strength", "β_t",
        "A third factor: a neuromodulator (dopamine, acetylcholine, noradrenaline) or a dendritic plateau "
        "potential that decides whether, and how strongly, a tagged coincidence becomes a weight change.",
        "established",
        "Three-factor plasticity is shown experimentally: coincidences leave an eligibility trace lasting "
        "seconds, and dopamine arriving within that time converts it into potentiation. The rule "
        "E_t = λE_{t−1} + v_t k_tᵀ, W_t = W_{t−1} + M_t E_t equals an FWP whose programmer emits "
        "β_s = Σ_{t≥s} λ^{t−s} M_t. That a learned programmer sets β token by token is the hypothesis part.",
        "three_factor", ("Frémaux & Gerstner (2016), Neuromodulated spike-timing-dependent plasticity, and theory of "
                         "three-factor learning rules",
                         "Yagishita et al. (2014), A critical time window for dopamine actions on the structural "
                         "plasticity of dendritic spines", _PRIMER),
    ),
    BioLink(
        "eligibility trace", "E_t",
        "A molecular tag at a synapse that remembers a recent coincidence for seconds (in some synapses minutes).",
        "established",
        "Eligibility traces lasting from about a second to minutes have been measured in striatum, cortex and "
        "hippocampus. "
        "Mathematically a trace is itself a decaying fast weight (the decay rule with γ = λ).",
        "three_factor", ("Gerstner et al. (2018), Eligibility traces and plasticity on behavioral time scales",),
    ),
    BioLink(
        "constant decay", "γ",
        "Passive decay of short-term synaptic changes: facilitation fades with a time constant τ_F of about a "
        "second, so a memory held in it fades too.",
        "established",
        "Short-term facilitation and depression are textbook synaptic properties. The Tsodyks–Markram model "
        "shows that facilitation can hold an item for about τ_F without any spiking (activity-silent working "
        "memory); that working memory actually relies on it is still debated.",
        "short_term_plasticity", ("Tsodyks & Markram (1997), The neural code between neocortical pyramidal neurons "
                                  "depends on neurotransmitter release probability",
                                  "Mongillo, Barak & Tsodyks (2008), Synaptic theory of working memory",
                                  "Stokes (2015), 'Activity-silent' working memory in prefrontal cortex"),
    ),
    BioLink(
        "forget gate", "α_t",
        "Controlled forgetting: signals that actively reverse recent synaptic changes when the context "
        "changes, rather than letting them fade on a fixed clock.",
        "hypothesis",
        "Active forgetting mechanisms exist (for example in flies, where dopamine-driven signalling erases "
        "recent memories), but no one has shown a gate that a circuit sets moment by moment, as a gated FWP "
        "does.",
        "short_term_plasticity", ("Davis & Zhong (2017), The biology of forgetting — a perspective", _PRIMER),
    ),
    BioLink(
        "key", "k_t = φ(W_k x_t)",
        "The presynaptic activity pattern at the plastic synapses when a memory is stored, for example the "
        "inputs to hippocampal CA1.",
        "established",
        "The key is simply the presynaptic factor of a Hebbian write, so this part is direct. Which neurons "
        "supply keys, and how those patterns are chosen, is open (see the key–value row).",
        "kv_retrieval", (_PRIMER,),
    ),
    BioLink(
        "value", "v_t = W_v x_t",
        "The postsynaptic activity to be stored, often imposed by a teaching input such as the entorhinal "
        "input that triggers a plateau potential in CA1.",
        "established",
        "The value is the postsynaptic factor of the write. In BTSP the plateau, driven by a separate input "
        "pathway, decides what is written, much as a programmer supplies v_t.",
        "btsp_place_field", ("Bittner et al. (2017), Behavioral time scale synaptic plasticity underlies CA1 place "
                             "fields",),
    ),
    BioLink(
        "query and read-out", "y_t = W_t q_t",
        "A retrieval cue arriving through the same synapses: reading a memory is ordinary synaptic "
        "transmission, the postsynaptic cell summing its inputs weighted by synaptic strength.",
        "established",
        "Weighted summation is how synapses act on a cell. What the brain uses as a separate query (how a cue "
        "is formed at recall) is less clear; a poor cue can fail to reach a memory that is still stored.",
        "kv_retrieval", (_PRIMER,),
    ),
    BioLink(
        "keys for discrimination, values for fidelity", "k vs v",
        "Key–value memory in the brain: one representation specialised for telling memories apart (e.g. "
        "sparse, pattern-separated hippocampal codes) and another for storing their content faithfully (e.g. "
        "neocortex). Forgetting is then often a failure to retrieve, not a loss of storage.",
        "hypothesis",
        "Fits memory-index theory and the many cases where 'lost' memories return with the right cue, but "
        "the split into separate key and value codes has not been shown directly.",
        "kv_retrieval", ("Gershman, Fiete & Irie (2025), Key-value memory in the brain",
                         "Teyler & DiScenna (1986), The hippocampal memory indexing theory"),
    ),
    BioLink(
        "error-correcting (delta) write", "β_t (v_t − W_{t−1}k_t) k_tᵀ",
        "Behavioural-timescale synaptic plasticity (BTSP): one plateau potential writes a place field in a "
        "single trial, with a seconds-wide window; the change depends on the synapse's current weight and can "
        "go up or down.",
        "hypothesis",
        "BTSP is established, and like the delta rule it is one-shot, bounded and bidirectional. But its "
        "correction uses each synapse's own weight, while the delta rule uses the whole neuron's answer W k. "
        "The climbing-fibre error signal in the cerebellum is another candidate for error-driven writes.",
        "btsp_place_field", ("Bittner et al. (2017), Behavioral time scale synaptic plasticity underlies CA1 place "
                             "fields",
                             "Milstein et al. (2021), Bidirectional synaptic plasticity rapidly modifies hippocampal "
                             "spatial representations"),
    ),
    BioLink(
        "self-normalising Hebbian rule", "Oja",
        "Homeostatic mechanisms that keep total synaptic strength in range (synaptic scaling, heterosynaptic "
        "depression).",
        "hypothesis",
        "Plain Hebbian growth is unstable; Oja's rule adds a decay proportional to the squared output that "
        "keeps the weights at unit norm and turns the neuron into a principal-component detector. Real "
        "homeostasis is slower and its exact form is debated.",
        "oja_pca", ("Oja (1982), Simplified neuron model as a principal component analyzer",
                    "Turrigiano et al. (1998), Activity-dependent scaling of quantal amplitude in neocortical neurons"),
    ),
    BioLink(
        "programmer", "slow weights W_k, W_v, W_q, W_β",
        "Slowly learned circuits (cortex, entorhinal cortex, neuromodulatory nuclei) whose activity decides "
        "what is written, where and how strongly.",
        "hypothesis",
        "The split into a slow network that programs fast synapses matches the separation of learning time "
        "scales in the brain, but which circuits act as the programmer is not known.",
        None, (_PRIMER,),
    ),
    BioLink(
        "normaliser", "z_t, y_t = W_t q_t / (z_tᵀ q_t)",
        "Astrocytes, which contact many synapses and integrate their activity over time; or divisive "
        "normalisation by inhibitory interneurons.",
        "hypothesis",
        "A model shows that neuron–astrocyte networks could compute normalised (linear) attention. Divisive "
        "normalisation is common in cortex, but whether either plays this role is untested.",
        None, ("Kozachkov, Kastanenka & Krotov (2023), Building transformers from neurons and astrocytes",
               "Carandini & Heeger (2012), Normalization as a canonical neural computation"),
    ),
    BioLink(
        "feature map", "φ",
        "Expansion and sparsening of inputs before storage (dentate gyrus, cerebellar granule cells), which "
        "makes patterns more distinct.",
        "hypothesis",
        "Expansion recoding reduces overlap between stored patterns, as DPFP-like feature maps reduce "
        "crosstalk between keys. The correspondence is by analogy.",
        None, ("Marr (1969), A theory of cerebellar cortex", _PRIMER),
    ),
)

_OPEN: tuple[OpenQuestion, ...] = (
    OpenQuestion(
        "How could a synapse know the error term W k?",
        "The delta rule changes each synapse by (v − W k)·k: the difference between what the memory should "
        "say and what it says now. W k is the sum over all the neuron's synapses, so no single synapse sees "
        "it directly. Without it the write is Hebbian, and similar keys pile up as crosstalk.",
        "The postsynaptic voltage already is W k, so a rule that compares a teaching input (for example in "
        "the distal dendrite) with the voltage produced by the other inputs could supply it. BTSP's "
        "dependence on the synapse's own weight is a local stand-in. Whether either really computes "
        "v − W k is unknown.",
    ),
    OpenQuestion(
        "What would implement β > 1?",
        "With a unit key the delta step multiplies the memory along k by 1 − β. For β in (1, 2) that factor "
        "is negative: the write overshoots and flips the sign of that component, which is what lets delta-"
        "rule FWPs track parity and other state. A biological synapse would have to change by more than the "
        "error it is correcting.",
        "No known mechanism. A synapse cannot change sign (an excitatory synapse stays excitatory), so a "
        "flip would need paired excitatory and inhibitory pathways, or a strong neuromodulatory burst that "
        "over-corrects on purpose. This is an open prediction.",
    ),
    OpenQuestion(
        "How are keys and values learned biologically?",
        "In an FWP the slow weights that produce k, v and q are trained by gradient descent through many "
        "sequences, which is how the keys become distinct and the values useful. The brain has no obvious "
        "way to back-propagate errors through the fast-weight memory.",
        "Candidates: random expansion and sparse codes that make keys distinct without training (dentate "
        "gyrus); slow local learning rules; evolution and development shaping the circuits; consolidation "
        "that reuses replayed memories as training data.",
    ),
    OpenQuestion(
        "What, if anything, is the normaliser?",
        "Normalised linear attention divides the read-out by z_tᵀ q_t, a running sum of past keys. A "
        "biological counterpart needs a slow variable that integrates many synapses' activity and divides "
        "the cell's response by it.",
        "Astrocytes integrate synaptic activity over seconds and touch many synapses; inhibitory "
        "interneurons perform divisive normalisation. Neither has been shown to divide by an accumulated key "
        "sum.",
    ),
)


def biology_map() -> BiologyMap:
    """The FWP ↔ biology mapping table and the open questions, with what each status means.

    Each ``BioLink`` names an FWP quantity, its symbol, its proposed counterpart, a ``status``
    (``established`` or ``hypothesis``, explained in ``statuses``), an explanation, the simulation in
    this module that shows it (or None) and references. Follows the primer's neuroscience section
    (Irie & Gershman 2025).
    """
    return BiologyMap(links=_LINKS, open_questions=_OPEN, statuses=STATUSES, source=_PRIMER)


SIMULATIONS = (three_factor, oja_pca, short_term_plasticity, btsp_place_field, kv_retrieval)
"""Every simulation of the Biology page, each runnable with its defaults."""
