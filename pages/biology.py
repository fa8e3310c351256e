"""Biology: the same update rules as synaptic plasticity.

Six small simulations from ``fwp_core.biology`` (pure, fast, cached), one at a time: the segmented control
``bio_sim`` is bound to the URL, so a link opens a given simulation and only that one is computed and drawn.
Each section has a plain-English explanation, its equation, URL-bound sliders (``bio_*``), figures with a
one-line caption, and a note on what is established and what is a hypothesis, taken from ``biology_map()``.
Every number a text states is filled in from the simulation that the page has just run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import figures
from app.layout import caption, guarded
from app.state import QP
from fwp_core import biology as bio

CFG = figures.CHART_CONFIG
KV_RULES = ("delta", "hebbian")  # the two rules bio.kv_retrieval writes with, the default first

# The simulations, in the order of the control. The label is what the URL holds (?bio_sim=...), so it is plain
# ASCII with no spaces; the value is (section title, function in fwp_core.biology).
SIMS: dict[str, tuple[str, str | None]] = {
    "Three-factor": ("Hebbian vs three-factor learning", "three_factor"),
    "Oja": ("Oja's rule: a Hebbian neuron that normalises itself", "oja_pca"),
    "Short-term": ("Short-term plasticity and activity-silent working memory", "short_term_plasticity"),
    "BTSP": ("One-shot place fields: behavioural-timescale plasticity (BTSP)", "btsp_place_field"),
    "Key-value": ("Key–value memory: forgetting as retrieval failure", "kv_retrieval"),
    "Mapping": ("FWP ↔ biology: the mapping and the open questions", None),
}
SIM_OF_FUNCTION = {fn: label for label, (_, fn) in SIMS.items() if fn}
MAP = bio.biology_map()


@st.cache_resource(max_entries=64, show_spinner=False)
def simulate(function: str, **kwargs: Any) -> Any:
    """One simulation of fwp_core.biology; results are frozen with read-only arrays, so sharing them is safe."""
    return getattr(bio, function)(**kwargs)


def run(function: str, **kwargs: Any) -> Any | None:
    """The simulation's result, or None after showing its ValueError (an impossible combination) as st.error."""
    try:
        return simulate(function, **kwargs)
    except ValueError as exc:
        st.error(f"These settings cannot run: {exc}")
        return None


def short(text: str, limit: int = 80) -> str:
    """The first clause of a long description (up to a bracket, comma, full stop, or a colon when still too long),
    cut at a word near ``limit``: the table stays one line per row; the full text is one click away."""
    head = re.split(r" \(|, |; |\. ", text.rstrip("."))[0]
    if len(head) > limit and ": " in head:
        head = head.split(": ")[0]
    if len(head) <= limit:
        return head
    return head[: head.rfind(" ", 0, limit)] + " …"


def chart(fig: Any, key: str, text: str) -> None:
    st.plotly_chart(figures.outlines_for(fig, st.context.theme.type == "dark"), key=key, config=CFG)
    caption(text)


def status_note(function: str) -> None:
    """What is established and what is a hypothesis, for the links that this simulation shows (from biology_map)."""
    links = [link for link in MAP.links if link.simulation == function]
    if not links:
        return
    lines = []
    for link in sorted(links, key=lambda lk: lk.status != "established"):
        tag = "Established" if link.status == "established" else "Hypothesis"
        lines.append(f"- **{tag}** · {link.quantity} `{link.symbol}` ↔ {link.counterpart}  \n  {link.explanation}")
    st.info("**What is established, what is a hypothesis**\n\n" + "\n".join(lines), icon=":material/science:")


