"""Plotly figure builders: pure functions of arrays, a step t and options → ``go.Figure``.

Conventions everywhere: one diverging scale centred at 0 (positive red, negative blue) and one colour
range per figure, fixed across all steps (the caller passes it); matrices drawn with row 0 at the top;
axes labelled (value dim ↓, key dim →). Nothing here imports Streamlit, and no NaN is ever drawn:
builders receive finite arrays (the pages cut a diverged trace before its first bad step).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORSCALE = "RdBu_r"  # red positive, blue negative
RULE_COLORS = ("#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e", "#17202a")
FONT = dict(size=12)


def symmetric_range(*arrays: np.ndarray) -> float:
    """max |x| over the finite entries of all arrays (1 when there are none or all are 0)."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a, dtype=float)
        finite = a[np.isfinite(a)]
        if finite.size:
            m = max(m, float(np.abs(finite).max()))
    return m if m > 0 else 1.0


def _coloraxis(zmax: float, title: str = "", name: str = "coloraxis") -> dict:
    return {name: dict(colorscale=COLORSCALE, cmin=-zmax, cmax=zmax, cmid=0.0, colorbar=dict(title=title, thickness=12, len=0.8))}


def _heat(z: np.ndarray, name: str, x=None, y=None, hover: str | None = None, customdata=None, coloraxis="coloraxis") -> go.Heatmap:
    return go.Heatmap(
        z=np.asarray(z, dtype=float), x=x, y=y, name=name, coloraxis=coloraxis, customdata=customdata,
        hovertemplate=hover or (name + "[%{y}, %{x}] = %{z:.4f}<extra></extra>"),
    )


def contribution_labels(updates: np.ndarray, tokens: Sequence[str], t: int, top: int = 3) -> np.ndarray:
    """For each cell (i, j) of W_t, the ``top`` tokens whose steps changed it most, as hover text.

    updates: (T, d_v, d_phi); only steps 1..t count. Returns an object array (d_v, d_phi) of strings."""
    upd = np.asarray(updates[:t], dtype=float)  # (t, d_v, d_phi)
    k = min(top, t)
    idx = np.argsort(-np.abs(upd), axis=0)[:k]  # (k, d_v, d_phi)
    out = np.empty(upd.shape[1:], dtype=object)
    for i in range(upd.shape[1]):
        for j in range(upd.shape[2]):
            parts = [f"{tokens[s] if s < len(tokens) else s + 1} (step {s + 1}: {upd[s, i, j]:+.3f})" for s in idx[:, i, j]]
            out[i, j] = "<br>".join(parts)
    return out


