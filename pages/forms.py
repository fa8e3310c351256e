"""Forms: one model, three computations — the recurrence, the parallel attention matrix, the chunkwise form."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import fwp_core
from app import figures, lab, state
from app.layout import caption
from app.state import DEFAULT_RULE, LIMITS, QP, Param

RULES = lab.forms_rule_names()
TIMING_T = (64, 128, 256, 512, 1024)
TIMING_D = 64
TIMING_C = 64

PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("forms_rule", "choice", DEFAULT_RULE, choices=tuple(RULES)),
        Param("forms_T", "int", 16, 1, LIMITS.max_T),
        Param("forms_dk", "int", 8, 1, LIMITS.max_d),
        Param("forms_dv", "int", 8, 1, LIMITS.max_d),
        Param("forms_beta", "float", 1.0, 0.0, 2.0),
    )
}

st.title("Forms")
st.markdown(
    "One model, three computations. The **recurrence** updates the fast weights token by token; the **parallel form** "
    "writes the same outputs as one causal attention matrix times (pseudo-)values; the **chunkwise form** runs the "
    "recurrence only between chunks of C tokens and the attention form inside them. All three are computed here in "
    "float64 on a random sequence and compared number by number."
)
if "_url_warnings_forms" not in st.session_state:
    st.session_state["_url_warnings_forms"] = state.parse_query(st.query_params.to_dict(), PARAMS).warnings
for w in st.session_state["_url_warnings_forms"]:
    st.warning(w)

with st.sidebar:
    rule = st.selectbox("Rule", RULES, index=RULES.index(DEFAULT_RULE), key="forms_rule", bind=QP,
                        help="The rules with all three forms on this page: " + ", ".join(RULES) + ".")
    spec = fwp_core.get_spec(rule)
    st.caption(f"**{spec.title}** — *{spec.teaches}*")
    c1, c2 = st.columns(2)
    T = int(c1.number_input("T (tokens)", 1, LIMITS.max_T, 16, key="forms_T", bind=QP, help=f"Allowed: 1..{LIMITS.max_T}."))
    seed = int(c2.number_input("seed", 0, 2**31 - 1, 0, key="forms_seed", bind=QP))
    c3, c4 = st.columns(2)
    d_k = int(c3.number_input("d_k", 1, LIMITS.max_d, 8, key="forms_dk", bind=QP, help=f"Allowed: 1..{LIMITS.max_d}."))
    d_v = int(c4.number_input("d_v", 1, LIMITS.max_d, 8, key="forms_dv", bind=QP, help=f"Allowed: 1..{LIMITS.max_d}."))
    beta = float(st.slider("β (write strength)", 0.0, 2.0, 1.0, 0.05, key="forms_beta", bind=QP,
                           help="The same β for every token. Delta rules use unit keys, so any β in [0, 2] stays finite."))
    gate = 0.9
    if spec.gate_kind is not None:
        fixed = spec.gate_hparam  # a hyper-parameter fixes this rule's gate (decay's γ): the slider sets that constant
        if fixed is not None:
            label, what = fixed.help or fixed.name, "the constant gate of every step"
        elif spec.gate_kind == "channel":
            label, what = "smallest gate a (a_tj ~ U(a, 1), seeded)", "data-dependent per-channel gates a_tj drawn between this and 1"
        else:
            label, what = "smallest gate α (α_t ~ U(α, 1), seeded)", "data-dependent gates α_t drawn between this and 1"
        gate = float(st.slider(label, 0.5, 1.0, 0.9, 0.01, key="forms_gate", bind=QP, help=f"{spec.title}: {what}."))
    others = [n for n in fwp_core.rule_names() if n not in RULES]
    st.caption(f"Limits: T ≤ {LIMITS.max_T}, d ≤ {LIMITS.max_d}; the matrices show at most the first 128 tokens."
               + (f" The other rules ({', '.join(others)}: no parallel form, or one over sub-steps) can be stepped through "
                  "in the Explorer." if others else ""))

st.latex(r"\text{recurrence: }" + spec.step_latex)
st.latex(r"\text{parallel: }" + spec.parallel_latex)
st.latex(spec.chunked_latex)

C = int(st.slider("chunk size C", 1, max(T, 2), min(4, T), key="forms_C", bind=QP, disabled=T < 2,
                  help="Any C from 1 (pure recurrence) to T (one chunk: pure attention) gives the same outputs."))
try:
    res = lab.forms_result(rule, T, d_k, d_v, seed, beta, gate, C)
except ValueError as exc:
    st.error(f"This configuration cannot run: {exc}")
    st.stop()

# ------------------------------------------------------------------------------------------ outputs
st.subheader("The same outputs, three ways")
outs = {"recurrent": res.recurrent, "parallel": res.parallel, "chunked": res.chunked}
fig = figures.forms_outputs_figure(outs, figures.symmetric_range(*outs.values()))
st.plotly_chart(fig, key="forms_outputs", config=figures.CHART_CONFIG)
caption(f"Y (one row per token) from each form, on one colour scale, chunked with C = {res.chunk_size}: the three pictures "
        "are the same to the last digit, as the differences below say.")
cols = st.columns(3)
for col, (pair, d) in zip(cols, res.diffs.items()):
    col.metric(f"max |difference|: {pair}", f"{d:.1e}")

# ------------------------------------------------------------------------------------------ matrices
st.subheader("Inside the parallel form")
shown = f" (the first {res.panels[0][2].shape[0]} of {T} tokens)" if res.panels[0][2].shape[0] < T else ""
st.plotly_chart(figures.matrices_figure(res.panels), key="forms_matrices", config=figures.CHART_CONFIG)
gamma = " ⊙ Γ" if spec.gate_kind is not None else ""
step = spec.step_symbol  # β, or the step the rule takes in its place (Longhorn's ε_t)
if spec.family == "delta":
    caption(f"The delta rule's attention: the scores QKᵀ ⊙ M{gamma}, the correction T = (I + tril₋₁(diag {step} KKᵀ{gamma}))⁻¹ "
            f"diag {step} that turns values into pseudo-values, and their product — the matrix Y really applies to V{shown}.")
elif spec.family == "additive" and spec.plain_read:
    caption("Additive rules need no correction: Y = A V, with β" + (" and the decay products Γ" if gamma else "")
            + f" folded into the causal attention matrix A{shown}.")
else:
    caption("This rule's parallel form needs no correction: Y = A V, with β" + (", the decay products Γ" if gamma else "")
            + f" and whatever else the rule applies (see the parallel form above) folded into the causal attention matrix A{shown}.")
left, right = st.columns([0.45, 0.55])
with left:
    zv = figures.symmetric_range(*res.values.values())
    st.plotly_chart(figures.values_figure(res.values, zv), key="forms_values", config=figures.CHART_CONFIG)
with right:
    if spec.family == "delta":
        st.markdown(rf"**Pseudo-values.** Row t of U = T V is $u_t = {step}_t \big(v_t - \sum_{{s<t}} (k_t \cdot k_s)\, u_s\big)$"
                    + (" (with decays)" if gamma else "") + ": what the memory did *not* yet hold for k_t, "
                    f"times {step}_t — the delta rule's correction, written as attention. Then Y = (QKᵀ{gamma} ⊙ M) U.")
    else:
        st.markdown("**Values.** This memory needs no correction: every value enters as it is, so Y = A V directly.")
    caption("V and " + ("U on one colour scale: where U differs from V, earlier writes already stored part of v_t."
                        if spec.family == "delta" else "the same V that every form reads."))

# ------------------------------------------------------------------------------------------ chunk sizes
st.subheader("Every chunk size gives the same outputs")
st.plotly_chart(figures.chunk_sizes_figure(res.chunk_sizes, res.chunk_diffs, res.chunk_size), key="forms_chunks",
                config=figures.CHART_CONFIG)
caption(f"max |Y_chunked − Y_recurrent| for {'every C from 1 to T' if T <= 64 else 'chunk sizes from 1 to T'} (the chosen C in "
        "red): all far below 1e-9, i.e. equal up to float64 rounding.")

# ------------------------------------------------------------------------------------------ timing
st.subheader("Measured time on this machine")
st.dataframe(pd.DataFrame({"form": list(lab.FORM_COMPLEXITY), "cost": list(lab.FORM_COMPLEXITY.values())}).set_index("form"),
             width="stretch")
timings = st.session_state.setdefault("forms_timings", {})
if st.button(f"Measure the three forms of {rule} for T = {', '.join(map(str, TIMING_T))}", key="forms_measure",
             help=f"d_k = d_v = {TIMING_D}, C = {TIMING_C}, float32 on the CPU, best of 3 after a warm-up."):
    bar = st.progress(0.0, text="warming up…")
    timings[rule] = lab.time_forms(rule, TIMING_T, d_k=TIMING_D, d_v=TIMING_D, chunk_size=TIMING_C,
                                   progress=lambda f, text: bar.progress(f, text=text))
    bar.empty()
if rule in timings:
    rows = timings[rule]
    st.plotly_chart(figures.timing_figure(rows), key="forms_timing", config=figures.CHART_CONFIG)
    caption(f"Seconds per call (log–log; d = {TIMING_D}, C = {TIMING_C}): the recurrence grows linearly but step by step in "
            "Python, the parallel form grows quadratically (cubically with the delta correction) but in a few large "
            "matrix products, the chunked form stays linear with few sequential steps.")
    tab = pd.DataFrame(rows).pivot(index="T", columns="form", values="seconds")[["recurrent", "parallel", "chunked"]] * 1e3
    st.dataframe(tab, width="stretch", column_config={c: st.column_config.NumberColumn(f"{c} (ms)", format="%.2f") for c in tab.columns})
else:
    st.caption("Press the button to time the forms here; the measurement takes a few seconds.")
