r"""Short-term plasticity (Tsodyks–Markram) beside the ``decay`` and ``gated`` fast-weight rules.

With facilitation slower than depression (τ_F ≫ τ_D) a burst leaves the synapse's efficacy raised for
about τ_F with no spikes at all: an activity-silent memory (Mongillo, Barak & Tsodyks 2008). A fast weight
with constant decay γ = exp(−dt/τ_F) forgets on the same clock; a gated one holds the item until its
programmer clears it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..registry import make_rule
from ._common import DT, num, ro, seed_of

__all__ = ["STPResult", "short_term_plasticity"]

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
    U = num("U", U, 0.0, 1.0, low_open=True)
    tau_f = num("tau_f", tau_f, 0.0, 100.0, low_open=True)
    tau_d = num("tau_d", tau_d, 0.0, 100.0, low_open=True)
    dt = num("dt", dt, 1e-4, 0.05)
    duration = num("duration", duration, 0.0, 60.0, low_open=True)
    if duration / dt > 20000:
        raise ValueError(f"duration/dt = {duration / dt:.0f} bins is too many; at most 20000 bins are allowed (raise dt)")
    rate = num("rate", rate, 0.0, 1.0 / dt, low_open=True)
    stim_start = num("stim_start", stim_start, 0.0, duration)
    stim_stop = num("stim_stop", stim_stop, 0.0, duration)
    if stim_stop <= stim_start:
        raise ValueError(f"stim_stop={stim_stop} must be later than stim_start={stim_start} (both in [0, duration])")
    if not isinstance(poisson, (bool, np.bool_)):
        raise ValueError(f"poisson={poisson!r} is not allowed; poisson must be True or False")
    if clear_time is not None:
        clear_time = num("clear_time", clear_time, stim_stop, duration, low_open=True)
    seed = seed_of(seed)

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

    key = torch.zeros(n, 1, dtype=DT) + 1.0  # (n, 1): one unit key ...
    val = torch.ones(n, 1, dtype=DT)  # ... and one unit value
    beta = torch.as_tensor(spikes * U, dtype=DT)  # (n,) write at each spike
    gamma = ef
    dec = make_rule("decay").run(key, key, val, beta=beta, gate=gamma).weights[1:, 0, 0]  # (n,)
    gate = np.ones(n)
    if clear_time is not None:
        gate[int(round(clear_time / dt)):int(round(clear_time / dt)) + 1] = 0.0
    gat = make_rule("gated").run(key, key, val, beta=beta, gate=torch.as_tensor(gate, dtype=DT)).weights[1:, 0, 0]
    st = time[spikes]
    return STPResult(
        time=ro(time), spikes=ro(spikes), spike_times=ro(st), u=ro(u), x=ro(x), efficacy=ro(u * x), baseline=U,
        last_spike=float(st[-1]), tau_f=tau_f, tau_d=tau_d, decay_strength=ro(dec), gated_strength=ro(gat),
        decay_gamma=gamma, gate=ro(gate), clear_time=clear_time,
    )
