"""Builders of the Explorer and Home pages (pages/explorer.py, home.py, and the player of app/player.py): the
fast weights of step t (``weights_figure``), the parallel form (``attention_figure``), the retrieval error with the
step's eigenvalues (``retrieval_error_figure``), every step as animation frames (``smooth_playback_figure``) and
Home's write-then-read picture (``write_read_figure``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fwp_core.experiments.explorer import ExplorerResult

from ..state import LIMITS
from ._spec import (FONT, OUTLINE, RULE_COLORS, _axes, _axis, _coloraxis, _figure, _heat, _heatmap, _hm, _layout,
                    symmetric_range)


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


def _ticks(n: int, offset: float = 0.0, most: int = 5) -> tuple[list[float], list[str]]:
    """Tick positions and labels for a block of n cells numbered from 0, starting at ``offset``: a round step
    giving at most ``most`` ticks, plus the last index when it is not next to one of them."""
    step = next((c for c in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500) if n / c <= most), 1000)
    idx = list(range(0, n, step))
    if n - 1 - idx[-1] >= max(2, step / 2):
        idx.append(n - 1)
    return [offset + i for i in idx], [str(i) for i in idx]


def _index_grid(rows: int, cols: int, extra: np.ndarray | None = None) -> list:
    """Per-cell hover data [row, col] (and ``extra[row, col]``) for a heatmap drawn off its own axes' origin."""
    if extra is None:
        return [[[i, j] for j in range(cols)] for i in range(rows)]
    return [[[i, j, extra[i, j]] for j in range(cols)] for i in range(rows)]




def _block_axes(starts: Sequence[float], d_k: int, d_v: int, x_range: list[float], x_title: str, *,
                extra_ticks: tuple[list[float], list[str]] = ([], []), **y) -> dict:
    """The x and y axes of matrices drawn side by side on one pair of axes (blocks of d_k columns starting at
    ``starts``; ``extra_ticks`` for what follows them): each block's ticks count its own columns from 0, rows
    count from 0 down; ``y`` sets the row axis' direction (a range or autorange)."""
    tickvals, ticktext = [], []
    for x0 in starts:
        v, tx = _ticks(d_k, x0)
        tickvals += v
        ticktext += tx
    yvals, ytext = _ticks(d_v)
    # "allow": the labels sit inside the figure anyway, and checking each one for overflow measures its box
    plain = dict(tickmode="array", showgrid=False, zeroline=False, showline=False, ticklabeloverflow="allow")
    return dict(
        xaxis=dict(plain, tickvals=tickvals + list(extra_ticks[0]), ticktext=ticktext + list(extra_ticks[1]), range=x_range,
                   title=dict(text=x_title, standoff=8)),
        yaxis=dict(plain, **y, tickvals=yvals, ticktext=ytext, title=dict(text="value dim ↓")),
    )


def _block(z, name: str, x0: float, hovertext: str, *, dx: float = 1.0, y0: float = 0.0, dy: float = 1.0,
           customdata=None) -> dict:
    """A heatmap trace placed at (x0, y0) on the figure's one pair of axes, on the shared colour axis."""
    return _heatmap(z, name, hovertext + "<extra></extra>", customdata=customdata, x0=x0, dx=dx, y0=y0, dy=dy)


