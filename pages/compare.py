"""Compare: 2 to 4 rules (and optionally softmax attention) on the same sequence, stepped together by one t."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import fwp_core
from app import compute, figures, lab, lessons, state, widgets
from app.compare_presets import DEFAULT, DEFAULT_RULES, PRESETS, preset_values
from app.layout import caption, guarded
from app.stepper import follow_url, play_settings, play_tick, step_controls
from app.state import LIMITS, QP, Param
from fwp_core.registry import resolve_hparams
from fwp_core.sequences import SOURCES

RULES = fwp_core.rule_names()
SEQUENCES = list(SOURCES)
SESSION = lab.KeyedSession(st.session_state, {"t": "cmp_t", "playing": "cmp_playing", "_play_tick": "_cmp_play_tick",
                                             "speed": "cmp_speed"})



PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("cmp_n", "int", 2, 2, lab.MAX_COMPARE_RULES),
        Param("cmp_seq", "choice", DEFAULT.sequence, choices=tuple(SEQUENCES)),
        Param("cmp_T", "int", DEFAULT.T, 1, LIMITS.max_T),
        Param("cmp_dk", "int", DEFAULT.d_k, 1, LIMITS.max_d),
        Param("cmp_dv", "int", DEFAULT.d_v, 1, LIMITS.max_d),
        Param("cmp_seed", "int", 0, 0, 2**31 - 1),
        Param("cmp_t", "int", DEFAULT.T, 1, LIMITS.max_T),
        *(Param(f"cmp{i}_rule", "choice", DEFAULT_RULES[i - 1], choices=tuple(RULES)) for i in range(1, 5)),
        *(Param(f"cmp{i}_beta", "float", 1.0, 0.0, 3.0) for i in range(1, 5)),
    )
}


def apply_preset(name: str) -> None:
    """Every control of the page to the preset's values (the URL follows)."""
    values, defaults = preset_values(name)
    st.session_state["cmp_playing"] = False
    lab.set_bound(values, defaults)


def reset_slot(i: int) -> None:
    """A new rule in slot i starts from that rule's defaults."""
    rule = st.session_state[f"cmp{i}_rule"]
    for h in fwp_core.get_spec(rule).all_hparams():
        st.session_state[f"cmp{i}_{h.name}"] = h.default


def fix_slot(i: int) -> None:
    st.session_state[f"cmp{i}_normalize"] = "l2"
    st.session_state[f"cmp{i}_beta"] = min(float(st.session_state.get(f"cmp{i}_beta", 1.0)), 1.0)


def slot_controls(i: int) -> lab.Slot:
    rule = st.selectbox(f"Rule {i}", RULES, index=RULES.index(DEFAULT_RULES[i - 1]), key=f"cmp{i}_rule", bind=QP,
                        on_change=reset_slot, args=(i,), help="Any registered update rule.")
    spec = fwp_core.get_spec(rule)
    common = {h.name: h for h in spec.all_hparams()}
    hp: dict = {}
    with st.expander(f"settings of rule {i}", expanded=False):
        st.caption(f"**{spec.title}** — *{spec.teaches}*")
        hp["feature_map"] = widgets.hparam_input(common["feature_map"], f"cmp{i}_feature_map")
        hp["normalize"] = widgets.hparam_input(common["normalize"], f"cmp{i}_normalize")
        for h in spec.hparams:
            hp[h.name] = widgets.hparam_input(h, f"cmp{i}_{h.name}")
        if hp["feature_map"] == "dpfp":
            hp["nu"] = widgets.hparam_input(common["nu"], f"cmp{i}_nu")
        if hp["feature_map"] == "favor":
            hp["m"] = widgets.hparam_input(common["m"], f"cmp{i}_m")
            hp["seed"] = widgets.hparam_input(common["seed"], f"cmp{i}_seed")
        hp["scale"] = widgets.hparam_input(common["scale"], f"cmp{i}_scale")
        beta = st.slider("β (write strength)", 0.0, 3.0, 1.0, 0.05, key=f"cmp{i}_beta", bind=QP,
                         help=widgets.BETA_HELP)
        schedule = st.segmented_control("β schedule", list(state.BETA_SCHEDULES), default="constant", key=f"cmp{i}_sched",
                                        bind=QP, required=True, help="constant β, a ramp β·t/T, or seeded random values in [0, β]")
        # the sequence picker comes below: its value from the session, or the URL on a first run
        source = SOURCES.get(st.session_state.get("cmp_seq") or st.query_params.get("cmp_seq", DEFAULT.sequence))
        gate = widgets.gate_slider(spec, f"cmp{i}_gate", own_gate=source.own_gate if source else "")
    try:
        resolved = resolve_hparams(rule, **hp)
    except ValueError as exc:
        st.error(f"Rule {i}: {exc}")
        resolved = resolve_hparams(rule)
    return lab.Slot(rule=rule, hparams=tuple(sorted(resolved.items())), beta=float(beta), schedule=schedule or "constant",
                    gate=float(gate))


