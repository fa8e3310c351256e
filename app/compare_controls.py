"""The Compare page's sidebar: one block of controls per compared rule, the sequence and sizes (every control from
the page's parameter table, ``page_tables.COMPARE``), and the callbacks of its preset, reset and fix buttons."""

from __future__ import annotations

from typing import Any

import streamlit as st

import fwp_core
from fwp_core.experiments import compare

from . import cache, widgets
from .compare_presets import preset_values
from .page_tables import COMPARE, slot_key
from .state import LIMITS, QP


def apply_preset(name: str) -> None:
    """Every control of the page to the preset's values (the URL follows)."""
    values, defaults = preset_values(name)
    st.session_state["cmp_playing"] = False
    widgets.set_bound(values, defaults)


def fix_slot(i: int) -> None:
    st.session_state[f"cmp{i}_normalize"] = "l2"
    st.session_state[f"cmp{i}_beta"] = min(float(st.session_state.get(f"cmp{i}_beta", 1.0)), 1.0)


def slot_controls(i: int, P: dict, sequence: str) -> dict[str, Any]:
    """Rule i's controls; returns their URL names → values."""
    rule = widgets.select(P[f"cmp{i}_rule"], f"Rule {i}", "Any registered update rule.", on_change=widgets.reset_hparams,
                          args=(f"cmp{i}_rule", slot_key(i)))
    spec = fwp_core.get_spec(rule)
    v: dict[str, Any] = {f"cmp{i}_rule": rule}
    with st.expander(f"settings of rule {i}", expanded=False):
        st.caption(f"**{spec.title}** — *{spec.teaches}*")
        v.update(widgets.hparam_controls(rule, slot_key(i)))
        v[f"cmp{i}_beta"] = widgets.slider(P[f"cmp{i}_beta"], "β (write strength)", 0.05, widgets.BETA_HELP)
        v[f"cmp{i}_sched"] = widgets.segmented(P[f"cmp{i}_sched"], "β schedule", widgets.SCHEDULE_HELP)
        source = fwp_core.sequences.SOURCES.get(sequence)
        v[f"cmp{i}_gate"] = widgets.gate_slider(spec, P[f"cmp{i}_gate"], own_gate=source.own_gate if source else "")
    return v


def controls() -> compare.CompareConfig:
    P = COMPARE.params()
    n = widgets.number(P["cmp_n"], "Number of rules",
                       f"Compare 2 to {compare.MAX_RULES} rules; the same rule may appear twice with other settings.")
    # the sequence picker comes below: its value from the session, or the URL on a first run
    raw_seq = st.session_state.get("cmp_seq") or st.query_params.get("cmp_seq")
    seq_now = raw_seq if raw_seq in P["cmp_seq"].choices else P["cmp_seq"].default
    v: dict[str, Any] = {"cmp_n": n}
    for i in range(1, n + 1):
        v.update(slot_controls(i, P, seq_now))
    v["cmp_softmax"] = st.toggle("Add softmax attention (baseline)", key="cmp_softmax", bind=QP,
                                 help="Not a fast weight programmer: its memory is the growing cache of all keys and values.")
    if v["cmp_softmax"]:
        v["cmp_sm_scale"] = widgets.number(P["cmp_sm_scale"], "softmax scale", "Multiplies q·k before the softmax; larger = a sharper lookup.")
    st.divider()
    seq = v["cmp_seq"] = widgets.select(P["cmp_seq"], "Sequence", widgets.sequence_help())
    if seq == "correlated":
        v["cmp_rho"] = widgets.slider(P["cmp_rho"], "Key cosine ρ", 0.01)
    if seq == "text":
        v["cmp_text"] = st.text_area("Sentence", value=P["cmp_text"].default, key="cmp_text", bind=QP, max_chars=P["cmp_text"].max_len)
    c1, c2 = st.columns(2)
    v["cmp_T"] = widgets.number(P["cmp_T"], "T (tokens)", where=c1)
    v["cmp_seed"] = widgets.number(P["cmp_seed"], "seed", where=c2)
    c3, c4 = st.columns(2)
    v["cmp_dk"] = widgets.number(P["cmp_dk"], "d_k", where=c3)
    v["cmp_dv"] = widgets.number(P["cmp_dv"], "d_v", where=c4)
    st.caption(f"Limits: T ≤ {LIMITS.max_T}, d ≤ {LIMITS.max_d}, 2 to {compare.MAX_RULES} rules; all rules together keep at "
               f"most {cache.MAX_COMPARE_FLOATS / 1e6:.0f} M fast-weight numbers (two rules at the largest T and d).")
    return COMPARE.config(v)