def weights_figure(
    W_prev: np.ndarray, update: np.ndarray, W_t: np.ndarray, *, key: np.ndarray, query: np.ndarray, value: np.ndarray,
    retrieved: np.ndarray, output: np.ndarray, zmax: float, t: int, hover: np.ndarray | None = None, title: str = "",
    parallel_output: np.ndarray | None = None, as_spec: bool = False, max_index_cells: int = LIMITS.max_hover_cells,
    colorbar: bool = True,
) -> go.Figure:
    """W_{t−1} → update → W_t, with the vectors of step t: v_t, the retrieval r_t (the rule's read, W_{t−1}φ(k_t)), y_t and (where a
    parallel form exists) y_t from it beside, φ(k_t) under the update and φ(q_t) under W_t. Heatmap traces are
    named ``W_t-1``, ``update``, ``W_t``, ``values``, ``key``, ``query``. One colour range (``zmax``) for the
    whole figure.

    All blocks share one pair of axes, side by side (a grid of subplots costs plotly.js about three times as
    much to draw, on every step); each block's ticks count from 0 and its hover names the cell's own indices
    (for matrices of up to ``max_index_cells`` cells; beyond that the hover shows the value only).
    ``colorbar=False`` leaves the colour scale to the page (``legend_html``): plotly.js spends ~17 ms of every
    mount on a colorbar, and the Explorer mounts this figure afresh at each step."""
    d_v, d_k = np.shape(W_t)
    gap = max(3, round(0.15 * d_k))  # room for the φ(k) / φ(q) labels between the blocks
    xs = (0, d_k + gap, 2 * (d_k + gap))  # left edges (cell centres) of W_{t-1}, update, W_t
    vx = 3 * (d_k + gap)
    vecs, names = [value, retrieved, output], ["v", "r", "y"]
    if parallel_output is not None:
        vecs, names = [*vecs, parallel_output], [*names, "y∥"]
    vw = max(1.5, 0.45 * d_k) / len(vecs)  # the width of one vector column, in cells
    row_h = max(1.0, 0.15 * d_v)  # the height of the φ(k) and φ(q) rows, in cells
    y_row = d_v - 0.5 + max(1.0, 0.08 * d_v) + row_h / 2
    indexed = d_v * d_k <= max_index_cells
    cell = "%{z:.4f}"

    at = "[%{customdata[0]}, %{customdata[1]}]" if indexed else ""
    wt_hover = f"W_{t}{at} = {cell}"
    wt_data = None
    if indexed:
        wt_data = _index_grid(d_v, d_k, hover)
        if hover is not None:
            wt_hover += "<br>largest writes to this cell:<br>%{customdata[2]}"
    grid = _index_grid(d_v, d_k) if indexed else None
    vec_data = [[[n, i] for n in names] for i in range(d_v)]
    col_data = [[[j] for j in range(len(key))]]
    traces = [
        _block(W_prev, "W_t-1", xs[0], f"W_{t - 1}{at} = {cell}", customdata=grid),
        _block(update, "update", xs[1], f"ΔW{at} = {cell}", customdata=grid),
        _block(W_t, "W_t", xs[2], wt_hover, customdata=wt_data),
        _block(np.stack(vecs, axis=1), "values", vx - 0.5 + vw / 2, "%{customdata[0]}[%{customdata[1]}] = %{z:.6f}", dx=vw,
             customdata=vec_data),
        _block(np.asarray(key)[None, :], "key", xs[1], f"φ(k<sub>{t}</sub>)[%{{customdata[0]}}] = {cell}", y0=y_row, dy=row_h,
             customdata=col_data),
        _block(np.asarray(query)[None, :], "query", xs[2], f"φ(q<sub>{t}</sub>)[%{{customdata[0]}}] = {cell}", y0=y_row,
             dy=row_h, customdata=col_data),
    ]
    heads = [(f"W<sub>{t - 1}</sub> (before)", xs[0] + (d_k - 1) / 2), (f"update at step {t}", xs[1] + (d_k - 1) / 2),
             (f"W<sub>{t}</sub> (after)", xs[2] + (d_k - 1) / 2), ("vectors", vx - 0.5 + vw * len(names) / 2)]
    notes = [dict(text=h, x=x, xref="x", y=1.0, yref="paper", yanchor="bottom", showarrow=False, font=dict(size=14))
             for h, x in heads]
    notes += [dict(text=f"{lbl}<sub>{t}</sub>)", x=x0 - 0.6, xref="x", y=y_row, yref="y", xanchor="right", showarrow=False)
              for lbl, x0 in (("φ(k", xs[1]), ("φ(q", xs[2]))]
    layout = dict(
        **_block_axes(xs, d_k, d_v, [-0.5 - 0.3 * gap, vx - 0.5 + vw * len(names) + 0.3 * gap], "key dim →",
                      extra_ticks=([vx - 0.5 + vw * (i + 0.5) for i in range(len(names))], names), autorange="reversed"),
        annotations=notes, plot_bgcolor="rgba(0,0,0,0)", height=440, margin=dict(l=55, r=20, t=40, b=50), font=FONT,
        **_coloraxis(zmax, "value"),
    )
    layout["coloraxis"]["showscale"] = colorbar
    if title:
        layout["title"] = dict(text=title)
        layout["margin"]["t"] = 80
    return _figure(traces, layout, as_spec)


