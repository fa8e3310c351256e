"""The Compare page's sidebar: its URL parameter table, one block of controls per compared rule, the sequence and
sizes, and the callbacks of its preset, reset and fix buttons."""

from __future__ import annotations

from fwp_core.experiments import compare
from . import cache

import streamlit as st

import fwp_core
from fwp_core.registry import resolve_hparams
from fwp_core.sequences import SOURCES

from . import state, widgets
from .compare_presets import DEFAULT, DEFAULT_RULES, preset_values
from .state import LIMITS, QP, Param

SEQUENCES = list(SOURCES)


def params() -> dict[str, Param]:
    """The page's URL parameters, built at each run: the rule choices follow the registry as it is now (a rule
    registered after import is offered too)."""
    rules = tuple(fwp_core.rule_names())
    return {
        p.name: p
        for p in (
            Param("cmp_n", "int", 2, 2, compare.MAX_RULES),
            Param("cmp_seq", "choice", DEFAULT.sequence, choices=tuple(SEQUENCES)),
            Param("cmp_T", "int", DEFAULT.T, 1, LIMITS.max_T),
            Param("cmp_dk", "int", DEFAULT.d_k, 1, LIMITS.max_d),
            Param("cmp_dv", "int", DEFAULT.d_v, 1, LIMITS.max_d),
            Param("cmp_seed", "int", 0, 0, 2**31 - 1),
            Param("cmp_t", "int", DEFAULT.T, 1, LIMITS.max_T),
            *(Param(f"cmp{i}_rule", "choice", DEFAULT_RULES[i - 1], choices=rules) for i in range(1, 5)),
            *(Param(f"cmp{i}_beta", "float", 1.0, 0.0, 3.0) for i in range(1, 5)),
        )
    }


def apply_preset(name: str) -> None:
    """Every control of the page to the preset's values (the URL follows)."""
    values, defaults = preset_values(name)
    st.session_state["cmp_playing"] = False
    widgets.set_bound(values, defaults)


def reset_slot(i: int) -> None:
    """A new rule in slot i starts from that rule's defaults."""
    rule = st.session_state[f"cmp{i}_rule"]
    for h in fwp_core.get_spec(rule).all_hparams():
        st.session_state[f"cmp{i}_{h.name}"] = h.default


def fix_slot(i: int) -> None:
    st.session_state[f"cmp{i}_normalize"] = "l2"
    st.session_state[f"cmp{i}_beta"] = min(float(st.session_state.get(f"cmp{i}_beta", 1.0)), 1.0)


def slot_controls(i: int) -> compare.Slot:
    rules = fwp_core.rule_names()
    rule = st.selectbox(f"Rule {i}", rules, index=rules.index(DEFAULT_RULES[i - 1]), key=f"cmp{i}_rule", bind=QP,
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
    return compare.Slot(rule=rule, hparams=tuple(sorted(resolved.items())), beta=float(beta), schedule=schedule or "constant",
                    gate=float(gate))


def controls() -> compare.CompareConfig:
    n = int(st.number_input("Number of rules", 2, compare.MAX_RULES, 2, key="cmp_n", bind=QP,
                            help=f"Compare 2 to {compare.MAX_RULES} rules; the same rule may appear twice with other settings."))
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
    st.caption(f"Limits: T ≤ {LIMITS.max_T}, d ≤ {LIMITS.max_d}, 2 to {compare.MAX_RULES} rules; all rules together keep at "
               f"most {cache.MAX_COMPARE_FLOATS / 1e6:.0f} M fast-weight numbers (two rules at the largest T and d).")
    return compare.CompareConfig(slots=slots, sequence=seq, T=T, d_k=d_k, d_v=d_v, seed=seed, rho=float(rho), text=text,
                             softmax=bool(softmax), softmax_scale=scale)
