"""Pickers generated from the registries: rules, hyper-parameters, sequences. Every widget is bound to
the URL (``bind="query-params"``) under the names of ``app.state``, so a link reproduces the view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

import fwp_core
from fwp_core.registry import HParam
from fwp_core.sequences import SOURCES

from fwp_core.experiments.explorer import ExplorerConfig, available_devices, digest

from .state import BETA_SCHEDULES, EXPLORER_PARAMS, LIMITS, QP, SEQUENCE_CHOICES


BETA_HELP = ("Delta-type rules with unit keys: the transition I − β k kᵀ has eigenvalues 1 and 1 − β, so β ∈ (0, 1) keeps "
             "them positive, β up to 2 reaches −1 (a full reflection at β = 2) and β > 2 makes the state grow. Additive "
             "rules only scale their writes by β.")

def _reset_hparams() -> None:
    """When the rule changes, its hyper-parameter widgets start from that rule's defaults."""
    spec = fwp_core.get_spec(st.session_state["rule"])
    for h in spec.all_hparams():
        st.session_state[h.name] = h.default


def rule_picker(label: str = "Update rule", key: str = "rule") -> str:
    names = fwp_core.rule_names()
    default = EXPLORER_PARAMS["rule"].default
    return st.selectbox(
        label, names, index=names.index(default), key=key, bind=QP, on_change=_reset_hparams,
        help="The fast-weight update rule; every rule of fwp_core's registry is here.",
    )


def hparam_input(h: HParam, key: str) -> Any:
    """One control for one registry hyper-parameter, with its allowed range, bound to the URL as ``key``."""
    help_text = f"{h.help} — allowed: {h.allowed()}"
    if h.kind == "choice":
        return st.selectbox(h.name, list(h.choices), index=h.choices.index(h.default), key=key, bind=QP, help=help_text)
    lo, hi = h.low, h.high
    if h.kind == "int":
        return int(st.number_input(h.name, min_value=None if lo is None else int(lo), max_value=None if hi is None else int(hi),
                                   value=int(h.default), step=1, key=key, bind=QP, help=help_text))
    if h.low_open and lo is not None:
        lo = lo + 1e-6
    if h.high_open and hi is not None:
        hi = hi - 1e-6
    return float(st.number_input(h.name, min_value=lo, max_value=hi, value=float(h.default), key=key, bind=QP, format="%.6g",
                                 help=help_text))


def hparam_controls(rule: str) -> dict[str, Any]:
    """The rule's hyper-parameters; FAVOR+ (orthogonal positive random features) and DPFP settings appear only for those feature maps."""
    spec = fwp_core.get_spec(rule)
    values: dict[str, Any] = {}
    common = {h.name: h for h in spec.all_hparams()}
    values["feature_map"] = hparam_input(common["feature_map"], "feature_map")
    values["normalize"] = hparam_input(common["normalize"], "normalize")
    for h in spec.hparams:
        values[h.name] = hparam_input(h, h.name)
    with st.expander("Feature-map details", expanded=False):
        if values["feature_map"] == "dpfp":
            values["nu"] = hparam_input(common["nu"], "nu")
        if values["feature_map"] == "favor":
            values["m"] = hparam_input(common["m"], "m")
            values["seed"] = hparam_input(common["seed"], "fm_seed")
        values["scale"] = hparam_input(common["scale"], "scale")
    return values


def gate_slider(spec: fwp_core.RuleSpec, key: str, own_gate: str = "") -> float:
    """The constant gate α for a rule whose gate no hyper-parameter fixes (``RuleSpec.needs_gate``); otherwise no
    control, and the default (unused: such a rule decays by its own hyper-parameter, or not at all). ``own_gate``:
    what the sequence's own gate is, where it brings one; the slider is then shown disabled (the run uses that gate)."""
    default = float(EXPLORER_PARAMS["gate"].default)
    if not spec.needs_gate:
        return default
    per_channel = " (per channel: a ramp from α to 1 across φ's channels)" if spec.gate_kind == "channel" else ""
    help_text = (f"Not used: the sequence brings its own gate α_t = {own_gate}." if own_gate
                 else f"Decay applied at every step{per_channel}.")
    return float(st.slider("gate α", 0.0, 1.0, default, 0.01, key=key, bind=QP, disabled=bool(own_gate), help=help_text))


def _int_param(label: str, name: str, help_text: str, max_value: int | None = None) -> int:
    p = EXPLORER_PARAMS[name]
    hi = int(p.high) if max_value is None else max_value
    return int(st.number_input(label, min_value=int(p.low), max_value=hi, value=min(int(p.default), hi), step=1,
                               key=name, bind=QP, help=f"{help_text} Allowed: {int(p.low)}..{hi}."))


