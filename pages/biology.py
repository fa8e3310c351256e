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
from app import widgets
from app.page_tables import BIOLOGY

st.title("Biology")
st.caption(
    "The same update rules as synaptic plasticity: small simulations built on fwp_core, each with its equation and an "
    "honest note on what is established and what is a hypothesis. Every setting lives in the URL."
)
for w in BIOLOGY.warnings(st.session_state, st.query_params.to_dict()):
    st.warning(w)  # Streamlit drops a bad value silently; the table says what was wrong and what is allowed
choice = widgets.segmented(BIOLOGY.param("bio_sim"), "Simulation", label_visibility="collapsed")
st.header(SIMS[choice][0], divider="gray")
SECTIONS[choice]()
