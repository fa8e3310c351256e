"""Builders of the lab pages, Compare, Capacity and Forms (pages/compare.py, capacity.py, forms.py): W_t of
several rules, recall errors, capacity and recency curves, vectors side by side, and the forms' outputs, matrices,
values, chunk sizes and timings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ._spec import FONT, OUTLINE, RULE_COLORS, _coloraxis, _heat, symmetric_range


def compare_weights_figure(
    panels: Sequence[tuple[str, np.ndarray | None, str]], zmax: float, *, colors: Sequence[str] | None = None,
) -> go.Figure:
    """W_t of several rules side by side on one colour range (``zmax``, fixed over all rules and all t).

    panels: (trace name, matrix (d_v, d_phi) or None for a rule without a fixed-size state, subplot title).
    Column widths follow each matrix's key dimension."""
    n = len(panels)
    widths = [max(1, (p[1].shape[1] if p[1] is not None else 8)) for p in panels]
    fig = make_subplots(rows=1, cols=n, subplot_titles=[p[2] for p in panels], horizontal_spacing=0.04 if n > 2 else 0.06,
                        column_widths=[w / sum(widths) for w in widths])
    for c, (name, W, _title) in enumerate(panels, start=1):
        if W is None:
            dom = fig.layout[f"xaxis{c if c > 1 else ''}"].domain
            fig.add_annotation(text="no fixed-size state:<br>the memory is the cache<br>of all keys and values", showarrow=False,
                               xref="paper", yref="paper", x=(dom[0] + dom[1]) / 2, y=0.5, font=dict(size=12, color="#555"))
            fig.update_xaxes(visible=False, row=1, col=c)
            fig.update_yaxes(visible=False, row=1, col=c)
            continue
        fig.add_trace(_heat(W, name, hover=name + ": W[%{y}, %{x}] = %{z:.4f}<extra></extra>"), 1, c)
        fig.update_yaxes(autorange="reversed", row=1, col=c)
        fig.update_xaxes(title_text="key dim →", row=1, col=c)
    fig.update_yaxes(title_text="value dim ↓", row=1, col=1)
    if colors:
        for i, ann in enumerate(fig.layout.annotations[:n]):
            ann.font = dict(color=colors[i % len(colors)], size=13)
    fig.update_layout(**_coloraxis(zmax, "value"), height=360, margin=dict(l=50, r=20, t=50, b=40), font=FONT)
    return fig


def recall_errors_figure(errors: dict[str, tuple[np.ndarray, np.ndarray]], t: int, T: int,
                         colors: dict[str, str] | None = None) -> go.Figure:
    """Relative recall error ‖v_i − read_t(φ(k_i))‖ / ‖v_i‖ (the rule's own read) of every pair still stored after step t, by the step i that
    wrote it, one line per rule (traces named after the rules); a dotted line at 1, what an empty memory returns."""
    fig = go.Figure()
    for i, (name, (steps, err)) in enumerate(errors.items()):
        steps, err = np.asarray(steps), np.asarray(err, dtype=float)
        ok = np.isfinite(err)
        color = (colors or {}).get(name, RULE_COLORS[i % len(RULE_COLORS)])
        fig.add_trace(go.Scatter(x=steps[ok], y=err[ok], mode="lines+markers" if len(err) <= 64 else "lines", name=name,
                                 line=dict(color=color), marker=dict(size=6),
                                 hovertemplate=f"{name}: pair written at step %{{x}}, recall error %{{y:.4f}}<extra></extra>"))
    fig.add_hline(y=1.0, line=dict(color="#888", dash="dot"), annotation_text="1 = forgotten (reads 0)",
                  annotation_position="top left")
    fig.update_xaxes(title_text="pair written at step i", range=[0.5, max(T, 1) + 0.5])
    fig.update_yaxes(title_text="‖v_i − W_t φ(k_i)‖ / ‖v_i‖", rangemode="tozero")
    fig.update_layout(title=dict(text=f"recall of every stored pair from the memory after step {t}", font=dict(size=13)),
                      height=320, margin=dict(l=50, r=20, t=40, b=40), font=FONT, legend=dict(orientation="h", y=-0.25))
    return fig


