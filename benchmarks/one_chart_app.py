
"""The floor of the UI benchmark: the least a Streamlit page can do to show the Explorer's weights chart and step
it. One fragment holds a Step button, the caption ``t = {t} / {T}`` and the weights chart of the benchmark's
configuration, built and sent exactly as the Explorer builds and sends it. What the Explorer costs beyond this
page is its own; this much is Streamlit's and plotly.js's."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

import fwp_core  # noqa: E402
from app import cache, figures, state  # noqa: E402
from fwp_core.experiments import explorer  # noqa: E402

st.set_page_config(page_title="one chart", layout="wide")  # the Explorer's width, so the chart is as large
cfg = explorer.ExplorerConfig(rule="delta", hparams=tuple(sorted(fwp_core.registry.resolve_hparams("delta").items())),
                             sequence="random", T=64, d_k=16, d_v=16)
res = cache.explorer_result(cfg)


@st.fragment
def stepper() -> None:
    st.button("Step", on_click=state.step_by, args=(st.session_state, 1, res.valid))
    t = st.session_state.get("t", 1)
    st.caption(f"t = {t} / {res.T}")
    spec = figures.page_spec(figures.weights_figure_at(res, t, hover=True, as_spec=True), False)
    st.plotly_chart(spec, key="weights", theme=None, config={"displaylogo": False})


stepper()
