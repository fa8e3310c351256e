"""Builders of the Language page (pages/language.py): held-out loss curves of the models side by side, and for one
character of a typed sentence each model's next-character prediction, what its read retrieves from the earlier
characters, and its fast weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ._spec import FONT, OUTLINE, RULE_COLORS, _coloraxis, _heat, symmetric_range


def shown_char(c: str) -> str:
    """A character as a label: a space as ␣, a newline as ⏎."""
    return {" ": "␣", "\n": "⏎"}.get(c, c)


def curves_figure(histories: Mapping[str, Sequence[Mapping[str, float]]], bigram: float | None = None) -> go.Figure:
    """Held-out bits per character (solid) and training bits per character (dotted) against the step, one colour per
    model; the bigram entropy (the best any model that sees only the previous character can do) as a dashed line."""
    fig = go.Figure()
    for i, (name, hist) in enumerate(histories.items()):
        color = RULE_COLORS[i % len(RULE_COLORS)]
        steps = [h["step"] for h in hist]
        fig.add_trace(go.Scatter(x=steps, y=[h["val_bpc"] for h in hist], mode="lines+markers", name=name, legendgroup=name,
                                 line=dict(color=color), marker=dict(size=4),
                                 hovertemplate=f"{name}: step %{{x}}, held-out %{{y:.3f}} bits/char<extra></extra>"))
        fig.add_trace(go.Scatter(x=steps, y=[h["train_bpc"] for h in hist], mode="lines", name=f"{name} (training)",
                                 legendgroup=name, showlegend=False, line=dict(color=color, dash="dot", width=1),
                                 hovertemplate=f"{name}: step %{{x}}, training %{{y:.3f}} bits/char<extra></extra>"))
    if bigram is not None:
        fig.add_hline(y=bigram, line=dict(color=OUTLINE, dash="dash", width=1),
                      annotation_text=f"bigram {bigram:.3f}", annotation_position="top right")
    fig.update_layout(height=340, margin=dict(l=50, r=20, t=30, b=40), font=FONT, xaxis_title="training step",
                      yaxis_title="bits per character", legend=dict(orientation="h", y=-0.25))
    return fig


def prediction_figure(top: Sequence[tuple[str, float]], actual: str | None) -> go.Figure:
    """The likeliest next characters and their probabilities; the one that actually comes next is dark."""
    labels = [shown_char(c) for c, _ in top][::-1]
    probs = [p for _, p in top][::-1]
    colors = ["#17202a" if actual is not None and c == actual else "#85929e" for c, _ in top][::-1]
    fig = go.Figure(go.Bar(x=probs, y=labels, orientation="h", marker=dict(color=colors), name="p(next)",
                           hovertemplate="p(next = %{y}) = %{x:.3f}<extra></extra>"))
    fig.update_layout(height=220, margin=dict(l=40, r=10, t=30, b=30), font=FONT, title=dict(text="next character", x=0),
                      xaxis=dict(range=[0, 1], title="probability"), yaxis=dict(type="category"))
    return fig


def retrieval_figure(row: np.ndarray, chars: str, t: int) -> go.Figure:
    """Row t of a layer's attention matrix (mean over heads): how much each earlier character's value adds to the
    read at character t (for delta-type rules the weights of the pseudo-values)."""
    x = np.arange(1, t + 1)
    fig = go.Figure(go.Bar(x=x, y=np.asarray(row[:t], dtype=float), marker=dict(color="#2471a3"), name="weight",
                           customdata=[shown_char(c) for c in chars[:t]],
                           hovertemplate="character %{x} (%{customdata}): %{y:.3f}<extra></extra>"))
    ticks = x if t <= 12 else x[:: -(-t // 12)]  # at most 12 labels
    fig.update_layout(height=220, margin=dict(l=40, r=10, t=30, b=40), font=FONT, title=dict(text="what the read retrieves", x=0),
                      xaxis=dict(tickmode="array", tickvals=ticks, ticktext=[shown_char(chars[i - 1]) for i in ticks],
                                 title="earlier characters"), yaxis=dict(title="weight"))
    return fig


def memory_figure(W: np.ndarray, title: str) -> go.Figure:
    """One head's fast weights W_t (d_v × d_φ) on a symmetric colour scale."""
    zmax = symmetric_range(W)
    fig = go.Figure(_heat(np.asarray(W, dtype=float), "W_t", hover="W[%{y}, %{x}] = %{z:.3f}<extra></extra>"))
    fig.update_layout(height=220, margin=dict(l=30, r=10, t=30, b=20), font=FONT, title=dict(text=title, x=0),
                      yaxis=dict(autorange="reversed", showticklabels=False), xaxis=dict(showticklabels=False),
                      **_coloraxis(zmax, "W"))
    return fig
