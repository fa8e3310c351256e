r"""Behavioural-timescale synaptic plasticity (BTSP): one plateau potential writes a place field in one lap.

Beside it, the registered ``hebbian`` rule (many laps, narrow symmetric field) and one write of the
registered ``delta`` rule (one-shot, but correcting by the neuron's error rather than each synapse's weight).
After Bittner et al. (2017) and Milstein et al. (2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..registry import make_rule
from ._common import DT, integer, num, ro

__all__ = ["BTSPResult", "btsp_place_field"]

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
    L = num("track_length", track_length, 20.0, 1000.0)
    N = integer("n_inputs", n_inputs, 4, 400)
    sigma = num("place_width", place_width, 0.0, L, low_open=True)
    speed = num("speed", speed, 0.0, 200.0, low_open=True)
    dt = num("dt", dt, 0.005, 0.2)
    p0 = num("plateau_position", plateau_position, 0.0, L)
    dur = num("plateau_duration", plateau_duration, dt, 2.0)
    tau_e = num("tau_eligibility", tau_eligibility, 0.0, 10.0, low_open=True)
    tau_i = num("tau_instructive", tau_instructive, 0.0, 10.0, low_open=True)
    th_rate = num("rate_threshold", rate_threshold, 0.0, 1.0, low_open=True, high_open=True)
    th_pot = num("potentiation_threshold", potentiation_threshold, 0.0, 1.0, low_open=True, high_open=True)
    w_max = num("w_max", w_max, 0.0, 1e3, low_open=True)
    eta_h = num("hebbian_rate", hebbian_rate, 0.0, 1e3)
    n_laps = integer("n_laps", n_laps, 1, 200)
    prior = None if prior_field_position is None else num("prior_field_position", prior_field_position, 0.0, L)
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
    keys = torch.as_tensor(inputs[during], dtype=DT)  # (n_plateau, N)
    post = torch.as_tensor(P[during][:, None], dtype=DT)  # (n_plateau, 1)
    W = torch.as_tensor(w_before[None, :], dtype=DT)  # (1, N)
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
    k = torch.as_tensor(s / np.linalg.norm(s), dtype=DT)[None, :]  # (1, N) unit key
    v = torch.tensor([[w_max * float(np.linalg.norm(s))]], dtype=DT)  # (1, 1)
    tr = make_rule("delta", normalize="none").run(k, k, v, beta=1.0, initial_state=torch.as_tensor(w_before[None, :], dtype=DT))
    w_delta = tr.weights[-1, 0].numpy()
    return BTSPResult(
        positions=ro(positions), input_centres=ro(centres), time=ro(time), animal_position=ro(x), plateau=ro(P),
        eligibility=ro(ET), instructive=ro(IS), signal=ro(s), window_lag=ro(centres / speed - t_p),
        dw_from_zero=ro(btsp(np.zeros(N), s)), dw_from_max=ro(btsp(np.full(N, w_max), s) - w_max),
        weights_before=ro(w_before), weights_btsp=ro(w_btsp), field_before=ro(f_before), field_btsp=ro(f_btsp),
        peak_position_btsp=float(positions[np.argmax(f_btsp)]), hebbian_weights=ro(hw_np), hebbian_fields=ro(f_hebb),
        hebbian_laps_to_match=laps_to_match, delta_weights=ro(w_delta), field_delta=ro(field(w_delta)),
        delta_error_before=float(tr.retrieval_error[0]), delta_error_after=float((v - tr.outputs[0]).abs().max()),
        plateau_position=p0, plateau_time=t_p, lap_duration=lap, speed=speed, w_max=w_max,
    )