def intro(text: str, *equations: str) -> None:
    """The explanation in plain words, then the equations (full width, so that none is clipped)."""
    st.markdown(text)
    for eq in equations:
        st.latex(eq)


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
    delay = c1.slider("reward delay (steps)", 0, 15, 2, 1, key="bio_delay", bind=QP,
                      help="How many steps after a rewarded item the neuromodulator pulse arrives.")
    lam = c2.slider("trace decay λ", 0.0, 1.0, 0.7, 0.05, key="bio_lambda", bind=QP,
                    help="How much of the eligibility trace survives each step (λ = 0: only an immediate reward counts).")
    interval = c3.slider("steps between items", 2, 20, 10, 1, key="bio_interval", bind=QP,
                         help="The reward must arrive before the next item, or it would credit that one too.")
    rewarded = c4.pills("rewarded items", list(range(1, 7)), selection_mode="multi", default=[2, 5], key="bio_rewarded",
                        bind=QP, help="Items followed by a neuromodulator pulse. With none selected, nothing is learned.")
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
    lr = c1.slider("learning rate β", 0.001, 0.1, 0.005, 0.001, key="bio_lr", bind=QP, format="%.3f",
                   help="Oja's rule is stable only for small steps: β·(λ₁ + λ₂)·max(1, ‖w₀‖)² ≤ 0.2.")
    steps = c2.slider("inputs", 50, 3000, 600, 50, key="bio_steps", bind=QP)
    lam1 = c3.slider("variance along axis 1 (λ₁)", 0.5, 5.0, 3.0, 0.1, key="bio_lam1", bind=QP)
    lam2 = c4.slider("variance along axis 2 (λ₂)", 0.1, 5.0, 0.2, 0.1, key="bio_lam2", bind=QP,
                     help="If λ₂ > λ₁ the two axes swap roles; equal variances leave no single top component to find.")
    init = c5.slider("initial ‖w₀‖", 0.1, 2.0, 0.3, 0.1, key="bio_init", bind=QP)
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
    tau_f = c1.slider("τ_F facilitation (s)", 0.1, 5.0, 1.5, 0.1, key="bio_tau_f", bind=QP)
    tau_d = c2.slider("τ_D depression (s)", 0.05, 2.0, 0.2, 0.05, key="bio_tau_d", bind=QP)
    U = c3.slider("U (release at rest)", 0.05, 1.0, 0.2, 0.05, key="bio_U", bind=QP)
    rate = c4.slider("burst rate (Hz)", 5, 50, 20, 1, key="bio_rate", bind=QP, help="Spikes from 0.5 s to 1.0 s.")
    clear = c5.slider("gated rule clears at (s)", 1.5, 8.0, 6.0, 0.5, key="bio_clear", bind=QP,
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


# ---------------------------------------------------------------------------------------------------- 4. BTSP
@guarded
def section_btsp() -> None:
    intro(
        "In hippocampal area CA1 a single **plateau potential** can create a place field in one lap. Each synapse keeps a "
        "slow eligibility trace of its input; the plateau leaves a shorter instructive signal; their overlap $s_i$ "
        "decides the change. The window is seconds wide and asymmetric (inputs passed *before* the plateau gain "
        "most), and the change is **weight-dependent and bidirectional**: silent synapses near the plateau jump up, "
        "strong ones far from it are depressed. A Hebbian rule pairing input with the plateau only learns a little per "
        "lap; the delta rule writes in one shot, like BTSP, but corrects by the neuron's error $v - w k$.",
        r"\tau_E \dot{ET}_i = r_i(x(t)) - ET_i, \quad \tau_I \dot{IS} = P(t) - IS, \quad s_i \propto \int ET_i\, IS\, dt",
        r"\Delta w_i = \eta(s_i)\,\big(w_{\max}\, p(s_i) - w_i\big) \qquad\text{vs}\qquad w \leftarrow w + (v - w k)\, k^\top",
    )
    c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 1.2])
    plateau = c1.slider("plateau at (cm)", 0, 180, 100, 5, key="bio_plateau", bind=QP)
    speed = c2.slider("running speed (cm/s)", 5, 60, 20, 5, key="bio_speed", bind=QP)
    tau_e = c3.slider("eligibility τ_E (s)", 0.5, 4.0, 1.66, 0.02, key="bio_tau_e", bind=QP,
                      help="Longer synaptic traces widen the window towards the past.")
    laps = c4.slider("Hebbian laps", 1, 100, 20, 1, key="bio_laps", bind=QP)
    with c5:
        second = st.toggle("a field already exists", key="bio_second", bind=QP,
                           help="First form a field elsewhere with the same rule, then deliver the plateau.")
        prior = st.slider("existing field at (cm)", 0, 180, 40, 5, key="bio_prior", bind=QP, disabled=not second)
    res = run("btsp_place_field", plateau_position=float(plateau), speed=float(speed), tau_eligibility=float(tau_e),
              n_laps=int(laps), prior_field_position=float(prior) if second else None)
    if res is None:
        return
    where = (f"peaking {res.plateau_position - res.peak_position_btsp:g} cm before it, since the window favours the "
             "seconds before" if res.peak_position_btsp < res.plateau_position else f"peaking at {res.peak_position_btsp:g} cm")
    old = " The old field (grey) is depressed where it was passed seconds before the plateau." if second else ""
    chart(figures.bio_btsp_fields_figure(res), "bio_btsp_fields",
          f"One plateau at {res.plateau_position:g} cm writes a broad field in one lap (red), {where}; Hebbian learning "
          f"(blue) stays narrow and needs laps; the delta rule (green) is one-shot too.{old}")
    left, right = st.columns(2, gap="large")
    with left:
        chart(figures.bio_btsp_window_figure(res), "bio_btsp_window",
              "The window: inputs passed up to seconds before the plateau (left of 0) are potentiated most; a synapse "
              "already at w_max is depressed away from the plateau.")
    with right:
        chart(figures.bio_btsp_laps_figure(res), "bio_btsp_laps",
              "Hebbian learning adds a little per lap; the dashed line is what BTSP reached in one lap.")
    m1, m2, m3 = st.columns(3)
    m1.metric("BTSP field peak", f"{res.peak_position_btsp:g} cm",
              help=f"plateau at {res.plateau_position:g} cm; the animal runs at {res.speed:g} cm/s")
    m2.metric("Hebbian laps to match one BTSP lap",
              str(res.hebbian_laps_to_match) if res.hebbian_laps_to_match is not None else f"> {laps}")
    m3.metric("delta rule error |v − w·k| before → after one write", f"{res.delta_error_before:.3f} → {res.delta_error_after:.1e}")
    status_note("btsp_place_field")


