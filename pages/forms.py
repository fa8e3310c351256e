"""Forms: one model, up to four computations — the recurrence, the parallel attention (for gated rules: semiseparable)
matrix, the chunkwise form and, for the rules a Mamba2 head is, the SSM scan. Controls → ``cache.forms_result`` → figures."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import fwp_core
from app import cache, figures, widgets
from app.layout import caption
from app.page_tables import FORMS, FORMS_A_RANGE
from app.state import LIMITS
from fwp_core import forms as core
from fwp_core.experiments import forms as forms_exp

SSM_RULES = core.ssm_rule_names()
TIMING_T = (64, 128, 256, 512, 1024)
TIMING_D = 64
TIMING_C = 64

st.title("Forms")
st.markdown(
    "One model, up to four computations. The **recurrence** updates the fast weights token by token; the **parallel "
    "form** writes the same outputs as one causal attention matrix times (pseudo-)values — for a gated rule a "
    "*semiseparable* matrix; the **chunkwise form** runs the recurrence only between chunks of C tokens and the "
    "attention form inside them; and for the rules a Mamba2 head is (" + ", ".join(SSM_RULES) + ": additive writes, one "
    "scalar gate per token, the plain read — read from the registry) the **SSM scan** runs the head's own recurrence "
    "over its state h on the same inputs translated back. All are computed here in float64 and compared number by number."
)
for w in FORMS.warnings(st.session_state, st.query_params.to_dict()):
    st.warning(w)

with st.sidebar:
    P = FORMS.params()
    RULES = P["forms_rule"].choices
    rule = widgets.select(P["forms_rule"], "Rule", "The rules with a parallel form (and so a chunked one) on this page: "
                          + ", ".join(RULES) + ("; the SSM scan computes " + ", ".join(SSM_RULES) + " too." if SSM_RULES else "."))
    spec = fwp_core.get_spec(rule)
    st.caption(f"**{spec.title}** — *{spec.teaches}*")
    v = {"forms_rule": rule}
    c1, c2 = st.columns(2)
    T = v["forms_T"] = widgets.number(P["forms_T"], "T (tokens)", where=c1)
    seed = v["forms_seed"] = widgets.number(P["forms_seed"], "seed", where=c2)
    c3, c4 = st.columns(2)
    v["forms_dk"] = widgets.number(P["forms_dk"], "d_k", where=c3)
    v["forms_dv"] = widgets.number(P["forms_dv"], "d_v", where=c4)
    P = FORMS.params(v)  # the inputs offered depend on the rule
    choices = core.input_choices(rule)
    inputs = choices[0]
    if len(choices) > 1:
        inputs = v["forms_inputs"] = st.segmented_control(
            "Inputs", choices, default=P["forms_inputs"].default, format_func=core.INPUT_TITLES.get, key="forms_inputs",
            bind=widgets.QP, required=True, help="Mamba2 head: a random head's x, B, C, its step sizes Δ_t and A; β = Δ and "
            "α = exp(ΔA), so the SSM scan computes the same model. Gaussian: β from the slider and gates drawn apart from it — "
            "no single A ties them, so there is no SSM scan.") or choices[0]
    if inputs == "mamba2":
        v["forms_A"] = widgets.slider(P["forms_A"], "A (the head's state matrix)", 0.05, "The head's one negative number: every "
                                      f"gate is α_t = exp(Δ_t A). Allowed: {FORMS_A_RANGE[0]:g}..{FORMS_A_RANGE[1]:g}.")
    else:
        v["forms_beta"] = widgets.slider(P["forms_beta"], "β (write strength)", 0.05, "The same β for every token. Delta rules "
                                         "use unit keys, so any β in [0, 2] stays finite.")
    if spec.gate_kind is not None and inputs != "mamba2":
        fixed = spec.gate_hparam  # a hyper-parameter fixes this rule's gate (decay's γ): the slider sets that constant
        if fixed is not None:
            label, what = fixed.help or fixed.name, "the constant gate of every step"
        elif spec.gate_kind == "channel":
            label, what = "smallest gate a (a_tj ~ U(a, 1), seeded)", "data-dependent per-channel gates a_tj drawn between this and 1"
        else:
            label, what = "smallest gate α (α_t ~ U(α, 1), seeded)", "data-dependent gates α_t drawn between this and 1"
        v["forms_gate"] = widgets.slider(P["forms_gate"], label, 0.01, f"{spec.title}: {what}.")
    others = [n for n in fwp_core.rule_names() if n not in RULES]
    st.caption(f"Limits: T ≤ {LIMITS.max_T}, d ≤ {LIMITS.max_d}; the matrices show at most the first 128 tokens."
               + (f" The other rules ({', '.join(others)}: no parallel form, or one over sub-steps) can be stepped through "
                  "in the Explorer." if others else ""))

st.latex(r"\text{recurrence: }" + spec.step_latex)
st.latex(r"\text{parallel: }" + spec.parallel_latex)
st.latex(spec.chunked_latex)
if rule in SSM_RULES:
    st.latex(r"\text{SSM scan: } h_t = e^{\Delta_t A}\, h_{t-1} + \Delta_t\, x_t B_t^\top,\; y_t = h_t C_t"
             r"\quad(x = v,\ B = k,\ C = q,\ \Delta = \beta,\ e^{\Delta A} = \alpha)")

v["forms_C"] = int(widgets.slider(FORMS.param("forms_C", v), "chunk size C", 1, "Any C from 1 (pure recurrence) to T (one "
                                  "chunk: pure attention) gives the same outputs.", disabled=T < 2))
settings = FORMS.config(v)
try:
    res = cache.forms_result(**settings.run_args())
except ValueError as exc:
    st.error(f"This configuration cannot run: {exc}")
    st.stop()
outs = res.outputs
n_forms = len(outs)
titles = {f: core.FORM_TITLES[f] for f in outs}
tol = core.AGREE * max(1.0, float(abs(res.recurrent).max()) if res.recurrent.size else 1.0)
if res.inputs == "mamba2":
    lo, hi = res.dt_range
    caption(f"Inputs: a random Mamba2 head (seed {seed}) — x, B, C Gaussian, step sizes Δ_t from {lo:.3g} to {hi:.3g} "
            f"(a softplus of a Gaussian, per token) and A = {res.A:g}; the fast weight programmer reads them as v = x, "
            "k = B, q = C, β = Δ and α = exp(ΔA).")

# ------------------------------------------------------------------------------------------ outputs
st.subheader(f"The same outputs, {n_forms} ways")
fig = figures.forms_outputs_figure(outs, figures.symmetric_range(*outs.values()), titles=titles)
st.plotly_chart(fig, key="forms_outputs", config=figures.CHART_CONFIG)
caption(f"Y (one row per token) from each form, on one colour scale, chunked with C = {res.chunk_size}: the {n_forms} "
        f"pictures differ by at most {res.largest:.1e} anywhere, as the table below says pair by pair.")

st.subheader("Every pair of forms")
names = [titles[f] for f in outs]
st.dataframe(pd.DataFrame(res.diff_matrix, index=names, columns=names), width="stretch",
             column_config={c: st.column_config.NumberColumn(c, format="%.1e") for c in names})
agree = "below" if res.largest <= tol else "above"
caption(f"max |Y_a − Y_b| over every token and value dimension, for each pair of the {n_forms} forms: the largest, "
        f"{res.largest:.1e}, is {agree} {core.AGREE:.0e} × max(1, max |y|) = {tol:.1e}"
        + (" — equal up to float64 rounding." if agree == "below" else "."))

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
semisep = next((m["here"] for m in res.mapping if m["role"] == "all tokens at once"), None)
if semisep is not None:
    caption("With a gate this matrix is semiseparable: A_ts = (α_{s+1}⋯α_t) β_s q_t·k_s is the Mamba2 head's SSD matrix "
            f"(L ⊙ C Bᵀ) · diag Δ, L_ts = exp(A(Δ_{{s+1}} + … + Δ_t)); computed both ways they differ by {semisep:.1e}.")
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

# ------------------------------------------------------------------------------------------ SSM
st.subheader("The SSM view: fast weights, linear attention and an SSM are one model")
here = "max |FWP − SSM| here"
table = pd.DataFrame([{"role": m["role"], "fast weight programmer": m["FWP"], "linear attention": m["linear attention"],
                       "Mamba2 (SSM)": m["SSM"], here: m["here"]} for m in res.mapping]).set_index("role")
st.dataframe(table, width="stretch", column_config={here: st.column_config.NumberColumn(here, format="%.1e")})
if res.ssm is not None:
    lo, hi = res.dt_range
    steps = f"one step Δ = {lo:.3g} for every token: a non-selective head" if lo == hi else f"Δ_t from {lo:.3g} to {hi:.3g}"
    worst = max(m["here"] for m in res.mapping)
    caption(f"The SSM scan ran on x = v, B = k, C = q, Δ = β ({steps}) and A = {res.A:.4g}, the one A with "
            f"α_t = exp(Δ_t A) for every token. The last column is measured in this run: W_t against h_t for every t, "
            f"each input, the outputs, and the rule's attention matrix against (L ⊙ C Bᵀ) · diag Δ — at most {worst:.1e}.")
else:
    st.info(f"No SSM scan here: {res.ssm_note}."
            + (" Choose the Mamba2 head inputs in the sidebar to see it." if "mamba2" in core.input_choices(rule) else
               f" The SSM scan computes {', '.join(SSM_RULES)}." if SSM_RULES else ""))
    caption("The names hold for every rule that is a Mamba2 head; the last column is filled in where the SSM scan runs.")

# ------------------------------------------------------------------------------------------ chunk sizes
st.subheader("Every chunk size gives the same outputs")
st.plotly_chart(figures.chunk_sizes_figure(res.chunk_sizes, res.chunk_diffs, res.chunk_size), key="forms_chunks",
                config=figures.CHART_CONFIG)
worst_chunk = float(res.chunk_diffs.max()) if res.chunk_diffs.size else 0.0
caption(f"max |Y_chunked − Y_recurrent| for {'every C from 1 to T' if T <= 64 else 'chunk sizes from 1 to T'} (the chosen C in "
        f"red): the largest is {worst_chunk:.1e}, " + ("below" if worst_chunk <= tol else "above")
        + f" {tol:.1e}" + (", i.e. equal up to float64 rounding." if worst_chunk <= tol else "."))

# ------------------------------------------------------------------------------------------ timing
st.subheader("Measured time on this machine")
forms = forms_exp.forms_of(rule)
st.dataframe(pd.DataFrame({"form": list(forms), "cost": [forms_exp.FORM_COMPLEXITY[f] for f in forms]}).set_index("form"),
             width="stretch")
timings = st.session_state.setdefault("forms_timings", {})
if st.button(f"Measure the {len(forms)} forms of {rule} for T = {', '.join(map(str, TIMING_T))}", key="forms_measure",
             help=f"d_k = d_v = {TIMING_D}, C = {TIMING_C}, float32 on the CPU, best of 3 after a warm-up"
                  + (", on the rule's first inputs (" + core.INPUT_TITLES[core.input_choices(rule)[0]] + ")." if "ssm" in forms else ".")):
    bar = st.progress(0.0, text="warming up…")
    timings[rule] = forms_exp.time_forms(rule, TIMING_T, d_k=TIMING_D, d_v=TIMING_D, chunk_size=TIMING_C,
                                   progress=lambda f, text: bar.progress(f, text=text))
    bar.empty()
if rule in timings:
    rows = timings[rule]
    st.plotly_chart(figures.timing_figure(rows), key="forms_timing", config=figures.CHART_CONFIG)
    caption(f"Seconds per call (log–log; d = {TIMING_D}, C = {TIMING_C}): the recurrence grows linearly but step by step in "
            "Python, the parallel form grows quadratically (cubically with the delta correction) but in a few large "
            "matrix products, the chunked form stays linear with few sequential steps"
            + ("; the SSM scan is the recurrence again, token by token over h." if "ssm" in forms else "."))
    tab = pd.DataFrame(rows).pivot(index="T", columns="form", values="seconds")[list(dict.fromkeys(r["form"] for r in rows))] * 1e3
    st.dataframe(tab, width="stretch", column_config={c: st.column_config.NumberColumn(f"{c} (ms)", format="%.2f") for c in tab.columns})
else:
    st.caption("Press the button to time the forms here; the measurement takes a few seconds.")
