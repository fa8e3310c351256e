"""Capacity: the memory lab. Write N key/value pairs, query every stored key, and watch recall degrade."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

import fwp_core
from app import cache, figures, widgets
from app.layout import caption
from app.page_tables import CAPACITY, CapacitySettings
from app.state import LIMITS, QP
from fwp_core.experiments import capacity
from fwp_core.metrics import additive_theory


def controls() -> CapacitySettings:
    P = CAPACITY.params()
    rules = P["cap_rules"].choices
    left_out = [n for n in fwp_core.rule_names() if n not in rules]
    v: dict = {"cap_rules": st.multiselect(
        "Rules", list(rules), default=P["cap_rules"].default, key="cap_rules", bind=QP, max_selections=P["cap_rules"].max_len,
        help=f"Up to {P['cap_rules'].max_len} rules, each with its registry defaults (delta rules: unit keys)."
             + (f" Left out: {', '.join(left_out)} (several keys per token)." if left_out else ""))}
    c1, c2 = st.columns(2)
    v["cap_dk"] = widgets.number(P["cap_dk"], "d_k", "Key dimension; N runs to 4·d_k.", c1)
    v["cap_dv"] = widgets.number(P["cap_dv"], "d_v", "Value dimension.", c2)
    c3, c4 = st.columns(2)
    v["cap_seeds"] = widgets.number(P["cap_seeds"], "seeds", "Independent episodes, run as one batch.", c3)
    v["cap_seed"] = widgets.number(P["cap_seed"], "base seed", where=c4)
    v["cap_keys"] = widgets.select(P["cap_keys"], "Key type",
                                   "random unit keys; orthogonal (an orthonormal basis, which repeats beyond d_k); correlated "
                                   "(pairwise cosine ρ); repeated (d_k/2 distinct keys written over and over: overwrites)")
    if v["cap_keys"] == "correlated":
        v["cap_rho"] = widgets.slider(P["cap_rho"], "Key cosine ρ", 0.05)
    v["cap_beta"] = widgets.slider(P["cap_beta"], "β (write strength)", 0.05, "The same β for every write. Allowed: 0..2.")
    specs = [fwp_core.get_spec(n) for n in rules]
    fixed = "; ".join(f"{s.name} uses its {s.gate_hparam.name}" for s in specs if s.gate_hparam is not None)
    v["cap_gate"] = widgets.slider(P["cap_gate"], "gate α (gated rules)", 0.01, "Constant decay for rules with a data-dependent gate ("
                                   + ", ".join(s.name for s in specs if s.needs_gate) + ")" + (f"; {fixed}." if fixed else "."))
    return CAPACITY.config(v)


def curve_dict(c: capacity.Curve) -> dict:
    return dict(n=c.n, mean=c.mean, std=c.std, diverged_at_n=c.diverged_at_n)


def fitted_seeds(cfg: CapacitySettings, n: int, d_phi: int, what: str, cap: int | None = None) -> int | None:
    """Seeds within the memory cap (with a warning if fewer than asked), or None after an error."""
    asked = cfg.seeds if cap is None else min(cfg.seeds, cap)
    try:
        fit = capacity.check_size(n, cfg.d_v, d_phi, asked)
    except ValueError as exc:
        st.error(f"The {what} is too large: {exc}.")
        return None
    if fit < asked:
        st.warning(f"{asked} seeds would exceed the memory cap of the {what} (N up to {n}, d_v = {cfg.d_v}); "
                   f"using {fit} seeds there.")
    return fit


st.title("Capacity")
st.markdown(
    "Write **N** key/value pairs into an empty fast-weight memory, then query every stored key and measure the relative "
    "recall error ‖v − W φ(k)‖ / ‖v‖ (0 = perfect, 1 = the memory returns nothing), each memory read its own way: linear "
    "attention divides its read by the normaliser, $W\\phi(k) / (z^\\top\\phi(k) + \\varepsilon)$. With additive writes every stored "
    "pair leaks into every read: $W k_j = v_j + \\sum_{i \\ne j} (k_i \\cdot k_j)\\, v_i$, so for N random unit keys in "
    "d_k dimensions the error grows like $\\sqrt{(N-1)/d_k}$."
)
for w in CAPACITY.warnings(st.session_state, st.query_params.to_dict()):
    st.warning(w)

with st.sidebar:
    cfg = controls()
    st.caption(f"Limits: d ≤ {LIMITS.max_d}, N ≤ 4·d_k, seeds ≤ {capacity.MAX_SEEDS}, ≤ {capacity.MAX_RULES} rules; "
               f"each sweep is one batched run per rule.")

d_k, n_max = cfg.d_k, cfg.n_max
common = cfg.common()

# ------------------------------------------------------------------------------------------ 1. the capacity curve
st.subheader("Recall error against the number of stored pairs")
if not cfg.rules:
    st.warning("Choose at least one rule in the sidebar.")
else:
    seeds = fitted_seeds(cfg, n_max, d_k, "capacity sweep")
    if seeds is not None:
        with st.spinner("Sweeping N = 1 … 4·d_k for every rule (one batched run per rule)…"):
            curves = cache.capacity_sweep(cfg.rules, n_max=n_max, seeds=seeds, **common)
        n = np.arange(1, n_max + 1)
        theory = (n, additive_theory(n, d_k))
        fig = figures.capacity_figure({r: curve_dict(c) for r, c in curves.items()}, theory=theory, d_k=d_k)
        st.plotly_chart(figures.outlines_for(fig, st.context.theme.type == "dark"), key="capacity", config=figures.CHART_CONFIG)
        caption(f"Mean over {seeds} seeds (band: ± one standard deviation). The dashed line is the additive rule's theory "
                "√((N−1)/d_k) for random keys and β = 1: the Hebbian curve follows it; the delta rule stays lower; rls "
                "recalls every pair exactly up to N ≈ d_k, then degrades.")
        for c in curves.values():
            if c.diverged_at_n is not None:
                st.warning(f"**{c.label}** diverged at N = {c.diverged_at_n} (its fast weights became non-finite or exploded "
                           "for at least one seed): its curve is cut there and marked ×, and it may leave the chart's "
                           "range before that. Lower β or use unit keys.")
        marks = sorted({max(1, d_k // 2), d_k, 2 * d_k, 4 * d_k})
        rows = {f"N = {m}": {c.label: (float(c.mean[m - 1]) if m <= len(c.mean) else None) for c in curves.values()} for m in marks}
        for m in marks:
            rows[f"N = {m}"]["theory √((N−1)/d_k)"] = float(additive_theory(np.array([m]), d_k)[0])
        table = pd.DataFrame(rows).T
        st.dataframe(table, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns})
        caption("The same curves at a few N: compare each rule with the theory column.")

# ------------------------------------------------------------------------------------------ 2. feature maps
st.subheader("Feature maps: positive features add crosstalk")
fm_rule = widgets.select(CAPACITY.param("cap_fm_rule"), "Rule for the feature-map comparison")
n_fm = 2 * d_k  # crosstalk shows well before 4·d_k; six maps (DPFP ν = 3: d_phi = 6·d_k) cost more than one rule
seeds_fm = fitted_seeds(cfg, n_fm, 6 * d_k, "feature-map sweep", cap=capacity.FEATURE_MAP_SEEDS)
if seeds_fm is not None:
    with st.spinner("Sweeping every feature map…"):
        fm_curves, cos = cache.feature_map_sweep(fm_rule, n_max=n_fm, seeds=seeds_fm, **common)
    left, right = st.columns([0.64, 0.36])
    with left:
        theory = (np.arange(1, n_fm + 1), additive_theory(np.arange(1, n_fm + 1), d_k)) if capacity.additive_theory_applies(fm_rule) else None
        fig = figures.capacity_figure({k: curve_dict(c) for k, c in fm_curves.items()}, theory=theory, d_k=d_k)
        st.plotly_chart(figures.outlines_for(fig, st.context.theme.type == "dark"), key="cap_features", config=figures.CHART_CONFIG)
        c = {k: v[1] for k, v in cos.items()}  # mean cosine between φ of distinct keys, from the table beside
        caption(f"{fm_rule} with each feature map φ (then l2-normalised), N up to 2·d_k, {seeds_fm} seeds. elu+1 and relu "
                f"make every φ(k) positive, so unrelated keys overlap (mean cosine {c['elu+1']:.3f} and {c['relu']:.3f}, "
                f"raw keys {c['identity']:.3f}) and crosstalk arrives sooner; DPFP's sparse features overlap "
                + ("less than those" if c["DPFP ν=3"] < min(c["elu+1"], c["relu"]) else "about as much")
                + f" ({c['DPFP ν=3']:.3f} for ν = 3).")
    with right:
        tab = pd.DataFrame([{"feature map": k, "d_phi": v[0], "cos (these keys)": v[1], "cos (N(0,1))": v[2]}
                            for k, v in cos.items()]).set_index("feature map")
        st.dataframe(tab, width="stretch", column_config={
            "cos (these keys)": st.column_config.NumberColumn(format="%.3f", help="mean cosine between φ of distinct keys of this sweep"),
            "cos (N(0,1))": st.column_config.NumberColumn(format="%.3f", help="mean cosine between φ of unrelated N(0, 1) vectors"),
        })
        caption("The measured mean cosine between φ of unrelated keys: the larger it is, the more each read picks up the other "
                "pairs' values.")

# ------------------------------------------------------------------------------------------ 3. recency
st.subheader("Which pairs survive: error by age")
mult = widgets.segmented(CAPACITY.param("cap_rec_mult"), "N written, in units of d_k")
rec = replace(cfg, rec_mult=float(mult))
n_rec, rec_rules = rec.recency_n, rec.recency_rules  # the same colours as above; the reference (delta) always shown
seeds_rec = fitted_seeds(cfg, n_rec, d_k, "recency run")
if seeds_rec is not None:
    prof = cache.recency(rec_rules, n=n_rec, seeds=seeds_rec, **common)
    shown = {r: (m, s) for r, (m, s, d) in prof.items() if d is None}
    for r, (_m, _s, d) in prof.items():
        if d is not None:
            st.warning(f"**{r}** diverged at step {d} of {n_rec}: no recency profile to show.")
    if shown:
        st.plotly_chart(figures.recency_figure(shown), key="cap_recency", config=figures.CHART_CONFIG)
        q = max(1, n_rec // 4)
        ends = "; ".join(f"{r}: {np.mean(m[:q]):.3f} for the newest quarter, {np.mean(m[-q:]):.3f} for the oldest"
                         for r, (m, _s) in shown.items())
        caption(f"After {n_rec} writes, the error of each pair by its age (0 = the newest pair; 1 is what an empty memory "
                f"returns). Mean error — {ends}.")

# ------------------------------------------------------------------------------------------ 4. overwrite
st.subheader("The overwrite demo")
c1, c2 = st.columns([0.45, 0.55])
with c1:
    st.markdown("Write $(k, v_1)$, then $(k, v_2)$ with the **same** unit key $k$, and read with $k$. Additive memory returns "
                "$v_1 + v_2$; the delta rule returns $\\beta v_2 + \\beta(1-\\beta) v_1$ — exactly $v_2$ at β = 1.")
    ow_beta = widgets.slider(CAPACITY.param("cap_ow_beta"), "β of the delta rule", 0.05)
    demo = cache.overwrite_demo(8, 8, ow_beta, cfg.seed)
    err_add = float(np.linalg.norm(demo["additive read"] - demo["v1+v2"]))
    err_delta = float(np.linalg.norm(demo["delta read"] - demo["v2"]))
    m1, m2 = st.columns(2)
    m1.metric("‖additive read − (v₁ + v₂)‖", f"{err_add:.1e}")
    m2.metric("‖delta read − v₂‖", f"{err_delta:.1e}" if err_delta < 1e-6 else f"{err_delta:.3f}")
with c2:
    zmax = figures.symmetric_range(*demo.values())
    st.plotly_chart(figures.vectors_figure(demo, zmax), key="cap_overwrite", config=figures.CHART_CONFIG)
    caption("Columns: the two values, their sum, and what each memory returns for k. The additive read matches v₁ + v₂, "
            "the delta read (β = 1) matches v₂.")