def capacity_figure(
    curves: dict[str, dict], *, theory: tuple[np.ndarray, np.ndarray] | None = None, title: str = "",
    ytitle: str = "relative recall error ‖v − read(φ(k))‖ / ‖v‖", d_k: int | None = None,
) -> go.Figure:
    """Recall error against the number of stored pairs N: one line per curve (its mean over seeds, trace named
    after the curve) with a ±1 std band (trace ``<name> ± std``), the theory line (trace ``theory``) and, for a
    curve that diverged, a marker where it was cut. The y range is set by the curves that did not diverge (and
    the theory), so a blow-up leaves the chart instead of flattening every other curve.

    curves: name → dict(n, mean, std, diverged_at_n)."""
    fig = go.Figure()
    calm = [np.asarray(c["mean"], dtype=float) + np.asarray(c["std"], dtype=float) for c in curves.values()
            if c.get("diverged_at_n") is None and len(c["mean"])]
    if theory is not None:
        calm.append(np.asarray(theory[1], dtype=float))
    y_top = 1.1 * max(float(np.max(a)) for a in calm) if calm else None
    for i, (name, c) in enumerate(curves.items()):
        color = RULE_COLORS[i % len(RULE_COLORS)]
        n, mean, std = np.asarray(c["n"]), np.asarray(c["mean"], dtype=float), np.asarray(c["std"], dtype=float)
        if n.size:
            band_x = np.concatenate([n, n[::-1]])
            band_y = np.concatenate([mean + std, np.clip(mean - std, 0, None)[::-1]])
            fig.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", fillcolor=color, opacity=0.15, line=dict(width=0),
                                     name=f"{name} ± std", legendgroup=name, showlegend=False, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=n, y=mean, mode="lines", name=name, legendgroup=name, line=dict(color=color, width=2),
                                     hovertemplate=f"{name}: N = %{{x}}, error %{{y:.3f}}<extra></extra>"))
        d = c.get("diverged_at_n")
        if d is not None:
            y = float(mean[-1]) if mean.size else 0.0
            y = min(y, 0.95 * y_top) if y_top else y
            fig.add_trace(go.Scatter(x=[d], y=[y], mode="markers+text", marker=dict(symbol="x", size=12, color=color),
                                     text=[f"{name} diverged at N = {d}"], textposition="middle right", name=f"{name} diverged",
                                     legendgroup=name, showlegend=not n.size, hoverinfo="skip"))
    if theory is not None:
        fig.add_trace(go.Scatter(x=theory[0], y=theory[1], mode="lines", name="theory", line=dict(color=OUTLINE, dash="dash"),
                                 hovertemplate="√((N−1)/d_k) at N = %{x}: %{y:.3f}<extra></extra>"))
    if d_k is not None:
        fig.add_vline(x=d_k, line=dict(color="#999", dash="dot"), annotation_text="N = d_k", annotation_position="top left")
    fig.update_xaxes(title_text="pairs stored N")
    fig.update_yaxes(title_text=ytitle, rangemode="tozero")
    if y_top is not None and any(c.get("diverged_at_n") is not None for c in curves.values()):
        fig.update_yaxes(range=[0, y_top])
    fig.update_layout(title=dict(text=title, font=dict(size=13)) if title else None, height=400,
                      margin=dict(l=60, r=20, t=40 if title else 20, b=40), font=FONT, legend=dict(orientation="h", y=-0.18))
    return fig


