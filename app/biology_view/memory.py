"""Biology sections on memory: one-shot BTSP place fields, key–value retrieval, and the FWP ↔ biology mapping."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import figures, widgets
from app.layout import caption, guarded
from app.page_tables import BIOLOGY

from .common import KV_RULES, MAP, SIM_OF_FUNCTION, chart, intro, run, short, status_note

# ---------------------------------------------------------------------------------------------------- 4. BTSP
@guarded
def section_btsp() -> None:
    P = BIOLOGY.params()
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
    plateau = widgets.slider(P["bio_plateau"], "plateau at (cm)", 5, where=c1)
    speed = widgets.slider(P["bio_speed"], "running speed (cm/s)", 5, where=c2)
    tau_e = widgets.slider(P["bio_tau_e"], "eligibility τ_E (s)", 0.02, where=c3,
                      help="Longer synaptic traces widen the window towards the past.")
    laps = widgets.slider(P["bio_laps"], "Hebbian laps", 1, where=c4)
    with c5:
        second = st.toggle("a field already exists", key="bio_second", bind=widgets.QP,
                           help="First form a field elsewhere with the same rule, then deliver the plateau.")
        prior = widgets.slider(P["bio_prior"], "existing field at (cm)", 5, disabled=not second)
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
    P = BIOLOGY.params()
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
    c = widgets.slider(P["bio_similarity"], "key similarity c = k₁·k₂", 0.01, where=c1)
    rule = widgets.segmented(P["bio_kv_rule"], "rule", where=c2)
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
