"""The controls of the pages, generated from their parameter tables (``app.page_tables``): each widget takes its key
(the URL name it is bound to with ``bind="query-params"``, so a link reproduces the view), its default and its bounds
from its ``Param``; a rule's hyper-parameters come from the registry through ``pagestate.rule_params``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

import fwp_core
from fwp_core.experiments.explorer import ExplorerConfig, available_devices, digest
from fwp_core.sequences import SOURCES, tokenize

from .page_tables import EXPLORER
from .pagestate import FEATURE_DETAILS, Param, rule_params
from .state import LIMITS, QP

BETA_HELP = ("Delta-type rules with unit keys: the transition I − β k kᵀ has eigenvalues 1 and 1 − β, so β ∈ (0, 1) keeps "
             "them positive, β up to 2 reaches −1 (a full reflection at β = 2) and β > 2 makes the state grow. Additive "
             "rules only scale their writes by β.")
SCHEDULE_HELP = "constant β, a ramp β·t/T, or seeded random values in [0, β]"


def number(p: Param, label: str, help: str = "", where: Any = st, **kw: Any) -> Any:
    """A number box for ``p``: its bounds, its default, bound to the URL as ``p.name``."""
    allowed = f"Allowed: {p.low:g}..{p.high:g}." if p.low is not None and p.high is not None else ""
    if p.kind == "int":
        return int(where.number_input(label, int(p.low), int(p.high), int(p.default), step=kw.pop("step", 1), key=p.name,
                                      bind=QP, help=f"{help} {allowed}".strip(), **kw))
    return float(where.number_input(label, float(p.low), float(p.high), float(p.default), key=p.name, bind=QP,
                                    help=f"{help} {allowed}".strip(), **kw))


def slider(p: Param, label: str, step: float, help: str = "", where: Any = st, **kw: Any) -> Any:
    """A slider for ``p`` (whole numbers where ``p`` is an int): its bounds, its default, bound to the URL as ``p.name``."""
    cast = int if p.kind == "int" else float
    return cast(where.slider(label, cast(p.low), cast(p.high), cast(p.default), cast(step), key=p.name, bind=QP,
                             help=help or None, **kw))


def select(p: Param, label: str, help: str = "", where: Any = st, **kw: Any) -> Any:
    options = list(p.choices)
    return where.selectbox(label, options, index=options.index(p.default), key=p.name, bind=QP, help=help or None, **kw)


def segmented(p: Param, label: str, help: str = "", where: Any = st, **kw: Any) -> Any:
    value = where.segmented_control(label, list(p.choices), default=p.default, key=p.name, bind=QP, required=True,
                                    help=help or None, **kw)
    return p.default if value is None else value


def hparam_input(p: Param) -> Any:
    """One control for one of a rule's hyper-parameters (``p.hparam``, from the registry), bound to the URL as ``p.name``."""
    h = p.hparam
    help_text = f"{h.help} — allowed: {h.allowed()}"
    if h.kind == "choice":
        return select(p, h.name, help_text)
    lo, hi = h.low, h.high
    if h.kind == "int":
        return int(st.number_input(h.name, min_value=None if lo is None else int(lo), max_value=None if hi is None else int(hi),
                                   value=int(h.default), step=1, key=p.name, bind=QP, help=help_text))
    if h.low_open and lo is not None:
        lo = lo + 1e-6
    if h.high_open and hi is not None:
        hi = hi - 1e-6
    return float(st.number_input(h.name, min_value=lo, max_value=hi, value=float(h.default), key=p.name, bind=QP,
                                 format="%.6g", help=help_text))


def reset_hparams(rule_key: str, key: Callable[[str], str] = lambda n: n) -> None:
    """When a rule changes, its hyper-parameter widgets start from that rule's defaults (a callback)."""
    rule = st.session_state[rule_key]
    for p in rule_params(rule, {key("feature_map"): "dpfp"}, key):
        st.session_state[p.name] = p.default
    for p in rule_params(rule, {key("feature_map"): "favor"}, key):
        st.session_state[p.name] = p.default


def hparam_controls(rule: str, key: Callable[[str], str] = lambda n: n) -> dict[str, Any]:
    """The rule's hyper-parameter controls, as its parameter table lists them (DPFP's ν and FAVOR+'s m and seed only
    for those feature maps, in a "Feature-map details" expander with the query scale). Returns URL name → value."""
    values: dict[str, Any] = {}
    details = None
    for p in rule_params(rule, values, key):  # lazy: the feature map's value is in before ν / m are asked for
        if p.hparam.name in FEATURE_DETAILS:  # these come last
            details = details or st.expander("Feature-map details", expanded=False)
            with details:
                values[p.name] = hparam_input(p)
        else:
            values[p.name] = hparam_input(p)
    return values