def weights_figure(
    W_prev: np.ndarray, update: np.ndarray, W_t: np.ndarray, *, key: np.ndarray, query: np.ndarray, value: np.ndarray,
    retrieved: np.ndarray, output: np.ndarray, zmax: float, t: int, hover: np.ndarray | None = None, title: str = "",
) -> go.Figure:
    """W_{t−1} → update → W_t, with the vectors of step t: v_t, the retrieval W_{t−1}φ(k_t) and y_t beside,
    φ(k_t) under the update and φ(q_t) under W_t. Heatmap traces are named ``W_t-1``, ``update``, ``W_t``,
    ``values``, ``key``, ``query``. One colour range (``zmax``) for the whole figure."""
    fig = make_subplots(
        rows=2, cols=4, row_heights=[0.82, 0.18], column_widths=[0.3, 0.3, 0.3, 0.1], vertical_spacing=0.1,
        horizontal_spacing=0.05,
        subplot_titles=(f"W<sub>{t - 1}</sub> (before)", f"update at step {t}", f"W<sub>{t}</sub> (after)",
                        "v, r, y", "", "", "", ""),
    )
    cell = "%{z:.4f}"
    fig.add_trace(_heat(W_prev, "W_t-1", hover=f"W_{t - 1}[%{{y}}, %{{x}}] = {cell}<extra></extra>"), 1, 1)
    fig.add_trace(_heat(update, "update", hover=f"ΔW[%{{y}}, %{{x}}] = {cell}<extra></extra>"), 1, 2)
    wt_hover = f"W_{t}[%{{y}}, %{{x}}] = {cell}"
    if hover is not None:
        wt_hover += "<br>largest writes to this cell:<br>%{customdata}"
    fig.add_trace(_heat(W_t, "W_t", hover=wt_hover + "<extra></extra>", customdata=hover), 1, 3)
    vecs = np.stack([value, retrieved, output], axis=1)  # (d_v, 3)
    fig.add_trace(_heat(vecs, "values", x=["v", "r", "y"], hover="%{x}[%{y}] = %{z:.4f}<extra></extra>"), 1, 4)
    cols = np.arange(len(key))
    fig.add_trace(_heat(key[None, :], "key", x=cols, y=[f"φ(k{t})"], hover="φ(k)[%{x}] = %{z:.4f}<extra></extra>"), 2, 2)
    fig.add_trace(_heat(query[None, :], "query", x=cols, y=[f"φ(q{t})"], hover="φ(q)[%{x}] = %{z:.4f}<extra></extra>"), 2, 3)
    for c in (1, 2, 3, 4):
        fig.update_yaxes(autorange="reversed", row=1, col=c)
    fig.update_xaxes(title_text="key dim →", row=1, col=1)
    fig.update_yaxes(title_text="value dim ↓", row=1, col=1)
    for c in (2, 3):
        fig.update_xaxes(title_text="key dim →", row=2, col=c)
    for c in (1, 4):
        fig.update_xaxes(visible=False, row=2, col=c)
        fig.update_yaxes(visible=False, row=2, col=c)
    fig.update_layout(
        **_coloraxis(zmax, "value"), height=430, margin=dict(l=50, r=20, t=50, b=30), font=FONT, title=title or None,
    )
    return fig


def attention_figure(
    scores: np.ndarray, t: int, *, attention: np.ndarray | None = None, correction: np.ndarray | None = None,
    pseudo_values: np.ndarray | None = None, tokens: Sequence[str] = (), window: int = 256,
) -> go.Figure:
    """The parallel form at step t with row t highlighted.

    Additive rules: the causal attention matrix (traces ``attention``). Delta-type rules: QKᵀ ⊙ M
    (``scores``), the correction (I + tril₋₁(diag(β)KKᵀ))⁻¹diag(β) (``correction``) and the pseudo-values U
    (``pseudo_values``). Without a parallel form only QKᵀ ⊙ M is drawn. Long sequences show a window of
    ``window`` tokens ending at t."""
    T = scores.shape[0]
    lo = max(0, min(t, T) - window) if T > window else 0
    hi = min(T, lo + window)
    idx = np.arange(lo, hi)
    labels = [f"{s + 1}:{tokens[s]}" if s < len(tokens) else str(s + 1) for s in idx]
    panels: list[tuple[str, np.ndarray, list]] = []
    if correction is not None and pseudo_values is not None:
        panels = [("scores", scores[np.ix_(idx, idx)], labels), ("correction", correction[np.ix_(idx, idx)], labels),
                  ("pseudo_values", pseudo_values[idx], list(range(pseudo_values.shape[1])))]
        titles = ("QKᵀ ⊙ M", "correction T = (I + L)⁻¹ diag β", "pseudo-values U = T V")
    elif attention is not None:
        panels = [("attention", attention[np.ix_(idx, idx)], labels)]
        titles = ("attention A (β and decay folded in)",)
    else:
        panels = [("scores", scores[np.ix_(idx, idx)], labels)]
        titles = ("QKᵀ ⊙ M (this rule has no parallel form)",)
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=titles, horizontal_spacing=0.1,
                        column_widths=[0.37, 0.37, 0.26] if len(panels) == 3 else None)
    zmax = symmetric_range(*[p[1] for p in panels])
    for c, (name, z, xlab) in enumerate(panels, start=1):
        fig.add_trace(_heat(z, name, x=xlab, y=labels, hover=name + "[%{y}, %{x}] = %{z:.4f}<extra></extra>"), 1, c)
        fig.update_yaxes(autorange="reversed", row=1, col=c, showticklabels=c == 1 and len(labels) <= 64)
        fig.update_xaxes(showticklabels=len(xlab) <= 32, row=1, col=c, title_text="value dim →" if name == "pseudo_values" else "token s →")
        if name != "pseudo_values" and lo <= t - 1 < hi:
            r = t - 1 - lo
            fig.add_shape(type="rect", x0=-0.5, x1=len(labels) - 0.5, y0=r - 0.5, y1=r + 0.5,
                          line=dict(color="#111", width=2), row=1, col=c)
    fig.update_yaxes(title_text="token t ↓", row=1, col=1)
    fig.update_layout(**_coloraxis(zmax, "weight"), height=440, margin=dict(l=60, r=20, t=50, b=40), font=FONT)
    return fig


