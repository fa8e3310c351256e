"""Biology: the same update rules as synaptic plasticity.

Six small simulations from ``fwp_core.biology`` (pure, fast, cached), one at a time: the segmented control
``bio_sim`` is bound to the URL, so a link opens a given simulation and only that one is computed and drawn.
Each section has a plain-English explanation, its equation, URL-bound sliders (``bio_*``), figures with a
one-line caption, and a note on what is established and what is a hypothesis, taken from ``biology_map()``.
Every number a text states is filled in from the simulation that the page has just run.
"""


from __future__ import annotations

import streamlit as st

from app.biology_view import SECTIONS, SIMS
from app.state import QP

st.title("Biology")
st.caption(
    "The same update rules as synaptic plasticity: small simulations built on fwp_core, each with its equation and an "
    "honest note on what is established and what is a hypothesis. Every setting lives in the URL."
)
raw = st.query_params.get("bio_sim")
if raw is not None and raw not in SIMS:  # Streamlit drops it silently; say what was wrong and what is allowed
    st.warning(f"Unknown simulation {raw!r} in the link; allowed: {', '.join(SIMS)}. Showing the first one.")
choice = st.segmented_control("Simulation", list(SIMS), default="Three-factor", key="bio_sim", bind=QP, required=True,
                              label_visibility="collapsed")
choice = choice if choice in SIMS else "Three-factor"
st.header(SIMS[choice][0], divider="gray")
SECTIONS[choice]()