def attention_figure(
    t: int, *, attention: np.ndarray | None = None, correction: np.ndarray | None = None,
    pseudo_values: np.ndarray | None = None, contributions: np.ndarray | None = None, scores: np.ndarray | None = None,
    gated: bool = False, step: str = "β", substeps: bool = False, tokens: Sequence[str] = (), window: int = 256,
    as_spec: bool = False, colorbar: bool = True,
) -> go.Figure:
    """The parallel form at step t with row t boxed (``colorbar=False``: the page draws the scale, see
    ``legend_for``); the matrices come from ``explorer.attention_panels``.

    Delta-type rules (``correction`` given): A = QKᵀ ⊙ Γ ⊙ M (``attention``; Γ only when ``gated``), the correction
    T = (I + L)⁻¹ diag(step) (``correction``), the pseudo-values U = T V (``pseudo_values``) and the contributions
    C = A T over the values (``contributions``): Y = A U = C V. Other rules with a parallel form: A with everything
    folded in, Y = A V (``attention``). Otherwise only the causal scores QKᵀ ⊙ M (``scores``; ``substeps``:
    token-level scores of a rule whose parallel form runs over sub-steps). Long sequences show a window of
    ``window`` tokens ending at t."""
    square = next(m for m in (attention, scores) if m is not None)
    T = square.shape[0]
    lo = max(0, min(t, T) - window) if T > window else 0
    hi = min(T, lo + window)
    idx = np.arange(lo, hi)
    labels = idx + 1  # numeric token axes: category axes of many strings are slow to draw on every step
    win = np.ix_(idx, idx)
    if correction is not None and pseudo_values is not None and contributions is not None:
        panels = [("attention", attention[win], labels), ("correction", correction[win], labels),
                  ("pseudo_values", pseudo_values[idx], np.arange(pseudo_values.shape[1])),
                  ("contributions", contributions[win], labels)]
        titles = ("A = QKᵀ ⊙ Γ ⊙ M" if gated else "A = QKᵀ ⊙ M", f"correction T = (I + L)⁻¹ diag({step})",
                  "pseudo-values U = T V", "contributions C = A T")
        widths = (0.28, 0.28, 0.16, 0.28)
    elif attention is not None:
        panels = [("attention", attention[win], labels)]
        titles = ("attention A: y_t = Σ_s A_ts v_s",)
        widths = None
    else:
        panels = [("scores", scores[win], labels)]
        titles = ("QKᵀ ⊙ M, token-level scores only (first sub-step keys)" if substeps
                  else "QKᵀ ⊙ M (this rule has no parallel form)",)
        widths = None
    layout = _layout(1, len(panels), titles, column_widths=widths, hspace=0.06 if widths else 0.1)
    zmax = symmetric_range(*[p[1] for p in panels])
    traces, shapes = [], []
    for n, (name, z, xlab) in enumerate(panels, start=1):
        traces.append(_hm(n, z, name, name + "[t=%{y}, %{x}] = %{z:.4f}<extra></extra>", x=xlab, y=labels))
        _axis(layout, "y", n, autorange="reversed", showticklabels=n == 1)
        _axis(layout, "x", n, title=dict(text="value dim →" if name == "pseudo_values" else "token s →"))
        if name != "pseudo_values" and lo <= t - 1 < hi:
            xa, ya = _axes(n)
            shapes.append(dict(type="rect", xref=xa, yref=ya, x0=lo + 0.5, x1=hi + 0.5, y0=t - 0.5, y1=t + 0.5,
                               line=dict(color=OUTLINE, width=2)))
    _axis(layout, "y", 1, title=dict(text="token t ↓"))
    layout.update(_coloraxis(zmax, "weight"), shapes=shapes, height=440, margin=dict(l=60, r=20, t=50, b=40), font=FONT)
    layout["coloraxis"]["showscale"] = colorbar
    return _figure(traces, layout, as_spec)