# ----------------------------------------------------------------------------------------------- 5. key–value
@guarded
def section_kv() -> None:
    intro(
        "Two memories with similar keys ($k_1 \\cdot k_2 = c$) are written one after the other. Reading with the "
        "original key $k_1$ returns a blend (Hebbian) or mostly the *second* value (delta rule, whose second write "
        "corrected what $k_2$ — and so partly $k_1$ — returned). Yet $v_1$ is still in $W$: the **specific** cue "
        "$k_1 - c\\,k_2$, the part of $k_1$ that $k_2$ lacks, recalls $v_1$ exactly. Forgetting here is a failure "
        "of *retrieval*, not of storage; keys serve discrimination, values fidelity.",
        r"\text{Hebbian: } W k_1 = v_1 + c\, v_2, \qquad \text{delta: } W k_1 = (1 - c^2)\, v_1 + c\, v_2",
        r"\text{both: } W (k_1 - c\, k_2) = (1 - c^2)\, v_1, \qquad q(s) \propto k_1 - s\,c\,k_2",
    )
    c1, c2 = st.columns([2, 1])
    c = c1.slider("key similarity c = k₁·k₂", 0.0, 0.99, 0.9, 0.01, key="bio_similarity", bind=QP)
    rule = c2.segmented_control("rule", list(KV_RULES), default=KV_RULES[0], key="bio_kv_rule", bind=QP, required=True)
    res = run("kv_retrieval", similarity=float(c), d_k=8, d_v=8, rule=str(rule or KV_RULES[0]))
    if res is None:
        return
    left, right = st.columns([0.62, 0.38], gap="large")
    with left:
        chart(figures.bio_kv_sweep_figure(res), "bio_kv_sweep",
              "Move the cue from degraded (left) to specific (right): the target's cosine (red) rises to 1 although "
              "nothing was rewritten; the strength (grey) shows the specific cue reads a weaker but pure v₁.")
    with right:
        cols = {"v₁": res.values[0], "v₂": res.values[1]}
        for name, y in zip(res.query_names, res.retrieved):
            cols[name] = y
        zmax = figures.symmetric_range(*cols.values())
        chart(figures.vectors_figure(cols, zmax, height=360), "bio_kv_vectors",
              "v₁ (target), v₂ (interferer), then W q for each cue: match the columns' red/blue patterns.")
    table = pd.DataFrame({
        "cue": list(res.query_names),
        "cos(W q, v₁)": np.round(np.asarray(res.cos_target, dtype=float), 4),
        "cos(W q, v₂)": np.round(np.asarray(res.cos_interferer, dtype=float), 4),
        "recalls": list(res.recalled),
    })
    st.dataframe(table, hide_index=True, width="stretch")
    caption("‘target’ and ‘interferer’ mean cos ≥ 0.9 with that value; ‘mixed’ means neither.")
    status_note("kv_retrieval")


