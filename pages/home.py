"""Home: what a fast weight programmer is, in one screen, with a live 6-token write and read."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

import fwp_core
from app.figures import CHART_CONFIG, symmetric_range, write_read_figure
from app.layout import PAGES, caption


@st.cache_data(max_entries=1, show_spinner=False)
def example() -> dict:
    """Six key/value writes with the Hebbian rule, then a read with key 3 — and the same read as linear attention."""
    g = torch.Generator().manual_seed(3)
    k = torch.nn.functional.normalize(torch.randn(6, 8, generator=g, dtype=torch.float64), dim=-1)
    v = torch.randn(6, 4, generator=g, dtype=torch.float64)
    rule = fwp_core.make_rule("hebbian")
    trace = rule.run(k, k, v)
    W = trace.weights[-1]
    read = rule.read(trace.final_state, trace.keys[2:3])[0]  # the memory's read with key 3: W k₃
    q = k[2].expand(6, 8)  # query every position with key 3; the last row reads after all six writes
    attn = rule.parallel(q, k, v).outputs[-1]
    return dict(W=W.numpy(), k=k[2].numpy(), v=v[2].numpy(), read=read.numpy(), attn=attn.numpy(),
                crosstalk=float(np.linalg.norm(read.numpy() - v[2].numpy())))


def diagram(dark: bool) -> str:
    """The programmer → fast weights picture in DOT, on a transparent background in the app's light or dark ink."""
    ink, fills = ("#fafafa", ("#5b4636", "#2e4a62", "#6e3631")) if dark else ("#31333f", ("#fdf2e9", "#eaf2f8", "#fadbd8"))
    return f"""digraph {{ bgcolor="transparent"; rankdir=TB; nodesep=0.3; ranksep=0.25;
        node [shape=box, style="rounded,filled", fillcolor="{fills[0]}", fontname="sans-serif", fontcolor="{ink}", color="{ink}"];
        edge [color="{ink}"];
        x [label="token x_t"]; P [label="programmer\\n(slow weights, trained)"]; kv [label="k_t, v_t, q_t, β_t", fillcolor="{fills[1]}"];
        W [label="fast weights W_t\\nW_t = W_{{t-1}} + β_t v_t k_tᵀ", fillcolor="{fills[2]}"]; y [label="y_t = W_t q_t"];
        x -> P -> kv -> W -> y; }}"""


st.title("Fast weight programmers")
st.markdown(
    "A **fast weight programmer** (FWP) is two networks. A slow network, the *programmer*, reads each token and "
    "emits a key $k_t$, a value $v_t$, a query $q_t$ and a write strength $\\beta_t$. A matrix of **fast weights** "
    "$W$ is written with the outer product $W_t = W_{t-1} + \\beta_t v_t k_t^\\top$ and read with $y_t = W_t q_t$. "
    "That purely additive FWP computes exactly **unnormalised linear attention** — and the delta rule, gates and "
    "decays are the same idea with other update rules."
)
left, right = st.columns([0.42, 0.58], gap="large")
with left:
    st.subheader("The programmer writes, the fast net reads")
    st.graphviz_chart(diagram(st.context.theme.type == "dark"), width="stretch")
    caption("The slow net is trained by gradient descent; the fast weights change at every token, as the slow net says.")
with right:
    st.subheader("A live example: six writes, one read")
    ex = example()
    fig = write_read_figure(ex["W"], ex["k"], ex["v"], ex["read"], symmetric_range(ex["W"], ex["v"], ex["read"], ex["k"]))
    st.plotly_chart(fig, key="home_example", config=CHART_CONFIG)
    caption("Reading W with key 3 gives back v₃ plus crosstalk from the other five keys (their overlaps with k₃).")
    c1, c2 = st.columns(2)
    c1.metric("‖W k₃ − v₃‖ (crosstalk)", f"{ex['crosstalk']:.4f}")
    c2.metric("max |fast-weight read − linear attention|", f"{float(np.abs(ex['read'] - ex['attn']).max()):.1e}")
st.subheader("Explore")
cols = st.columns(2)
for i, p in enumerate(q for q in PAGES if not q.default):
    with cols[i % 2]:
        st.page_link(p.path, label=f"**{p.title}** — {p.blurb}", icon=p.icon)