def retrieval_error_figure(
    errors: dict[str, np.ndarray], t: int, *, eigenvalues: np.ndarray | None = None, T: int | None = None,
    diverged_at: dict[str, int | None] | None = None, as_spec: bool = False,
) -> go.Figure:
    """Retrieval error ‖v_t − r_t‖ (r_t the rule's read before the write) over time for one or more rules, with a cursor at t; beside it,
    the eigenvalues of step t's transition in the complex plane with the unit circle (one rule only)."""
    cols = 2 if eigenvalues is not None else 1
    layout = _layout(1, cols, ("retrieval error before each write", f"eigenvalues of step {t}'s transition")[:cols],
                     column_widths=(0.68, 0.32) if cols == 2 else None, hspace=0.1)
    n = T or max(len(e) for e in errors.values())
    traces: list[dict] = []
    shapes = [dict(type="line", xref="x", yref="y domain", x0=t, x1=t, y0=0, y1=1, line=dict(color="#555", width=1.5))]
    for i, (name, err) in enumerate(errors.items()):
        color = RULE_COLORS[i % len(RULE_COLORS)]
        err = np.asarray(err, dtype=float)
        steps = np.arange(1, len(err) + 1)
        ok = np.isfinite(err)
        traces.append(dict(type="scatter", x=steps[ok], y=err[ok], mode="lines+markers" if len(err) <= 64 else "lines",
                           name=name, line=dict(color=color), legendgroup=name,
                           hovertemplate=f"{name}: step %{{x}}, error %{{y:.4f}}<extra></extra>"))
        if 1 <= t <= len(err) and ok[t - 1]:
            traces.append(dict(type="scatter", x=[t], y=[err[t - 1]], mode="markers", showlegend=False, legendgroup=name,
                               name=f"{name} at t", hoverinfo="skip",
                               marker=dict(size=11, color=color, line=dict(color=OUTLINE, width=1.5))))
        d = (diverged_at or {}).get(name)
        if d is not None:
            shapes.append(dict(type="line", xref="x", yref="y domain", x0=d, x1=d, y0=0, y1=1, line=dict(color=color, dash="dot")))
    _axis(layout, "x", 1, title=dict(text="step t"), range=[0.5, n + 0.5])
    _axis(layout, "y", 1, title=dict(text="‖v − r‖"), rangemode="tozero")
    if eigenvalues is not None:
        th = np.linspace(0, 2 * np.pi, 181)
        ev = np.asarray(eigenvalues)
        traces.append(dict(type="scatter", x=np.cos(th), y=np.sin(th), mode="lines", line=dict(color="#999", dash="dot"),
                           name="unit circle", hoverinfo="skip", showlegend=False, xaxis="x2", yaxis="y2"))
        traces.append(dict(type="scatter", x=ev.real, y=ev.imag, mode="markers", name="eigenvalues", showlegend=False,
                           marker=dict(size=9, color="#c0392b"), hovertemplate="λ = %{x:.4f} %{y:+.4f}i<extra></extra>",
                           xaxis="x2", yaxis="y2"))
        r = max(1.2, float(np.abs(ev).max()) * 1.1 if ev.size else 1.2)
        _axis(layout, "x", 2, range=[-r, r], title=dict(text="Re λ"))
        _axis(layout, "y", 2, range=[-r, r], title=dict(text="Im λ"), scaleanchor="x2")
    layout.update(shapes=shapes, height=320, margin=dict(l=50, r=20, t=40, b=40), font=FONT,
                  legend=dict(orientation="h", y=-0.25), showlegend=len(errors) > 1)
    return _figure(traces, layout, as_spec)