def gate_slider(spec: fwp_core.RuleSpec, p: Param, own_gate: str = "") -> float:
    """The constant gate α for a rule whose gate no hyper-parameter fixes (``RuleSpec.needs_gate``); otherwise no
    control, and the default (unused: such a rule decays by its own hyper-parameter, or not at all). ``own_gate``:
    what the sequence's own gate is, where it brings one; the slider is then shown disabled (the run uses that gate)."""
    if not spec.needs_gate:
        return float(p.default)
    per_channel = " (per channel: a ramp from α to 1 across φ's channels)" if spec.gate_kind == "channel" else ""
    help_text = (f"Not used: the sequence brings its own gate α_t = {own_gate}." if own_gate
                 else f"Decay applied at every step{per_channel}.")
    return slider(p, "gate α", 0.01, help_text, disabled=bool(own_gate))


def sequence_help() -> str:
    return "; ".join(f"{n}: {s.help}" for n, s in SOURCES.items())


def explorer_controls() -> tuple[ExplorerConfig, tuple[str, bytes] | None]:
    """The Explorer's sidebar: rule, hyper-parameters, sequence, sizes, β, gate, device; its configuration is
    ``EXPLORER.config`` of the values shown (the lessons build theirs the same way)."""
    P = EXPLORER.params()
    rule = select(P["rule"], "Update rule", "The fast-weight update rule; every rule of fwp_core's registry is here.",
                  on_change=reset_hparams, args=("rule", lambda n: "fm_seed" if n == "seed" else n))
    spec = fwp_core.get_spec(rule)
    st.caption(f"**{spec.title}** — *{spec.teaches}*")
    v: dict[str, Any] = {"rule": rule, **hparam_controls(rule, lambda n: "fm_seed" if n == "seed" else n)}
    st.divider()
    seq = v["sequence"] = select(P["sequence"], "Sequence", "Where keys, values and queries come from: " + sequence_help()
                                 + "; upload: your own CSV / NPZ arrays.")
    upload = None
    if seq == "text":
        v["text"] = st.text_area("Sentence", value=P["text"].default, key="text", bind=QP, max_chars=P["text"].max_len,
                                 help="Each token gets a fixed seeded embedding; projections make k, v, q.")
    if seq == "correlated":
        v["rho"] = slider(P["rho"], "Key cosine ρ", 0.01)
    if seq == "upload":
        f = st.file_uploader("CSV or NPZ with arrays k, v (and optional q, beta, gate)", type=["csv", "npz"], key="upload",
                             help=f"At most {LIMITS.max_upload_bytes // 1_000_000} MB, T ≤ {LIMITS.max_T}, d ≤ {LIMITS.max_d}. "
                                  "CSV columns: k0.., v0.., optional q0.., beta, gate. NPZ: plain arrays only (never unpickled).")
        if f is not None:
            upload = (f.name, f.getvalue())
    c1, c2 = st.columns(2)
    v["T"] = number(P["T"], "T (tokens)", "Sequence length (a sentence or an upload brings its own).", c1,
                    disabled=seq in ("text", "upload"))
    v["seed"] = number(P["seed"], "seed", "Seed of the episode.", c2)
    c3, c4 = st.columns(2)
    v["d_k"] = number(P["d_k"], "d_k", "Key dimension.", c3)
    v["d_v"] = number(P["d_v"], "d_v", "Value dimension.", c4)
    if seq == "text":
        n = len(tokenize(v.get("text", P["text"].default)))
        st.caption(f"T = {n}: the sentence's {n} tokens (words and punctuation); the T box applies to the other sequences.")
    source = SOURCES.get(seq)
    if source is not None and source.max_T_is_d_k and v["T"] > v["d_k"]:
        st.info(f"{source.title} need T ≤ d_k: T = d_k = {v['d_k']} is used (raise d_k for a longer sequence).")
    v["beta"] = slider(P["beta"], "β (write strength)", 0.05, BETA_HELP)
    v["schedule"] = segmented(P["schedule"], "β schedule", SCHEDULE_HELP)
    own_gate = source.own_gate if source is not None and spec.gate_kind is not None else ""
    v["gate"] = gate_slider(spec, P["gate"], own_gate)
    if own_gate:
        st.caption(f"{source.title}: every gate is the sequence's own α_t = {own_gate}"
                   + (f", in place of {spec.gate_hparam.name}" if spec.gate_hparam is not None else "")
                   + "; the β slider multiplies the sequence's own β_t, so a constant β = 1 runs the sequence as it is.")
    devices = available_devices()
    device = st.radio("Device", devices, horizontal=True, key="device", help="CUDA appears when a GPU is present.") if len(devices) > 1 else "cpu"
    return EXPLORER.config(v, device=device, upload_digest=digest(upload[1]) if upload else ""), upload


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
