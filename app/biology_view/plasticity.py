"""Biology sections on plasticity rules: Hebbian vs three-factor learning, Oja's rule, short-term plasticity."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import figures, widgets
from app.layout import caption, guarded
from app.page_tables import BIOLOGY

from .common import chart, intro, run, status_note

# --------------------------------------------------------------------------------------------- 1. three-factor
def three_factor_findings(res: Any) -> str:
    """What the run shows, every number filled in from it: the three-factor rule equals the causal two-fast-weight
    FWP at every step, while the β-weighted Hebbian sum matches only at T (and where it first runs ahead, why)."""
    T = len(res.time)
    text = (
        f"**The causal FWP computes the same weights at every step.** Over all {T} steps, "
        f"max |W_t(three-factor) − W_t(two fast weights)| = {res.causal_error:.1e}.\n\n"
        "**One Hebbian fast weight matches only at the end, and only with help from the future.** With "
        "$\\beta_s = \\sum_{t \\ge s} M_t \\lambda^{t-s}$, the Hebbian sum $\\sum_s \\beta_s v_s k_s^\\top$ gives the final "
        f"weights: max |W_T − Σ_s β_s v_s k_sᵀ| = {res.final_identity_error:.1e}. But in general β_s adds up "
        "neuromodulator pulses that arrive after step s, which no causal programmer has when it writes item s. "
    )
    if res.largest_gap_step is None:
        return text + (
            f"With these settings no item is credited by a later pulse (β_s is M_s itself, or nothing is stored), so "
            f"the partial sums match W_t at every step too (largest difference before T: {res.largest_gap:.1e})."
        )
    t = int(res.largest_gap_step)
    ahead = np.asarray(res.beta_sum_stored_over_time[t - 1]) - np.asarray(res.stored_over_time[t - 1])
    i = int(np.argmax(np.abs(ahead)))
    later = [int(r) for r in np.asarray(res.reward_times) if r > t]
    why = f"its β_s counts the pulse at step {later[0]}, which has not arrived yet" if later else "its β_s counts later pulses"
    return text + (
        f"Before T the partial sums differ from W_t: the largest difference, "
        f"max |Σ_{{s≤t}} β_s v_s k_sᵀ − W_t| = {res.largest_gap:.3f}, is at step t = {t}. There item {i + 1} (presented "
        f"at step {int(res.item_times[i])}) is already held with strength {float(res.beta_sum_stored_over_time[t - 1, i]):.3f} "
        f"by the β-weighted sum, because {why}; the three-factor W_t holds it with "
        f"{float(res.stored_over_time[t - 1, i]):.3f}."
    )


@guarded
def section_three_factor() -> None:
    P = BIOLOGY.params()
    intro(
        "In plain **Hebbian** learning every coincidence of presynaptic activity $k_t$ and postsynaptic activity $v_t$ "
        "is written into the synapses. In a **three-factor** rule the coincidence only leaves a decaying *eligibility "
        "trace* $E_t$; a neuromodulator $M_t$ (dopamine after a reward, say) arriving while the trace lasts turns it "
        "into a lasting change — even if it comes a few steps late.\n\n"
        "As a fast weight programmer this takes **two fast weights**: the trace $E_t$ is itself a decaying fast weight "
        "(the `decay` rule with $\\gamma = \\lambda$), and $M_t$ gates its transfer into the second one, $W_t$. A "
        "programmer that emits $k_t$, $v_t$ and $M_t$ at step $t$ computes $W_t$ at every step without looking ahead.",
        r"\underbrace{E_t = \lambda E_{t-1} + v_t k_t^\top}_{\text{fast weight 1: the trace}}, \qquad "
        r"\underbrace{W_t = W_{t-1} + M_t E_t}_{\text{fast weight 2, gated by } M_t}",
    )
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1.3])
    delay = widgets.slider(P["bio_delay"], "reward delay (steps)", 1, where=c1,
                      help="How many steps after a rewarded item the neuromodulator pulse arrives.")
    lam = widgets.slider(P["bio_lambda"], "trace decay λ", 0.05, where=c2,
                    help="How much of the eligibility trace survives each step (λ = 0: only an immediate reward counts).")
    interval = widgets.slider(P["bio_interval"], "steps between items", 1, where=c3,
                         help="The reward must arrive before the next item, or it would credit that one too.")
    rewarded = c4.pills("rewarded items", list(P["bio_rewarded"].choices), selection_mode="multi", default=P["bio_rewarded"].default,
                        key="bio_rewarded", bind=widgets.QP, help="Items followed by a neuromodulator pulse. With none selected, nothing is learned.")
    res = run("three_factor", n_items=6, d=8, rewarded=tuple(sorted(int(i) - 1 for i in rewarded)), delay=int(delay),
              trace_decay=float(lam), interval=int(interval))
    if res is None:
        return
    ahead = ("jumps when an item is presented, before its reward, and meets W only at the end"
             if res.largest_gap_step is not None else "coincides with W here, since no item is credited by a later pulse")
    chart(figures.bio_three_factor_figure(res), "bio_three_factor",
          "Every item leaves an eligibility trace (green), but ‖W‖ (red) only grows when M_t arrives; the causal FWP "
          "with two fast weights (dots) is on the red line at every step. Plain Hebbian learning (blue) writes every "
          f"item; the β-weighted Hebbian sum (grey, dotted) {ahead}.")
    left, right = st.columns([0.62, 0.38], gap="large")
    with left:
        chart(figures.bio_stored_figure(res), "bio_stored",
              f"Only rewarded items (★) are stored, scaled by λ^delay = {res.trace_decay ** res.delay:.3f}. The "
              "diamonds are β_s = Σ_{t≥s} M_t λ^{t−s}: they equal the final stored strengths, and each sums the "
              "pulses from its item's step on, later ones included.")
    with right:
        rew = np.asarray(res.rewarded, dtype=bool)
        st.metric("stored, rewarded items (mean)", f"{float(np.mean(res.stored[rew])):.4f}" if rew.any() else "—",
                  help="v_iᵀ W_T k_i, averaged over the rewarded items; λ^delay when nothing else interferes.")
        st.metric("stored, unrewarded items (max)", f"{float(np.max(res.stored[~rew])):.4f}" if (~rew).any() else "—",
                  help="Not zero when an earlier item's trace has not fully decayed by a later reward.")
        st.metric("three-factor vs two fast weights, all t", f"{res.causal_error:.1e}",
                  help="max over all steps t of |W_t(three-factor) − W_t(causal FWP with fast weights E and W)|.")
        st.metric("β-weighted Hebbian sum vs W_t, t < T", f"{res.largest_gap:.3f}",
                  help="max over t < T of |Σ_{s≤t} β_s v_s k_sᵀ − W_t|: the non-causal identity holds at T only.")
    st.markdown(three_factor_findings(res))
    st.latex(r"W_T = \sum_s \beta_s\, v_s k_s^\top, \qquad \beta_s = \sum_{t \ge s} M_t\, \lambda^{t-s}"
             r"\qquad \text{(final weights only: } \beta_s \text{ needs } M_t \text{ for } t > s\text{)}")
    status_note("three_factor")


# ------------------------------------------------------------------------------------------------------ 2. Oja
@guarded
def section_oja() -> None:
    P = BIOLOGY.params()
    intro(
        "One linear neuron with weights $w$ sees inputs $k_t$ drawn from a Gaussian cloud and outputs "
        "$v_t = w_{t-1}k_t$. Plain Hebbian learning, $w \\leftarrow w + \\beta v_t k_t^\\top$, turns $w$ towards the "
        "cloud's long axis but its norm grows without bound. **Oja's rule** subtracts $v_t^2 w$, a decay proportional "
        "to the squared output. Averaged over inputs, $w$ drifts as $\\dot w = Cw - (w^\\top C w)\\,w$: every unit "
        "eigenvector $\\pm u_i$ of the input covariance $C$ is a fixed point, and so is $w = 0$, but only $\\pm u_1$, "
        "the top eigenvector, is stable. So the norm converges to 1 and the neuron ends on the top principal component. "
        "It is the registered `oja` rule of this app.",
        r"w_t = w_{t-1} + \beta\, v_t\,\big(k_t - w_{t-1}^\top v_t\big)^\top, \qquad v_t = w_{t-1} k_t",
        r"\text{fixed points of } \dot w = Cw - (w^\top C w)\,w:\ w = 0 \text{ and } w = \pm u_i \text{ for every eigenvector "
        r"of } C\ (\|u_i\| = 1);\ \text{stable: only } \pm u_1",
    )
    c1, c2, c3, c4, c5 = st.columns(5)
    lr = widgets.slider(P["bio_lr"], "learning rate β", 0.001, where=c1, format="%.3f",
                   help="Oja's rule is stable only for small steps: β·(λ₁ + λ₂)·max(1, ‖w₀‖)² ≤ 0.2.")
    steps = widgets.slider(P["bio_steps"], "inputs", 50, where=c2)
    lam1 = widgets.slider(P["bio_lam1"], "variance along axis 1 (λ₁)", 0.1, where=c3)
    lam2 = widgets.slider(P["bio_lam2"], "variance along axis 2 (λ₂)", 0.1, where=c4,
                     help="If λ₂ > λ₁ the two axes swap roles; equal variances leave no single top component to find.")
    init = widgets.slider(P["bio_init"], "initial ‖w₀‖", 0.1, where=c5)
    res = run("oja_pca", eigenvalues=(float(lam1), float(lam2)), n_steps=int(steps), learning_rate=float(lr),
              init_norm=float(init))
    if res is None:
        return
    chart(figures.bio_oja_figure(res), "bio_oja",
          "Oja's norm converges to 1 (log₁₀ = 0) while the Hebbian norm grows exponentially; both turn towards the top "
          "eigenvector.")
    left, right = st.columns([0.5, 0.5], gap="large")
    with left:
        chart(figures.bio_oja_inputs_figure(res), "bio_oja_inputs",
              "Oja's weights travel from w₀ to the unit circle, onto the long axis of the input cloud (the top eigenvector).")
    with right:
        m1, m2 = st.columns(2)
        m1.metric("Oja ‖w_T‖", f"{float(res.norm_oja[-1]):.4f}")
        log_h = float(res.log10_norm_hebbian[-1])
        m2.metric("Hebbian ‖w_T‖", f"{10 ** log_h:.4g}" if log_h < 6 else f"10^{log_h:.1f}",
                  help="Large norms are shown as a power of ten: the norm itself may be beyond floating-point range.")
        m1.metric("Oja angle to u₁", f"{float(res.angle_oja[-1]):.2f}°")
        m2.metric("Hebbian angle to u₁", f"{float(res.angle_hebbian[-1]):.2f}°")
        lam = np.asarray(res.eigenvalues, dtype=float)
        st.dataframe(pd.DataFrame({
            "fixed point": list(res.fixed_points),
            "‖w‖": [0.0] + [1.0] * lam.size,
            "eigenvalue of C": ["—"] + [f"{x:.2f}" for x in lam],
            "growth rate": np.round(np.asarray(res.fixed_point_growth, dtype=float), 3),
            "stable": ["yes" if s else "no" for s in np.asarray(res.fixed_point_stable, dtype=bool)],
        }), hide_index=True, width="stretch", key="bio_oja_fixed")
        caption("Fixed points of the mean drift. Growth rate: the largest eigenvalue of its Jacobian there (λ_j − λ_i "
                "along u_j and −2λ_i along u_i at ±u_i; C itself at 0); negative means stable.")
        st.markdown(
            "Both rules find the direction; only Oja's bounds the size. In FWP terms, Oja's rule is a write that "
            "first reads ($w^\\top v_t$) and subtracts what is already there along the output — a cousin of the "
            "delta rule's error-correcting write, but unsupervised: the neuron's own output is the value."
        )
    status_note("oja_pca")


# ---------------------------------------------------------------------------------------------- 3. short-term
@guarded
def section_stp() -> None:
    P = BIOLOGY.params()
    intro(
        "A burst of presynaptic spikes raises a synapse's release probability $u$ (**facilitation**, which fades "
        "over $\\tau_F$) and uses up its resources $x$ (**depression**, which recovers over $\\tau_D$). With "
        "$\\tau_F \\gg \\tau_D$ the efficacy $u\\,x$ stays raised for about $\\tau_F$ after the burst, with no spikes "
        "at all: an **activity-silent** memory of the item. A fast weight with constant decay $\\gamma = e^{-dt/\\tau_F}$ "
        "forgets on the same clock; a gated fast weight holds the item until its programmer decides to clear it.",
        r"\frac{du}{dt} = \frac{U - u}{\tau_F} + U(1 - u)\sum_s \delta(t - t_s), \qquad "
        r"\frac{dx}{dt} = \frac{1 - x}{\tau_D} - u^+ x \sum_s \delta(t - t_s)",
        r"\text{decay: } W_t = \gamma W_{t-1} + \beta_t v k^\top, \qquad \text{gated: } W_t = \alpha_t W_{t-1} + \beta_t v k^\top",
    )
    c1, c2, c3, c4, c5 = st.columns(5)
    tau_f = widgets.slider(P["bio_tau_f"], "τ_F facilitation (s)", 0.1, where=c1)
    tau_d = widgets.slider(P["bio_tau_d"], "τ_D depression (s)", 0.05, where=c2)
    U = widgets.slider(P["bio_U"], "U (release at rest)", 0.05, where=c3)
    rate = widgets.slider(P["bio_rate"], "burst rate (Hz)", 1, where=c4, help="Spikes from 0.5 s to 1.0 s.")
    clear = widgets.slider(P["bio_clear"], "gated rule clears at (s)", 0.5, where=c5,
                      help="When the gated rule's programmer sets α_t = 0 and the item is forgotten at once.")
    res = run("short_term_plasticity", U=float(U), tau_f=float(tau_f), tau_d=float(tau_d), rate=float(rate),
              clear_time=float(clear))
    if res is None:
        return
    chart(figures.bio_stp_figure(res), "bio_stp",
          "After the last spike (dotted line) x recovers within a few τ_D but u stays up for about τ_F, so the efficacy "
          "holds the item silently; the decay rule forgets on that clock, the gated rule holds it until cleared.")
    eff = np.asarray(res.efficacy, dtype=float)
    t = np.asarray(res.time, dtype=float)
    after = t >= res.last_spike
    i_tau = int(np.argmin(np.abs(t - (res.last_spike + res.tau_f))))
    m1, m2, m3 = st.columns(3)
    m1.metric("efficacy at rest (U)", f"{res.baseline:.3f}")
    m2.metric("peak efficacy after the burst", f"{float(eff[after].max()):.3f}")
    m3.metric("efficacy τ_F after the last spike", f"{float(eff[i_tau]):.3f}" if res.last_spike + res.tau_f <= t[-1] else "—",
              help="Still above rest: the item is held with no activity.")
    status_note("short_term_plasticity")
