"""Builders of the Programmer page (pages/programmer.py): training curves, what a programmer emits for every token,
and the smallest eigenvalue of each step's transition."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ._spec import FONT, OUTLINE, RULE_COLORS, _axes, _axis, _coloraxis, _figure, _hm, _layout, symmetric_range


def training_figure(histories: dict[str, tuple[Sequence[float], Sequence[float]]], metric_name: str) -> go.Figure:
    """Loss (left) and the task metric (right) per training step, one line per trained programmer."""
    layout = _layout(1, 2, ("training loss", metric_name), hspace=0.1)
    traces = []
    for i, (name, (loss, metric)) in enumerate(histories.items()):
        color = RULE_COLORS[i % len(RULE_COLORS)]
        loss, metric = np.asarray(loss, dtype=float), np.asarray(metric, dtype=float)
        steps = np.arange(1, len(loss) + 1)
        ok = np.isfinite(loss)
        traces.append(dict(type="scatter", x=steps[ok], y=loss[ok], mode="lines", name=name, legendgroup=name,
                           line=dict(color=color), hovertemplate=f"{name}: step %{{x}}, loss %{{y:.4f}}<extra></extra>"))
        okm = np.isfinite(metric)
        traces.append(dict(type="scatter", x=np.arange(1, len(metric) + 1)[okm], y=metric[okm], mode="lines", name=name,
                           legendgroup=name, showlegend=False, line=dict(color=color), xaxis="x2", yaxis="y2",
                           hovertemplate=f"{name}: step %{{x}}, {metric_name} %{{y:.3f}}<extra></extra>"))
    _axis(layout, "x", 1, title=dict(text="step"))
    _axis(layout, "x", 2, title=dict(text="step"))
    _axis(layout, "y", 1, type="log")
    layout.update(height=300, margin=dict(l=50, r=20, t=40, b=40), font=FONT, legend=dict(orientation="h", y=-0.3),
                  showlegend=len(histories) > 1)
    return _figure(traces, layout)


def programme_figure(tokens: Sequence[str], k: np.ndarray, v: np.ndarray, q: np.ndarray, beta: np.ndarray, t: int,
                     correct: np.ndarray | None = None) -> go.Figure:
    """What the programmer emitted for every token: k, v, q (heatmaps, token on x) and β_t (bars), with
    the column of step t boxed; ``correct`` (per token, NaN where unscored) marks right / wrong outputs."""
    T = len(beta)
    x = np.arange(1, T + 1)
    layout = _layout(4, 1, ("keys k_t", "values v_t", "queries q_t", "write strength β_t"), row_heights=(0.27, 0.27, 0.27, 0.19),
                     vspace=0.06)
    zmax = symmetric_range(k, v, q)
    traces = [_hm(1, np.asarray(k).T, "k", "k[%{y}] at %{x}: %{z:.3f}<extra></extra>", x=x),
              _hm(2, np.asarray(v).T, "v", "v[%{y}] at %{x}: %{z:.3f}<extra></extra>", x=x),
              _hm(3, np.asarray(q).T, "q", "q[%{y}] at %{x}: %{z:.3f}<extra></extra>", x=x)]
    colors = ["#7f8c8d"] * T
    if correct is not None:
        colors = ["#1e8449" if c == 1 else "#c0392b" if c == 0 else "#7f8c8d" for c in np.asarray(correct, dtype=float)]
    traces.append(dict(type="bar", x=x, y=np.asarray(beta, dtype=float), name="β", marker=dict(color=colors), xaxis="x4", yaxis="y4",
                       customdata=list(tokens), hovertemplate="token %{x} (%{customdata}): β = %{y:.3f}<extra></extra>"))
    shapes = []
    for n in (1, 2, 3, 4):
        xa, ya = _axes(n)
        shapes.append(dict(type="rect", xref=xa, yref=f"{ya} domain", x0=t - 0.5, x1=t + 0.5, y0=0, y1=1,
                           line=dict(color=OUTLINE, width=1.5)))
        if n < 4:
            _axis(layout, "y", n, autorange="reversed")
    _axis(layout, "x", 4, title=dict(text="token t (bars: green = right output, red = wrong)"),
          tickmode="array" if T <= 40 else "auto", tickvals=list(x) if T <= 40 else None,
          ticktext=[str(s) for s in tokens] if T <= 40 else None)
    layout.update(_coloraxis(zmax, "value"), shapes=shapes, height=520, margin=dict(l=50, r=20, t=40, b=50), font=FONT,
                  showlegend=False)
    return _figure(traces, layout)


def eigen_timeline_figure(series: dict[str, np.ndarray], tokens: Sequence[str]) -> go.Figure:
    """The smallest real eigenvalue of each step's transition, per programmer, over the input tokens: below 0 the
    step flips part of the memory (fully at −1), which is what tracking parity needs."""
    traces = []
    for i, (name, ev) in enumerate(series.items()):
        ev = np.asarray(ev, dtype=float)
        x = np.arange(1, len(ev) + 1)
        ok = np.isfinite(ev)
        traces.append(dict(type="scatter", x=x[ok], y=ev[ok], mode="lines+markers" if len(ev) <= 80 else "lines", name=name,
                           line=dict(color=RULE_COLORS[i % len(RULE_COLORS)]),
                           hovertemplate=f"{name}: step %{{x}}, min Re λ = %{{y:.3f}}<extra></extra>"))
    n = max((len(ev) for ev in series.values()), default=0)
    labels = [str(tok) for tok in list(tokens)[:n]]
    xaxis = dict(title=dict(text="input token"))
    if len(labels) == n and n <= 80:  # the bits themselves on the axis (BOS first), so a flip can be read off a 1
        xaxis.update(tickmode="array", tickvals=list(range(1, n + 1)), ticktext=labels)
    layout = dict(height=300, margin=dict(l=50, r=20, t=30, b=40), font=FONT, legend=dict(orientation="h", y=-0.25),
                  xaxis=xaxis, yaxis=dict(title=dict(text="smallest Re λ of the step"), range=[-1.1, 1.1]),
                  shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=0, y1=0, line=dict(color="#999", dash="dot"))])
    return _figure(traces, layout)