def explorer_controls() -> tuple[ExplorerConfig, tuple[str, bytes] | None]:
    """The Explorer's sidebar: rule, hyper-parameters, sequence, sizes, β, gate, device."""
    rule = rule_picker()
    spec = fwp_core.get_spec(rule)
    st.caption(f"**{spec.title}** — *{spec.teaches}*")
    hp = hparam_controls(rule)
    st.divider()
    seq = st.selectbox(
        "Sequence", list(SEQUENCE_CHOICES), index=SEQUENCE_CHOICES.index(EXPLORER_PARAMS["sequence"].default), key="sequence",
        bind=QP, help="Where keys, values and queries come from: "
        + "; ".join(f"{n}: {s.help}" for n, s in SOURCES.items()) + "; upload: your own CSV / NPZ arrays.",
    )
    upload = None
    text = EXPLORER_PARAMS["text"].default
    rho = EXPLORER_PARAMS["rho"].default
    if seq == "text":
        text = st.text_area("Sentence", value=text, key="text", bind=QP, max_chars=LIMITS.max_text_chars,
                            help="Each token gets a fixed seeded embedding; projections make k, v, q.")
    if seq == "correlated":
        rho = st.slider("Key cosine ρ", 0.0, 0.99, float(rho), 0.01, key="rho", bind=QP)
    if seq == "upload":
        f = st.file_uploader("CSV or NPZ with arrays k, v (and optional q, beta, gate)", type=["csv", "npz"], key="upload",
                             help=f"At most {LIMITS.max_upload_bytes // 1_000_000} MB, T ≤ {LIMITS.max_T}, d ≤ {LIMITS.max_d}. "
                                  "CSV columns: k0.., v0.., optional q0.., beta, gate. NPZ: plain arrays only (never unpickled).")
        if f is not None:
            upload = (f.name, f.getvalue())
    c1, c2 = st.columns(2)
    with c1:
        T = _int_param("T (tokens)", "T", "Sequence length.", LIMITS.max_T)
    with c2:
        seed = _int_param("seed", "seed", "Seed of the episode.")
    c3, c4 = st.columns(2)
    with c3:
        d_k = _int_param("d_k", "d_k", "Key dimension.")
    with c4:
        d_v = _int_param("d_v", "d_v", "Value dimension.")
    source = SOURCES.get(seq)
    if source is not None and source.max_T_is_d_k and T > d_k:
        st.info(f"{source.title} need T ≤ d_k: T = d_k = {d_k} is used (raise d_k for a longer sequence).")
        T = d_k
    beta = st.slider("β (write strength)", 0.0, 3.0, float(EXPLORER_PARAMS["beta"].default), 0.05, key="beta", bind=QP,
                     help=BETA_HELP)
    schedule = st.segmented_control("β schedule", list(BETA_SCHEDULES), default="constant", key="schedule", bind=QP,
                                    required=True, help="constant β, a ramp β·t/T, or seeded random values in [0, β]")
    own_gate = source.own_gate if source is not None and spec.gate_kind is not None else ""
    gate = gate_slider(spec, "gate", own_gate)
    if own_gate:
        st.caption(f"{source.title}: every gate is the sequence's own α_t = {own_gate}"
                   + (f", in place of {spec.gate_hparam.name}" if spec.gate_hparam is not None else "")
                   + "; the β slider multiplies the sequence's own β_t, so a constant β = 1 runs the sequence as it is.")
    devices = available_devices()
    device = st.radio("Device", devices, horizontal=True, key="device", help="CUDA appears when a GPU is present.") if len(devices) > 1 else "cpu"
    cfg = ExplorerConfig(
        rule=rule, hparams=tuple(sorted(hp.items())), sequence=seq, T=T, d_k=d_k, d_v=d_v, seed=seed, beta=float(beta),
        schedule=schedule or "constant", gate=gate, rho=float(rho), text=text, device=device,
        upload_digest=digest(upload[1]) if upload else "",
    )
    return cfg, upload


def _url_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def set_bound(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Set URL-bound widgets from a callback (a preset), so that the link follows.

    Streamlit writes a programmatic value to the URL only for a widget that existed in the previous run;
    a preset that also adds widgets (a third rule, a γ control) would leave those out of the link. So
    each value goes into the session state and, where no widget is bound to its key yet, into the URL
    directly (omitted where it equals the widget's default, as Streamlit does)."""
    for key, value in values.items():
        st.session_state[key] = value
        try:
            if key in defaults and defaults[key] == value:
                if key in st.query_params:
                    del st.query_params[key]
            else:
                st.query_params[key] = _url_text(value)
        except StreamlitAPIException:
            pass  # bound to a widget of the last run: Streamlit syncs the URL with the session value itself