def retrieval_error_figure(
    errors: dict[str, np.ndarray], t: int, *, eigenvalues: np.ndarray | None = None, T: int | None = None,
    diverged_at: dict[str, int | None] | None = None,
) -> go.Figure:
    """Retrieval error ‖v_t − W_{t−1}φ(k_t)‖ over time for one or more rules, with a cursor at t; beside it,
    the eigenvalues of step t's transition in the complex plane with the unit circle (one rule only)."""
    cols = 2 if eigenvalues is not None else 1
    fig = make_subplots(rows=1, cols=cols, column_widths=[0.68, 0.32] if cols == 2 else None, horizontal_spacing=0.1,
                        subplot_titles=("retrieval error before each write", f"eigenvalues of step {t}'s transition")[:cols])
    n = T or max(len(e) for e in errors.values())
    for i, (name, err) in enumerate(errors.items()):
        err = np.asarray(err, dtype=float)
        steps = np.arange(1, len(err) + 1)
        ok = np.isfinite(err)
        fig.add_trace(go.Scatter(x=steps[ok], y=err[ok], mode="lines+markers" if len(err) <= 64 else "lines", name=name,
                                 line=dict(color=RULE_COLORS[i % len(RULE_COLORS)]), legendgroup=name,
                                 hovertemplate=f"{name}: step %{{x}}, error %{{y:.4f}}<extra></extra>"), 1, 1)
        if 1 <= t <= len(err) and ok[t - 1]:
            fig.add_trace(go.Scatter(x=[t], y=[err[t - 1]], mode="markers", showlegend=False, legendgroup=name,
                                     marker=dict(size=11, color=RULE_COLORS[i % len(RULE_COLORS)], line=dict(color="#111", width=1.5)),
                                     name=f"{name} at t", hoverinfo="skip"), 1, 1)
        d = (diverged_at or {}).get(name)
        if d is not None:
            fig.add_vline(x=d, line=dict(color=RULE_COLORS[i % len(RULE_COLORS)], dash="dot"), row=1, col=1)
    fig.add_vline(x=t, line=dict(color="#555", width=1.5), row=1, col=1)
    fig.update_xaxes(title_text="step t", range=[0.5, n + 0.5], row=1, col=1)
    fig.update_yaxes(title_text="‖v − r‖", rangemode="tozero", row=1, col=1)
    if eigenvalues is not None:
        th = np.linspace(0, 2 * np.pi, 181)
        fig.add_trace(go.Scatter(x=np.cos(th), y=np.sin(th), mode="lines", line=dict(color="#999", dash="dot"),
                                 name="unit circle", hoverinfo="skip", showlegend=False), 1, 2)
        ev = np.asarray(eigenvalues)
        fig.add_trace(go.Scatter(x=ev.real, y=ev.imag, mode="markers", name="eigenvalues", showlegend=False,
                                 marker=dict(size=9, color="#c0392b"), hovertemplate="λ = %{x:.4f} %{y:+.4f}i<extra></extra>"), 1, 2)
        r = max(1.2, float(np.abs(ev).max()) * 1.1 if ev.size else 1.2)
        fig.update_xaxes(range=[-r, r], title_text="Re λ", row=1, col=2)
        fig.update_yaxes(range=[-r, r], title_text="Im λ", scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=320, margin=dict(l=50, r=20, t=40, b=40), font=FONT,
                      legend=dict(orientation="h", y=-0.25), showlegend=len(errors) > 1)
    return fig


