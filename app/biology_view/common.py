"""Shared pieces of the Biology page: the simulations it offers, a cached runner, and the chart / note helpers.
Every number a section states is filled in from the simulation it has just run."""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from app import figures
from app.layout import caption
from fwp_core import biology as bio

CFG = figures.CHART_CONFIG
KV_RULES = ("delta", "hebbian")  # the two rules bio.kv_retrieval writes with, the default first

# The simulations, in the order of the control. The label is what the URL holds (?bio_sim=...), so it is plain
# ASCII with no spaces; the value is (section title, function in fwp_core.biology).
SIMS: dict[str, tuple[str, str | None]] = {
    "Three-factor": ("Hebbian vs three-factor learning", "three_factor"),
    "Oja": ("Oja's rule: a Hebbian neuron that normalises itself", "oja_pca"),
    "Short-term": ("Short-term plasticity and activity-silent working memory", "short_term_plasticity"),
    "BTSP": ("One-shot place fields: behavioural-timescale plasticity (BTSP)", "btsp_place_field"),
    "Key-value": ("Key–value memory: forgetting as retrieval failure", "kv_retrieval"),
    "Mapping": ("FWP ↔ biology: the mapping and the open questions", None),
}
SIM_OF_FUNCTION = {fn: label for label, (_, fn) in SIMS.items() if fn}
MAP = bio.biology_map()


@st.cache_resource(max_entries=64, show_spinner=False)
def simulate(function: str, **kwargs: Any) -> Any:
    """One simulation of fwp_core.biology; results are frozen with read-only arrays, so sharing them is safe."""
    return getattr(bio, function)(**kwargs)


def run(function: str, **kwargs: Any) -> Any | None:
    """The simulation's result, or None after showing its ValueError (an impossible combination) as st.error."""
    try:
        return simulate(function, **kwargs)
    except ValueError as exc:
        st.error(f"These settings cannot run: {exc}")
        return None


def short(text: str, limit: int = 80) -> str:
    """The first clause of a long description (up to a bracket, comma, full stop, or a colon when still too long),
    cut at a word near ``limit``: the table stays one line per row; the full text is one click away."""
    head = re.split(r" \(|, |; |\. ", text.rstrip("."))[0]
    if len(head) > limit and ": " in head:
        head = head.split(": ")[0]
    if len(head) <= limit:
        return head
    return head[: head.rfind(" ", 0, limit)] + " …"


def chart(fig: Any, key: str, text: str) -> None:
    st.plotly_chart(figures.outlines_for(fig, st.context.theme.type == "dark"), key=key, config=CFG)
    caption(text)


def status_note(function: str) -> None:
    """What is established and what is a hypothesis, for the links that this simulation shows (from biology_map)."""
    links = [link for link in MAP.links if link.simulation == function]
    if not links:
        return
    lines = []
    for link in sorted(links, key=lambda lk: lk.status != "established"):
        tag = "Established" if link.status == "established" else "Hypothesis"
        lines.append(f"- **{tag}** · {link.quantity} `{link.symbol}` ↔ {link.counterpart}  \n  {link.explanation}")
    st.info("**What is established, what is a hypothesis**\n\n" + "\n".join(lines), icon=":material/science:")


def intro(text: str, *equations: str) -> None:
    """The explanation in plain words, then the equations (full width, so that none is clipped)."""
    st.markdown(text)
    for eq in equations:
        st.latex(eq)