def controls() -> lab.CompareConfig:
    n = int(st.number_input("Number of rules", 2, lab.MAX_COMPARE_RULES, 2, key="cmp_n", bind=QP,
                            help=f"Compare 2 to {lab.MAX_COMPARE_RULES} rules; the same rule may appear twice with other settings."))
    slots = tuple(slot_controls(i) for i in range(1, n + 1))
    softmax = st.toggle("Add softmax attention (baseline)", key="cmp_softmax", bind=QP,
                        help="Not a fast weight programmer: its memory is the growing cache of all keys and values.")
    scale = 10.0
    if softmax:
        scale = float(st.number_input("softmax scale", 0.1, 1000.0, 10.0, key="cmp_sm_scale", bind=QP,
                                      help="Multiplies q·k before the softmax; larger = a sharper lookup."))
    st.divider()
    seq = st.selectbox("Sequence", SEQUENCES, index=SEQUENCES.index(DEFAULT.sequence), key="cmp_seq", bind=QP,
                       help="; ".join(f"{n}: {s.help}" for n, s in SOURCES.items()))
    rho, text = 0.5, ""
    if seq == "correlated":
        rho = st.slider("Key cosine ρ", 0.0, 0.99, 0.5, 0.01, key="cmp_rho", bind=QP)
    if seq == "text":
        text = st.text_area("Sentence", value=state.EXPLORER_PARAMS["text"].default, key="cmp_text", bind=QP,
                            max_chars=LIMITS.max_text_chars)
    c1, c2 = st.columns(2)
    T = int(c1.number_input("T (tokens)", 1, LIMITS.max_T, DEFAULT.T, key="cmp_T", bind=QP, help=f"Allowed: 1..{LIMITS.max_T}."))
    seed = int(c2.number_input("seed", 0, 2**31 - 1, 0, key="cmp_seed", bind=QP))
    c3, c4 = st.columns(2)
    d_k = int(c3.number_input("d_k", 1, LIMITS.max_d, DEFAULT.d_k, key="cmp_dk", bind=QP, help=f"Allowed: 1..{LIMITS.max_d}."))
    d_v = int(c4.number_input("d_v", 1, LIMITS.max_d, DEFAULT.d_v, key="cmp_dv", bind=QP, help=f"Allowed: 1..{LIMITS.max_d}."))
    st.caption(f"Limits: T ≤ {LIMITS.max_T}, d ≤ {LIMITS.max_d}, 2 to {lab.MAX_COMPARE_RULES} rules; all rules together keep at "
               f"most {lab.MAX_COMPARE_FLOATS / 1e6:.0f} M fast-weight numbers (two rules at the largest T and d).")
    return lab.CompareConfig(slots=slots, sequence=seq, T=T, d_k=d_k, d_v=d_v, seed=seed, rho=float(rho), text=text,
                             softmax=bool(softmax), softmax_scale=scale)


st.title("Compare")
st.caption("Several rules on the same sequence, stepped together by one t (← / → keys, the buttons, the scrubber or Play). "
           "Every rule's settings are in the sidebar; everything lives in the URL.")
if "_url_warnings_compare" not in st.session_state:
    st.session_state["_url_warnings_compare"] = state.parse_query(st.query_params.to_dict(), PARAMS).warnings
for w in st.session_state["_url_warnings_compare"]:
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
    res = lab.compare_result(cfg)
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
    ℓ_t(W_{t−1}), ℓ_t(W_t) and the change at step t, live (``compute.local_losses``). None where no rule names one."""
    rows = []
    for run, slot in zip(res.runs, cfg.slots):
        spec = fwp_core.get_spec(run.rule)
        loc = None if spec.objective is None else compute.local_losses(cfg.explorer_config(slot))
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
    recall = {run.label: lab.recall_at(run, t) for run in res.runs if run.diverged_at is None or t < run.diverged_at}
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
    "min Re λ": num(format="%.3f", help=f"smallest real part of a transition eigenvalue (≤ {lab.MAX_EIG_STEPS} steps sampled)"),
    "max |λ|": num(format="%.3f", help="largest |eigenvalue| of a step's transition: above 1 the memory grows"),
})
caption("Lower recall error is a better memory; min Re λ < 0 means some writes flip part of the memory; empty cells do not "
        "apply (softmax has no fixed-size W) or belong to a run that diverged.")