def smooth_playback_figure(weights: np.ndarray, updates: np.ndarray, tokens: Sequence[str], zmax: float, frame_ms: int = 33) -> go.Figure:
    """All steps as Plotly frames (W_t and the update), animated in the browser with no server round trip."""
    T = updates.shape[0]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("update at step t", "W_t"), horizontal_spacing=0.08)
    fig.add_trace(_heat(updates[0], "update"), 1, 1)
    fig.add_trace(_heat(weights[1], "W_t"), 1, 2)
    fig.frames = [
        go.Frame(name=str(s + 1), data=[go.Heatmap(z=updates[s]), go.Heatmap(z=weights[s + 1])], traces=[0, 1],
                 layout=dict(title_text=f"t = {s + 1} / {T}: {tokens[s] if s < len(tokens) else ''}"))
        for s in range(T)
    ]
    anim = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0), mode="immediate")
    fig.update_layout(
        **_coloraxis(zmax, "value"), height=420, margin=dict(l=50, r=20, t=60, b=90), font=FONT,
        title_text=f"t = 1 / {T}: {tokens[0] if tokens else ''}",
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.12, xanchor="left", showactive=False, buttons=[
            dict(label="▶ Play", method="animate", args=[None, {**anim, "fromcurrent": True}]),
            dict(label="❚❚ Pause", method="animate", args=[[None], {**anim, "frame": dict(duration=0, redraw=False)}]),
        ])],
        sliders=[dict(active=0, x=0.15, len=0.85, y=-0.05, currentvalue=dict(prefix="t = "),
                      steps=[dict(label=str(s + 1), method="animate", args=[[str(s + 1)], anim]) for s in range(T)])],
    )
    for c in (1, 2):
        fig.update_yaxes(autorange="reversed", row=1, col=c)
        fig.update_xaxes(title_text="key dim →", row=1, col=c)
    fig.update_yaxes(title_text="value dim ↓", row=1, col=1)
    return fig


def write_read_figure(W: np.ndarray, key: np.ndarray, value: np.ndarray, read: np.ndarray, zmax: float) -> go.Figure:
    """Home page: the memory after the writes, the query key, and the value read back beside the stored one."""
    fig = make_subplots(rows=1, cols=3, column_widths=[0.6, 0.25, 0.15], horizontal_spacing=0.08,
                        subplot_titles=("fast weights W (after 6 writes)", "query = key 3", "v₃ vs W k₃"))
    fig.add_trace(_heat(W, "W"), 1, 1)
    fig.add_trace(_heat(key[:, None], "key", x=["k₃"]), 1, 2)
    fig.add_trace(_heat(np.stack([value, read], axis=1), "values", x=["v₃", "W k₃"]), 1, 3)
    for c in (1, 2, 3):
        fig.update_yaxes(autorange="reversed", row=1, col=c)
    fig.update_yaxes(title_text="value dim ↓", row=1, col=1)
    fig.update_yaxes(title_text="key dim ↓", row=1, col=2)
    fig.update_xaxes(title_text="key dim →", row=1, col=1)
    fig.update_layout(**_coloraxis(zmax, "value"), height=320, margin=dict(l=50, r=20, t=40, b=40), font=FONT)
    return fig