# ------------------------------------------------------------------------------------------------- 6. mapping
def sources_text(link: Any, full: bool = False) -> str:
    """The works a row rests on: short forms for the table, full citations for the details; 'after the primer' only
    where the row is marked so."""
    cites = [src.citation if full else src.short for src in link.sources]
    if link.after_primer:
        cites.insert(0, f"after the primer ({MAP.primer.short})")
    return "; ".join(cites)


@guarded
def section_map() -> None:
    st.markdown(
        "Each row pairs a quantity of a fast weight programmer with the biological process proposed for it, and names "
        "the works it rests on (the *sources* column). The status says how firm the link is:"
    )
    for status, meaning in MAP.statuses:
        st.markdown(f"- **{status}** — {meaning}")
    links = MAP.links
    df = pd.DataFrame({
        "FWP quantity": [f"{lk.quantity} ({lk.symbol})" for lk in links],
        "proposed biological counterpart": [short(lk.counterpart) for lk in links],
        "status": [lk.status for lk in links],
        "simulation": [SIM_OF_FUNCTION.get(lk.simulation or "", "—") for lk in links],
        "sources": [sources_text(lk) for lk in links],
    })
    colours = {"established": "background-color: #e9f7ef", "hypothesis": "background-color: #fef5e7"}
    event = st.dataframe(
        df.style.map(lambda v: colours.get(v, ""), subset=["status"]), hide_index=True, width="stretch",
        height=38 + 35 * len(df), key="bio_map", on_select="rerun", selection_mode="single-row",
        column_config={
            "FWP quantity": st.column_config.TextColumn(width=220),
            "proposed biological counterpart": st.column_config.TextColumn(width=270),
            "status": st.column_config.TextColumn(width=90),
            "simulation": st.column_config.TextColumn(width=90, help="the simulation above that shows this link"),
            "sources": st.column_config.TextColumn(width=220, help="the works this row rests on; select a row for "
                                                                    "the full citations"),
        },
    )
    caption("Select a row to read why the link is drawn, where it is weak, and its full sources; the ‘simulation’ "
            "column names the button above that shows it.")
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if rows and 0 <= int(rows[0]) < len(links):
        lk = links[int(rows[0])]
        box = st.success if lk.status == "established" else st.warning
        box(f"**{lk.quantity}** `{lk.symbol}` — **{lk.status}**\n\n{lk.explanation}\n\n*Sources:* "
            + sources_text(lk, full=True), icon=":material/science:")
    with st.expander("Every row in full: why each link is drawn, where it is weak, sources"):
        for lk in links:
            st.markdown(f"**{lk.quantity}** `{lk.symbol}` — *{lk.status}*. {lk.explanation}")
            st.caption("Sources: " + sources_text(lk, full=True))
    caption(f"{MAP.primer_note} Further reading: {MAP.primer.citation}")
    st.subheader("Open questions")
    for q in MAP.open_questions:
        with st.container(border=True):
            st.markdown(f"**{q.question}**\n\n{q.why_it_matters}\n\n*Candidate answers.* {q.candidate_answers}")


SECTIONS: dict[str, Callable[[], None]] = {
    "Three-factor": section_three_factor,
    "Oja": section_oja,
    "Short-term": section_stp,
    "BTSP": section_btsp,
    "Key-value": section_kv,
    "Mapping": section_map,
}

st.title("Biology")
st.caption(
    "The same update rules as synaptic plasticity: small simulations built on fwp_core, each with its equation and an "
    "honest note on what is established and what is a hypothesis. Every setting lives in the URL."
)
raw = st.query_params.get("bio_sim")
if raw is not None and raw not in SIMS:  # Streamlit drops it silently; say what was wrong and what is allowed
    st.warning(f"Unknown simulation {raw!r} in the link; allowed: {', '.join(SIMS)}. Showing the first one.")
choice = st.segmented_control("Simulation", list(SIMS), default="Three-factor", key="bio_sim", bind=QP, required=True,
                              label_visibility="collapsed")
choice = choice if choice in SIMS else "Three-factor"
st.header(SIMS[choice][0], divider="gray")
SECTIONS[choice]()