def recency_figure(profiles: dict[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """Relative recall error of each pair by its age (0 = the newest write), mean ± std over seeds."""
    fig = go.Figure()
    for i, (name, (mean, std)) in enumerate(profiles.items()):
        color = RULE_COLORS[i % len(RULE_COLORS)]
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        age = np.arange(len(mean))
        fig.add_trace(go.Scatter(x=np.concatenate([age, age[::-1]]), y=np.concatenate([mean + std, np.clip(mean - std, 0, None)[::-1]]),
                                 fill="toself", fillcolor=color, opacity=0.15, line=dict(width=0), showlegend=False,
                                 legendgroup=name, name=f"{name} ± std", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=age, y=mean, mode="lines", name=name, legendgroup=name, line=dict(color=color, width=2),
                                 hovertemplate=f"{name}: age %{{x}}, error %{{y:.3f}}<extra></extra>"))
    fig.update_xaxes(title_text="age of the pair (0 = written last)")
    fig.update_yaxes(title_text="relative recall error", rangemode="tozero")
    fig.update_layout(height=340, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.22))
    return fig


def vectors_figure(columns: dict[str, np.ndarray], zmax: float, *, ytitle: str = "value dim ↓", height: int = 300) -> go.Figure:
    """Vectors side by side as the columns of one heatmap (trace ``vectors``), one colour range."""
    names = list(columns)
    z = np.stack([np.asarray(columns[k], dtype=float) for k in names], axis=1)
    fig = go.Figure(_heat(z, "vectors", x=names, hover="%{x}[%{y}] = %{z:.4f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title_text=ytitle)
    fig.update_xaxes(side="top")
    fig.update_layout(**_coloraxis(zmax, "value"), height=height, margin=dict(l=60, r=20, t=40, b=20), font=FONT)
    return fig


def forms_outputs_figure(outputs: dict[str, np.ndarray], zmax: float, titles: dict[str, str] | None = None) -> go.Figure:
    """The outputs Y (T × d_v) of each form side by side on one colour range (traces named after the forms; subplot
    titles "Y from the <title>" with ``titles[name]`` where given, else "Y from the <name> form")."""
    names = list(outputs)
    # three or four panels share a row: each title on two lines, or neighbours run into each other
    sep = "<br>" if len(names) > 2 else " "
    heads = [f"Y from the{sep}{(titles or {}).get(n, f'{n} form')}" for n in names]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=heads, horizontal_spacing=0.05 if len(names) < 4 else 0.04)
    for c, name in enumerate(names, start=1):
        fig.add_trace(_heat(outputs[name], name, hover=name + ": y_%{y}[%{x}] = %{z:.6f}<extra></extra>",
                            y=np.arange(1, outputs[name].shape[0] + 1)), 1, c)
        # the rows are the same tokens in every panel: their numbers once, at the left (not inside the panel before)
        fig.update_yaxes(autorange="reversed", showticklabels=c == 1, row=1, col=c)
        fig.update_xaxes(title_text="value dim →", row=1, col=c)
    fig.update_yaxes(title_text="token t ↓", row=1, col=1)
    fig.update_layout(**_coloraxis(zmax, "y"), height=380 + 16 * (sep == "<br>"),
                      margin=dict(l=50, r=20, t=56 if sep == "<br>" else 40, b=40), font=FONT)
    return fig


def matrices_figure(panels: Sequence[tuple[str, str, np.ndarray, str]]) -> go.Figure:
    """Matrices of the parallel form side by side on one colour range: (trace name, title, matrix, x-axis title).
    Rows are tokens t (row 1 at the top)."""
    n = len(panels)
    widths = [p[2].shape[1] for p in panels]
    fig = make_subplots(rows=1, cols=n, subplot_titles=[p[1] for p in panels], horizontal_spacing=0.05,
                        column_widths=[w / sum(widths) for w in widths])
    for c, (name, _title, z, xtitle) in enumerate(panels, start=1):
        rows = np.arange(1, z.shape[0] + 1)
        cols = np.arange(1, z.shape[1] + 1) if xtitle.startswith("token") else np.arange(z.shape[1])
        fig.add_trace(_heat(z, name, x=cols, y=rows, hover=name + "[%{y}, %{x}] = %{z:.4f}<extra></extra>"), 1, c)
        fig.update_yaxes(autorange="reversed", row=1, col=c)
        fig.update_xaxes(title_text=xtitle, row=1, col=c)
    fig.update_yaxes(title_text="token t ↓", row=1, col=1)
    zmax = symmetric_range(*[p[2] for p in panels])
    fig.update_layout(**_coloraxis(zmax, "weight"), height=380, margin=dict(l=50, r=20, t=50, b=40), font=FONT)
    return fig


def chunk_sizes_figure(sizes: np.ndarray, diffs: np.ndarray, chosen: int, floor: float = 1e-17) -> go.Figure:
    """max |chunked(C) − recurrent| for every chunk size C tried (trace ``max |difference|``), on a log scale;
    exact zeros are drawn at ``floor``. The chosen C is highlighted and the 1e-9 agreement line drawn."""
    sizes, diffs = np.asarray(sizes), np.asarray(diffs, dtype=float)
    shown = np.maximum(diffs, floor)
    colors = ["#c0392b" if s == chosen else "#2471a3" for s in sizes]
    fig = go.Figure(go.Bar(x=[str(s) for s in sizes], y=shown, name="max |difference|", marker_color=colors,
                           customdata=diffs, hovertemplate="C = %{x}: max |difference| = %{customdata:.2e}<extra></extra>"))
    fig.add_hline(y=1e-9, line=dict(color="#555", dash="dash"), annotation_text="1e-9", annotation_position="top left")
    fig.update_yaxes(type="log", title_text="max |Y_chunked − Y_recurrent|", range=[np.log10(floor), -6], exponentformat="power")
    fig.update_xaxes(title_text="chunk size C", type="category")
    fig.update_layout(height=300, margin=dict(l=60, r=20, t=20, b=40), font=FONT, showlegend=False)
    return fig


def timing_figure(rows: Sequence[dict]) -> go.Figure:
    """Measured seconds of each form against T on log–log axes (one trace per form)."""
    fig = go.Figure()
    forms = list(dict.fromkeys(r["form"] for r in rows))
    for i, form in enumerate(forms):
        pts = sorted((r["T"], r["seconds"]) for r in rows if r["form"] == form)
        fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] * 1e3 for p in pts], mode="lines+markers", name=form,
                                 line=dict(color=RULE_COLORS[i % len(RULE_COLORS)]),
                                 hovertemplate=f"{form}: T = %{{x}}, %{{y:.2f}} ms<extra></extra>"))
    Ts = sorted({r["T"] for r in rows})
    fig.update_xaxes(type="log", title_text="sequence length T", tickvals=Ts, ticktext=[str(t) for t in Ts])
    fig.update_yaxes(type="log", title_text="time (ms)", dtick=1, exponentformat="power")
    fig.update_layout(height=320, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.25))
    return fig


