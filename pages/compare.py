"""Compare: 2 to 4 rules (and optionally softmax attention) on the same sequence, stepped together by one t."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import fwp_core
from app import cache, figures, lessons, stepper
from app.compare_controls import apply_preset, controls, fix_slot
from app.compare_presets import PRESETS, preset_values
from app.layout import caption, guarded, projecting
from app.lessons.readout import lesson_readout
from app.page_tables import COMPARE
from fwp_core.experiments import compare
from app.stepper import follow_url, play_settings, play_tick, step_controls

SESSION = stepper.KeyedSession(st.session_state, {"t": "cmp_t", "playing": "cmp_playing", "_play_tick": "_cmp_play_tick",
                                             "speed": "cmp_speed"})

st.title("Compare")
st.caption("Several rules on the same sequence, stepped together by one t (← / → keys, the buttons, the scrubber or Play)."
           + ("" if projecting() else " Every rule's settings are in the sidebar; everything lives in the URL."))
for w in COMPARE.warnings(st.session_state, st.query_params.to_dict()):
    st.warning(w)

cols = st.columns(len(PRESETS))
for col, (name, p) in zip(cols, PRESETS.items()):
    col.button(p.title, key=f"cmp_preset_{name}", on_click=apply_preset, args=(name,), width="stretch", help=p.summary)

with st.sidebar:
    cfg = controls()

for name, p in PRESETS.items():
    if cfg == p.cfg:
        st.info(f"**{p.title}.** " + lessons.fill(p.text, lessons.evaluate("compare", preset_values(name)[0], lessons.placeholder_names(p.text))))
        break

try:
    res = cache.compare_result(cfg)
except ValueError as exc:
    st.error(f"This comparison cannot run: {exc}")
    st.stop()

T = res.T
colors = {run.label: figures.RULE_COLORS[i % len(figures.RULE_COLORS)] for i, run in enumerate(res.runs)}
for i, run in enumerate(res.runs, start=1):
    if run.diverged_at is not None:
        lam = run.metrics["max |λ|"]
        why = f" (here max |λ| = {lam:.3g})" if lam is not None else ""
        st.warning(f"**{run.label}** blew up at step {run.diverged_at} (its fast weights became non-finite or exploded): its "
                   f"curves are cut there and its W is shown at its last finite step, {run.diverged_at - 1}. A transition "
                   f"eigenvalue beyond ±1{why} makes every such write multiply part of the memory by more than 1; unit "
                   "keys and β ≤ 1 keep it bounded.")
        st.button(f"Fix {run.label}: normalise keys (l2) and use β ≤ 1", key=f"cmp_fix_{i}", on_click=fix_slot, args=(i,))

playing, speed = play_settings(SESSION)
follow_url(SESSION, "cmp_t")
dark = st.context.theme.type == "dark"  # the stepper's charts are self-styled (figures.page_spec), light or dark


def _num(x: float) -> str:
    return "diverged" if not np.isfinite(x) else f"{x:.4g}"


def local_objective_table(t: int) -> pd.DataFrame | None:
    """One row per compared rule that names a local objective (``RuleSpec.objective``): ℓ_t's form, the kind of step,
    ℓ_t(W_{t−1}), ℓ_t(W_t) and the change at step t, live (``cache.local_losses``). None where no rule names one."""
    rows = []
    for run, slot in zip(res.runs, cfg.slots):
        spec = fwp_core.get_spec(run.rule)
        loc = None if spec.objective is None else cache.local_losses(cfg.explorer_config(slot))
        if loc is None:
            continue
        before, after = float(loc.before[t - 1]), float(loc.after[t - 1])
        rows.append({"rule": run.label, "ℓ_t(W)": spec.objective.loss, "step": spec.objective.kind,
                     "ℓ_t(W_{t−1})": _num(before), "ℓ_t(W_t)": _num(after),
                     "change": "diverged" if not np.isfinite(after - before) else f"{after - before:+.4g}"})
    return pd.DataFrame(rows) if rows else None


@st.fragment(run_every=1.0 / speed if playing else None)
@guarded
def stepper() -> None:
    play_tick(SESSION, T, playing, speed, url_t="cmp_t")
    # the default view is the end of the sequence; a link's cmp_t is taken on a first visit
    t = step_controls(SESSION, T, url_t="cmp_t", prefix="cmp_", default_t=T, play_help="Advance all rules together at the chosen speed.")
    tok = res.tokens[t - 1] if t - 1 < len(res.tokens) else str(t)
    st.markdown(f"**Token {t}: `{tok}`**")
    lesson_readout("compare")  # the numbers an open lesson step quotes, at this t

    panels = []
    for run in res.runs:
        if run.weights is None:
            panels.append((run.label, None, f"{run.label}"))
            continue
        tv = min(t, run.valid)
        title = f"{run.label}: W<sub>{tv}</sub>" if tv == t else f"{run.label}: diverged at {run.diverged_at}, W<sub>{tv}</sub>"
        if run.diverged_at is not None:
            title += " (saturates)"
        panels.append((run.label, run.weights[tv], title))
    fig_w = figures.compare_weights_figure(panels, res.zmax, colors=list(colors.values()))
    st.plotly_chart(figures.page_spec(fig_w, dark), key="cmp_weights", theme=None, config=figures.CHART_CONFIG)
    caption("The fast weights of every rule after step t, on one colour scale shared by all rules and all steps: where the "
            "rules write the same token differently, their memories part ways (a rule that blows up saturates the scale).")

    m = st.columns(len(res.runs))
    for col, run in zip(m, res.runs):
        e = run.retrieval_error[t - 1]
        col.metric(f"{run.label}: retrieval error at t", "diverged" if not np.isfinite(e) else f"{float(e):.4f}")

    local = local_objective_table(t)
    if local is not None:
        st.table(local, hide_index=True)
        caption("Each write is one step on a local objective: ℓ_t(W) fits the new pair (k_t, v_t), the kind of step says "
                "how the rule trades that against staying close to its old memory. Before: ℓ_t of the memory W_{t−1}; "
                "after: of W_t; a positive change means the write made the fit of its own pair worse.")

    fig_e = figures.retrieval_error_figure(
        {run.label: run.retrieval_error[: run.valid] for run in res.runs}, t, T=T,
        diverged_at={run.label: run.diverged_at for run in res.runs}, as_spec=True,
    )
    st.plotly_chart(figures.page_spec(fig_e, dark), key="cmp_retrieval", theme=None, config=figures.CHART_CONFIG)
    caption("How wrong each memory was about the key of step t just before writing it (softmax reads its cache of earlier "
            "tokens); a dotted line marks where a rule diverged.")

    # a rule that has diverged by step t has no memory left to read
    recall = {run.label: compare.recall_at(run, t) for run in res.runs if run.diverged_at is None or t < run.diverged_at}
    fig_r = figures.recall_errors_figure(recall, t, T, colors=colors)
    st.plotly_chart(figures.page_spec(fig_r, dark), key="cmp_recall", theme=None, config=figures.CHART_CONFIG)
    caption("Every pair still stored after step t, read back from the memory: 0 is perfect, 1 is what an empty memory "
            "returns (forgotten), above 1 is worse than forgetting: crosstalk. Overwritten pairs and β = 0 reads are left out.")


stepper()

st.subheader("Metrics per rule (after the whole sequence)")
rows = []
for run in res.runs:
    row = {"rule": run.label, **run.metrics}
    if run.diverged_at is not None:
        row.update({"final recall error (relative)": None, "‖W_T‖_F": None, "effective rank": None})
    rows.append(row)
table = pd.DataFrame(rows)
num = st.column_config.NumberColumn
st.dataframe(table, width="stretch", hide_index=True, column_config={
    "rule": st.column_config.TextColumn(width="medium", pinned=True),
    "mean retrieval error": num(format="%.4f", help="mean over steps of ‖v_t − r_t‖, r_t the rule's read with φ(k_t) before "
                                "the write (W_{t−1}φ(k_t); linear attention divides by z_{t−1}ᵀφ(k_t) + ε)"),
    "final recall error (relative)": num(format="%.4f", help="mean over the stored pairs of ‖v_i − read_T(φ(k_i))‖ / ‖v_i‖, the rule's "
                                         "own read of the final memory: "
                                         "0 = perfect, 1 = what an empty memory returns"),
    "‖W_T‖_F": num(format="%.4f"), "effective rank": num(format="%.2f", help="exp(entropy of the normalised singular values)"),
    "min Re λ": num(format="%.3f", help=f"smallest real part of a transition eigenvalue (≤ {compare.MAX_EIG_STEPS} steps sampled)"),
    "max |λ|": num(format="%.3f", help="largest |eigenvalue| of a step's transition: above 1 the memory grows"),
})
caption("Lower recall error is a better memory; min Re λ < 0 means some writes flip part of the memory; empty cells do not "
        "apply (softmax has no fixed-size W) or belong to a run that diverged.")