def smooth_playback_figure(weights: np.ndarray, updates: np.ndarray, zmax: float, as_spec: bool = False,
                           max_index_cells: int = LIMITS.max_hover_cells) -> go.Figure:
    """Every step as a Plotly frame named "1" … "T" (the update of step t beside W_t), for the player of
    ``app/player.py`` to animate in the browser with no server round trip.

    plotly.js redraws the whole figure on every frame, text included, so the figure is kept to what a frame
    needs: one pair of axes with the two matrices side by side, fixed ranges and ticks, no titles, slider,
    buttons or colorbar (a 256-step plotly slider alone held playback to ~14 frames/s; titles and colorbar
    cost another third). The player draws the controls and the colour scale (``colour_stops``) in HTML."""
    T = updates.shape[0]
    d_v, d_k = np.shape(weights)[-2:]
    gap = max(1, round(0.15 * d_k))
    x_w = d_k + gap
    grid = _index_grid(d_v, d_k) if d_v * d_k <= max_index_cells else None
    at = "[%{customdata[0]}, %{customdata[1]}]" if grid is not None else ""
    traces = [_block(updates[0], "update", 0, f"ΔW{at} = %{{z:.4f}}", customdata=grid),
              _block(weights[1], "W_t", x_w, f"W{at} = %{{z:.4f}}", customdata=grid)]
    # frames in float32: half the bytes to send and parse (the hover shows 4 decimals; float32 holds 7 digits)
    frames = [dict(name=str(s + 1), traces=[0, 1], data=[dict(type="heatmap", z=np.asarray(updates[s], dtype=np.float32)),
                                                        dict(type="heatmap", z=np.asarray(weights[s + 1], dtype=np.float32))])
              for s in range(T)]
    axis = _coloraxis(zmax, "value")
    axis["coloraxis"]["showscale"] = False  # the player draws the colour scale; a colorbar is redrawn every frame
    layout = dict(
        **_block_axes((0, x_w), d_k, d_v, [-0.5 - 0.3 * gap, x_w + d_k - 0.5 + 0.3 * gap],
                      "update of step t (left) and W<sub>t</sub> (right) · key dim →", range=[d_v - 0.5, -0.5]),
        plot_bgcolor="rgba(0,0,0,0)", height=400, margin=dict(l=55, r=20, t=10, b=50), font=FONT, **axis,
    )
    return _figure(traces, layout, as_spec, frames=frames)


def write_read_figure(W: np.ndarray, key: np.ndarray, value: np.ndarray, read: np.ndarray, zmax: float) -> go.Figure:
    """Home page: the memory after the writes, the query key, and the value read back beside the stored one."""
    # titles on two lines and tick labels only on W: the chart stays legible in a narrow column (a 1024-px projector)
    fig = make_subplots(rows=1, cols=3, column_widths=[0.56, 0.17, 0.27], horizontal_spacing=0.08,
                        subplot_titles=("W after<br>6 writes", "key<br>k₃", "v₃ and<br>W k₃"))
    fig.add_trace(_heat(W, "W"), 1, 1)
    fig.add_trace(_heat(key[:, None], "key", x=["k₃"]), 1, 2)
    fig.add_trace(_heat(np.stack([value, read], axis=1), "values", x=["v₃", "W k₃"]), 1, 3)
    for c in (1, 2, 3):
        fig.update_yaxes(autorange="reversed", row=1, col=c)
    fig.update_yaxes(title_text="value dim ↓", row=1, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_yaxes(showticklabels=False, row=1, col=3)
    fig.update_xaxes(title_text="key dim →", row=1, col=1)
    fig.update_annotations(font_size=12)
    fig.update_layout(**_coloraxis(zmax, "value"), height=340, margin=dict(l=50, r=20, t=60, b=40), font=FONT)
    return fig


def weights_figure_at(result: ExplorerResult, t: int, *, hover: bool = False, as_spec: bool = False) -> Any:
    """The Explorer's weights figure at step t: W_{t−1} → update → W_t with the step's vectors, on the result's one
    colour range. ``hover``: each cell of W_t names the tokens that wrote it (up to ``LIMITS.max_hover_cells``
    cells). ``as_spec``: the chart as the stepper sends it, its colour scale drawn beside it (no colorbar);
    otherwise a full figure with its colorbar, as the HTML export saves it."""
    trace, i = result.trace, t - 1
    W = trace.weights.numpy()
    labels = None
    if hover and W.shape[-2] * W.shape[-1] <= LIMITS.max_hover_cells:
        labels = contribution_labels(trace.updates[:t].numpy(), result.tokens, t)
    return weights_figure(
        W[t - 1], W[t] - W[t - 1], W[t], key=trace.token_keys[i].numpy(),
        query=trace.queries[i].numpy(), value=trace.token_values[i].numpy(),
        retrieved=trace.retrieved[i].numpy(), output=trace.outputs[i].numpy(), zmax=result.zmax, t=t, hover=labels,
        parallel_output=None if result.parallel_outputs is None else result.parallel_outputs[i], as_spec=as_spec,
        max_index_cells=LIMITS.max_hover_cells, colorbar=not as_spec,
    )