def values_figure(values: dict[str, np.ndarray], zmax: float) -> go.Figure:
    """Per-token vectors (T × d_v each, e.g. V and the pseudo-values U) side by side on one colour range; traces named
    ``values`` and ``pseudo_values``. Rows are tokens t (row 1 at the top)."""
    names = list(values)
    # narrow panels (the page draws this beside its text): each title on two lines, one x-axis title under both
    heads = ["<br>".join(t.rsplit(" ", 1)) for t in names]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=heads, horizontal_spacing=0.16)
    for c, title in enumerate(names, start=1):
        z = values[title]
        name = "pseudo_values" if "pseudo" in title else "values"
        fig.add_trace(_heat(z, name, y=np.arange(1, z.shape[0] + 1), hover=name + "[%{y}, %{x}] = %{z:.4f}<extra></extra>"), 1, c)
        fig.update_yaxes(autorange="reversed", showticklabels=c == 1, row=1, col=c)  # the same tokens: numbered once
    fig.update_yaxes(title_text="token t ↓", row=1, col=1)
    fig.add_annotation(text="value dim →", xref="paper", yref="paper", x=0.5, y=0, yshift=-24, showarrow=False,
                       yanchor="top")
    fig.update_layout(**_coloraxis(zmax, "value"), height=380, margin=dict(l=50, r=20, t=56, b=50), font=FONT)
    return fig
