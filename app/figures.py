"""Plotly figure builders: pure functions of arrays, a step t and options → ``go.Figure``.

Conventions everywhere: one diverging scale centred at 0 (positive red, negative blue) and one colour
range per figure, fixed across all steps (the caller passes it); matrices drawn with row 0 at the top;
axes labelled (value dim ↓, key dim →). Nothing here imports Streamlit, and no NaN is ever drawn:
builders receive finite arrays (the pages cut a diverged trace before its first bad step).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64
from plotly.subplots import make_subplots

COLORSCALE = plotly.colors.get_colorscale("RdBu_r")  # red positive, blue negative; resolved here, since figures
# assembled without validation pass names straight to plotly.js, which knows no "_r" suffix
RULE_COLORS = ("#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e", "#17202a")
FONT = dict(size=12)
OUTLINE = "#111"  # cursor boxes, marker outlines, the theory line: near-black, swapped for the light ink on dark pages


def symmetric_range(*arrays: np.ndarray) -> float:
    """max |x| over the finite entries of all arrays (1 when there are none or all are 0)."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a, dtype=float)
        finite = a[np.isfinite(a)]
        if finite.size:
            m = max(m, float(np.abs(finite).max()))
    return m if m > 0 else 1.0


def colour_stops() -> list[tuple[float, str]]:
    """The diverging scale as (position in [0, 1], CSS colour) pairs, for colour legends drawn outside plotly."""
    return [(float(p), c) for p, c in COLORSCALE]


def legend_for(fig: go.Figure, label: str) -> str:
    """``legend_html`` for a figure drawn without its colorbar: the range of its colour axis."""
    return legend_html(float(fig.to_dict()["layout"]["coloraxis"]["cmax"]), label)


def legend_html(zmax: float, label: str) -> str:
    """The colour scale of a figure drawn without a colorbar, as a line of HTML: −zmax, the gradient, +zmax."""
    stops = ", ".join(f"{c} {100 * p:.1f}%" for p, c in colour_stops())
    return (f'<div class="fwp-legend" role="img" aria-label="colour scale from {-zmax:.3g} to {zmax:.3g}" '
            'style="display:flex;justify-content:flex-end;align-items:center;gap:0.4rem;font-size:0.85rem;'
            f'font-variant-numeric:tabular-nums"><span>{html.escape(label)}</span><span>{-zmax:.3g}</span>'
            f'<span style="display:inline-block;width:9rem;height:0.75rem;border-radius:0.2rem;'
            f'background:linear-gradient(to right, {stops})"></span><span>+{zmax:.3g}</span></div>')


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


@functools.lru_cache(maxsize=64)
def _grid(rows: int, cols: int, row_heights: tuple | None, column_widths: tuple | None, hspace: float, vspace: float,
          n_titles: int) -> str:
    """The layout of a subplot grid as JSON (built once per shape; per-step figures copy it)."""
    fig = make_subplots(rows=rows, cols=cols, row_heights=list(row_heights) if row_heights else None,
                        column_widths=list(column_widths) if column_widths else None, horizontal_spacing=hspace,
                        vertical_spacing=vspace, subplot_titles=[f"__title{i}__" for i in range(n_titles)] or None)
    return json.dumps(fig.layout.to_plotly_json())


def _layout(rows: int, cols: int, titles: Sequence[str] = (), *, row_heights=None, column_widths=None, hspace: float = 0.05,
            vspace: float = 0.1) -> dict:
    """A fresh subplot layout dict with the given panel titles (empty titles are dropped)."""
    layout = json.loads(_grid(rows, cols, tuple(row_heights) if row_heights else None,
                              tuple(column_widths) if column_widths else None, hspace, vspace, len(titles)))
    layout.pop("template", None)  # make_subplots' default template; _figure decides
    notes = []
    for a in layout.get("annotations", []):
        i = int(a["text"].strip("_").removeprefix("title"))
        if titles[i]:
            notes.append({**a, "text": titles[i]})
    layout["annotations"] = notes
    return layout


def _axes(n: int) -> tuple[str, str]:
    """Trace axis references of the n-th subplot (row-major, from 1)."""
    return ("x", "y") if n == 1 else (f"x{n}", f"y{n}")


def _axis(layout: dict, kind: str, n: int, **props) -> None:
    layout.setdefault(f"{kind}axis{'' if n == 1 else n}", {}).update(props)


def _hm(n: int, z, name: str, hover: str, *, x=None, y=None, customdata=None) -> dict:
    """A heatmap trace dict on subplot n sharing the figure's colour axis."""
    xa, ya = _axes(n)
    tr = dict(type="heatmap", z=np.asarray(z, dtype=float), name=name, coloraxis="coloraxis", xaxis=xa, yaxis=ya,
              hovertemplate=hover)
    if x is not None:
        tr["x"] = x
    if y is not None:
        tr["y"] = y
    if customdata is not None:
        tr["customdata"] = customdata
    return tr


class ChartSpec(go.Figure):
    """A finished figure spec (plain dicts) for ``st.plotly_chart``, which takes any plotly figure through
    its ``to_dict()``: this one hands its spec over as it is, without building plotly's object tree and
    deep-copying it back out (about 4 ms a figure, three figures a step, every session). Nothing but
    ``to_dict`` works on it; the builders return a full ``go.Figure`` unless asked for ``as_spec=True``."""

    def __init__(self, traces: list[dict], layout: dict, frames: list[dict] | None = None):  # not go.Figure.__init__
        spec = {"data": traces, "layout": layout}
        if frames:
            spec["frames"] = frames
        convert_to_base64(spec)  # numeric arrays as typed-array specs, exactly as go.Figure.to_dict gives them
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec

    def __repr__(self) -> str:
        return f"ChartSpec({len(self._spec['data'])} traces)"


APP_FONT = '"Source Sans", "Source Sans Pro", sans-serif'
_INK = {False: ("#31333f", "rgba(49,51,63,0.12)", "rgba(49,51,63,0.45)"),  # text, grid, zero line / axis line
        True: ("#fafafa", "rgba(250,250,250,0.14)", "rgba(250,250,250,0.5)")}


def _lighten_outlines(obj, ink: str):
    """Every ``color`` equal to ``OUTLINE`` inside a spec's dicts and lists set to ``ink`` (in place; only colours,
    so a token that happens to read "#111" keeps its text); returns the spec."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        if k == "color" and v == OUTLINE:
            obj[k] = ink
        elif isinstance(v, (dict, list)):
            _lighten_outlines(v, ink)
    return obj


def outlines_for(fig: go.Figure, dark: bool) -> go.Figure:
    """On a dark page, every near-black ``OUTLINE`` (the box around step t, marker rims, the theory line) becomes
    the light ink, which Streamlit's chart theme does not do either; a light page keeps them. In place."""
    if not dark:
        return fig
    ink = _INK[True][0]
    if isinstance(fig, ChartSpec):
        _lighten_outlines(fig.to_dict(), ink)
        return fig

    def has(obj, path: str) -> bool:
        for part in path.split("."):
            obj = getattr(obj, part, None)
        return obj == OUTLINE

    fig.update_shapes(line_color=ink, selector=lambda sh: has(sh, "line.color"))
    fig.update_traces(line_color=ink, selector=lambda tr: has(tr, "line.color"))
    fig.update_traces(marker_line_color=ink, selector=lambda tr: has(tr, "marker.line.color"))
    return fig


def self_styled(fig: go.Figure, dark: bool) -> go.Figure:
    """The app's look written into the figure, for ``st.plotly_chart(..., theme=None)``.

    Streamlit's own chart theme is merged into the figure in the browser each time a chart mounts, and every
    changed chart mounts afresh; on a 2-core machine that merge costs ~40–70 ms a chart, most of a step's
    budget. The per-step charts therefore carry their own fonts and colours (light or dark) and no
    template; everything else about them (the colour scale, the ranges) is unchanged."""
    layout = fig.to_dict()["layout"] if isinstance(fig, ChartSpec) else None
    ink, grid, line = _INK[bool(dark)]
    outlines_for(fig, dark)
    style = dict(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                 font=dict(family=APP_FONT, size=FONT["size"], color=ink), hoverlabel=dict(font=dict(family=APP_FONT)))
    axes = dict(gridcolor=grid, zerolinecolor=line, linecolor=line)
    if layout is None:
        fig.update_layout(**style)
        fig.update_xaxes(**axes)
        fig.update_yaxes(**axes)
        return fig
    for name, value in style.items():
        layout[name] = {**layout.get(name, {}), **value} if isinstance(value, dict) else value
    for name in [k for k in layout if k.startswith(("xaxis", "yaxis"))] or ["xaxis", "yaxis"]:
        layout[name] = {**layout.get(name, {}), **axes}
    return fig


def data_revision(traces: list[dict]) -> str:
    """A digest of the traces' data, for ``layout.datarevision``.

    Streamlit mounts a chart and then hands plotly.js the same figure again, deep-copied, once its own state
    settles (``Plotly.react``); without a ``datarevision`` plotly.js takes every copied array for new data and
    draws the whole figure a second time (~45 ms of a step's budget here). With one, it compares the revision
    instead: equal figures carry equal revisions and are not redrawn, changed data changes the revision."""
    h = hashlib.blake2b(digest_size=8)

    def array(a: np.ndarray) -> str:  # hashed where it stands in the JSON: numbers as raw bytes, text joined
        h.update(f"{a.dtype.str}{a.shape}".encode())
        if a.dtype.kind in "biuf":
            h.update(np.ascontiguousarray(a).data)
        else:
            h.update("\x1f".join(map(str, a.ravel())).encode())
        return "#"

    h.update(json.dumps(traces, sort_keys=True, default=array, ensure_ascii=False).encode())
    return h.hexdigest()


def page_spec(fig: go.Figure, dark: bool) -> ChartSpec:
    """A figure sent the way the per-step charts are: self-styled for ``st.plotly_chart(..., theme=None)``,
    without a template and with its ``datarevision`` (see ``data_revision``), so that a mount draws it once.
    A builder's ``as_spec=True`` result already has the last two and is only styled."""
    if isinstance(fig, ChartSpec):
        return self_styled(fig, dark)
    spec = fig.to_dict()
    layout = spec["layout"]
    layout.pop("template", None)
    layout["datarevision"] = data_revision(spec["data"])
    return self_styled(ChartSpec(spec["data"], layout, spec.get("frames")), dark)


def _figure(traces: list[dict], layout: dict, as_spec: bool = False, frames: list[dict] | None = None) -> go.Figure:
    """Assemble without plotly's per-property validation: the builders below emit known-good dicts, and
    validation would cost tens of milliseconds on every step. ``as_spec``: a ChartSpec for st.plotly_chart.

    Neither carries a plotly template (the figures set what they need): the full figure says so with an empty
    one, which keeps plotly.py's default away; the spec leaves the key out, since plotly.js compares a template
    by identity and would redraw a re-sent, equal figure in full for it. Both carry a ``datarevision``."""
    layout["datarevision"] = data_revision(traces)
    if as_spec:
        layout.pop("template", None)
        return ChartSpec(traces, layout, frames)
    layout.setdefault("template", {})
    return go.Figure(data=traces, layout=layout, frames=frames, _validate=False)


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


MAX_INDEX_CELLS = 64 * 64  # matrices up to this size carry each cell's indices for the hover


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
    tr = dict(type="heatmap", z=np.asarray(z, dtype=float), name=name, coloraxis="coloraxis", x0=x0, dx=dx, y0=y0, dy=dy,
              hovertemplate=hovertext + "<extra></extra>")
    if customdata is not None:
        tr["customdata"] = customdata
    return tr


def weights_figure(
    W_prev: np.ndarray, update: np.ndarray, W_t: np.ndarray, *, key: np.ndarray, query: np.ndarray, value: np.ndarray,
    retrieved: np.ndarray, output: np.ndarray, zmax: float, t: int, hover: np.ndarray | None = None, title: str = "",
    parallel_output: np.ndarray | None = None, as_spec: bool = False, max_index_cells: int = MAX_INDEX_CELLS,
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
    ``legend_for``); the matrices come from ``compute.attention_panels``.

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
                           max_index_cells: int = MAX_INDEX_CELLS) -> go.Figure:
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


# ---------------------------------------------------------------------------------------------- lab pages
# Builders of the Compare, Capacity and Forms pages (pages/compare.py, capacity.py, forms.py).


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


def forms_outputs_figure(outputs: dict[str, np.ndarray], zmax: float) -> go.Figure:
    """The outputs Y (T × d_v) of each form side by side on one colour range (traces named after the forms)."""
    names = list(outputs)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[f"Y from the {n} form" for n in names], horizontal_spacing=0.05)
    for c, name in enumerate(names, start=1):
        fig.add_trace(_heat(outputs[name], name, hover=name + ": y_%{y}[%{x}] = %{z:.6f}<extra></extra>",
                            y=np.arange(1, outputs[name].shape[0] + 1)), 1, c)
        fig.update_yaxes(autorange="reversed", row=1, col=c)
        fig.update_xaxes(title_text="value dim →", row=1, col=c)
    fig.update_yaxes(title_text="token t ↓", row=1, col=1)
    fig.update_layout(**_coloraxis(zmax, "y"), height=380, margin=dict(l=50, r=20, t=40, b=40), font=FONT)
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


# ---------------------------------------------------------------------------------------------- biology page
# Builders of the Biology page (pages/biology.py). Each takes one result of ``fwp_core.biology`` (frozen, read-only
# numpy arrays; duck-typed, nothing is imported from the core here) and draws only finite values.

_BIO_GREY = "#7f8c8d"


def _bio_xy(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """dict(x=..., y=...) of the points where both are finite (for ``go.Scatter(**_bio_xy(x, y))``)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    return dict(x=x[ok], y=y[ok])


def bio_three_factor_figure(res) -> go.Figure:
    """Three-factor learning over time (a ``ThreeFactorResult``). Top: the items (pre·post coincidences; traces
    ``rewarded item`` and ``unrewarded item``), the eligibility trace ‖E_t‖ (trace ``eligibility ‖E_t‖``) and the
    neuromodulator M_t (trace ``M_t``). Bottom: ‖W_t‖ of the three-factor rule (trace ``three-factor ‖W_t‖``), of the
    causal FWP with two fast weights (markers ``two fast weights ‖W_t‖``, on the red line at every step), of plain
    Hebbian learning (trace ``Hebbian ‖W_t‖``), and of the non-causal β-weighted Hebbian sum Σ_{s≤t} β_s v_s k_sᵀ
    (trace ``β-weighted Hebbian sum``), which jumps at an item before its reward and meets W_t only at T."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("coincidences leave an eligibility trace; the neuromodulator M_t converts it",
                                        "what is written: ‖W_t‖ (dots: the two-fast-weight FWP)"))
    t = np.asarray(res.time, dtype=float)
    items = np.asarray(res.item_times, dtype=float)
    rew = np.asarray(res.rewarded, dtype=bool)
    fig.add_trace(go.Bar(x=t, y=res.modulator, name="M_t", marker_color=RULE_COLORS[4], width=0.7,
                         hovertemplate="step %{x}: M = %{y:.3f}<extra>neuromodulator</extra>"), 1, 1)
    fig.add_trace(go.Scatter(**_bio_xy(t, res.eligibility_norm), mode="lines", name="eligibility ‖E_t‖",
                             line=dict(color=RULE_COLORS[2], width=2),
                             hovertemplate="step %{x}: ‖E‖ = %{y:.3f}<extra></extra>"), 1, 1)
    for mask, name, symbol in ((rew, "rewarded item", "star"), (~rew, "unrewarded item", "circle-open")):
        if mask.any():
            idx = np.flatnonzero(mask)
            fig.add_trace(go.Scatter(x=items[mask], y=np.full(mask.sum(), 1.12), mode="markers+text", name=name,
                                     text=[f"item {i + 1}" for i in idx], textposition="top center",
                                     marker=dict(symbol=symbol, size=12, color="#17202a"),
                                     hovertemplate="item presented at step %{x}<extra></extra>"), 1, 1)
    for name, y, color, dash in (("three-factor ‖W_t‖", res.weight_norm, RULE_COLORS[0], None),
                                 ("Hebbian ‖W_t‖", res.hebbian_weight_norm, RULE_COLORS[1], "dash"),
                                 ("β-weighted Hebbian sum", res.beta_sum_norm, _BIO_GREY, "dot")):
        fig.add_trace(go.Scatter(**_bio_xy(t, y), mode="lines", name=name, line=dict(color=color, width=2, dash=dash),
                                 line_shape="hv", hovertemplate="step %{x}: ‖W‖ = %{y:.3f}<extra>" + name + "</extra>"), 2, 1)
    fig.add_trace(go.Scatter(**_bio_xy(t, res.fwp_weight_norm), mode="markers", name="two fast weights ‖W_t‖",
                             marker=dict(symbol="circle", size=4, color="#17202a"),
                             hovertemplate="step %{x}: ‖W‖ = %{y:.3f}<extra>causal FWP, two fast weights</extra>"), 2, 1)
    top = max(1.45, float(np.nanmax(np.asarray(res.modulator, dtype=float))) * 1.1)
    fig.update_yaxes(title_text="activity", range=[0, top], row=1, col=1)
    fig.update_yaxes(title_text="‖W_t‖_F", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="time step t", row=2, col=1)
    fig.update_layout(height=480, margin=dict(l=60, r=20, t=40, b=40), font=FONT, bargap=0,
                      legend=dict(orientation="h", y=-0.14))
    return fig


def bio_stored_figure(res) -> go.Figure:
    """How strongly each item ended up stored, v_iᵀ W_T k_i (a ``ThreeFactorResult``): bars ``Hebbian`` and
    ``three-factor`` (overlaid, the narrow one in front), and the non-causal write strength β_s = Σ_{t≥s} M_t λ^{t−s}
    of each item (markers ``β_s (non-causal)``). β_s equals the final three-factor bar (keys orthonormal, values
    unit), but it sums rewards that arrive after the item, so it matches W_T only, not W_t on the way."""
    n = len(res.stored)
    rew = np.asarray(res.rewarded, dtype=bool)
    labels = [f"item {i + 1}" + (" ★" if rew[i] else "") for i in range(n)]
    beta = np.asarray(res.beta_equivalent, dtype=float)[np.asarray(res.item_times, dtype=int) - 1]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=res.hebbian_stored, name="Hebbian", marker_color=RULE_COLORS[1], opacity=0.35, width=0.75,
                         hovertemplate="%{x}: Hebbian stores %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Bar(x=labels, y=res.stored, name="three-factor", marker_color=RULE_COLORS[0], width=0.35,
                         hovertemplate="%{x}: three-factor stores %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=labels, y=beta, mode="markers", name="β_s (non-causal)",
                             marker=dict(symbol="diamond", size=11, color="#17202a"),
                             hovertemplate="%{x}: β_s = Σ_{t≥s} M_t λ^(t−s) = %{y:.4f} (uses later rewards)<extra></extra>"))
    fig.update_yaxes(title_text="stored strength v_iᵀ W_T k_i", rangemode="tozero")
    fig.update_layout(barmode="overlay", height=340, margin=dict(l=60, r=20, t=20, b=40), font=FONT,
                      legend=dict(orientation="h", y=-0.18))
    return fig


def bio_oja_figure(res) -> go.Figure:
    """Oja vs plain Hebbian growth over the inputs (an ``OjaResult``). Left: log₁₀ ‖w_t‖ (traces ``Oja`` and
    ``Hebbian``; 0 means ‖w‖ = 1; the log is finite even where the Hebbian norm overflows). Right: the angle between
    w_t and the top eigenvector (traces ``Oja angle``, ``Hebbian angle``)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("weight norm: log₁₀ ‖w_t‖ (0 means ‖w‖ = 1)", "angle to the top eigenvector"))
    steps = res.steps
    with np.errstate(divide="ignore"):
        log_oja = np.log10(np.asarray(res.norm_oja, dtype=float))
    series = (("Oja", log_oja, res.angle_oja, RULE_COLORS[0]),
              ("Hebbian", res.log10_norm_hebbian, res.angle_hebbian, RULE_COLORS[1]))
    for (name, lognorm, angle, color), dash in zip(series, (None, "dash")):
        xy = _bio_xy(steps, lognorm)
        fig.add_trace(go.Scatter(**xy, mode="lines", name=name, legendgroup=name, line=dict(color=color, width=2, dash=dash),
                                 customdata=np.power(10.0, np.clip(xy["y"], -300, 300)),
                                 hovertemplate=f"{name}: step %{{x}}, ‖w‖ = %{{customdata:.4g}}<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(**_bio_xy(steps, angle), mode="lines", name=f"{name} angle", legendgroup=name,
                                 showlegend=False, line=dict(color=color, width=2, dash=dash),
                                 hovertemplate=f"{name}: step %{{x}}, angle %{{y:.2f}}°<extra></extra>"), 1, 2)
    fig.add_hline(y=0.0, line=dict(color="#555", dash="dot"), row=1, col=1)
    fig.update_xaxes(title_text="inputs seen t", row=1, col=1)
    fig.update_xaxes(title_text="inputs seen t", row=1, col=2)
    fig.update_yaxes(title_text="log₁₀ ‖w_t‖", row=1, col=1)
    fig.update_yaxes(title_text="degrees", range=[0, 92], row=1, col=2)
    fig.update_layout(height=340, margin=dict(l=60, r=20, t=40, b=40), font=FONT, legend=dict(orientation="h", y=-0.22))
    return fig


def bio_oja_inputs_figure(res, max_points: int = 800) -> go.Figure:
    """The input cloud (first two coordinates; trace ``inputs``), the top eigenvector's axis (trace ``top
    eigenvector``), the unit circle, and the path of Oja's weights w_0 → w_T (traces ``Oja path`` and ``Oja w_T``)."""
    x = np.asarray(res.inputs, dtype=float)[:, :2]
    if len(x) > max_points:
        x = x[np.linspace(0, len(x) - 1, max_points).astype(int)]
    x = x[np.isfinite(x).all(axis=1)]
    u = np.asarray(res.top_eigenvector, dtype=float)[:2]
    w = np.asarray(res.weights_oja, dtype=float)[:, :2]
    w = w[np.isfinite(w).all(axis=1)]
    r = max(1.5, float(np.percentile(np.abs(x), 98)) if x.size else 1.5)
    th = np.linspace(0, 2 * np.pi, 181)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x[:, 0], y=x[:, 1], mode="markers", name="inputs", marker=dict(size=4, color=_BIO_GREY, opacity=0.45),
                             hovertemplate="k = (%{x:.2f}, %{y:.2f})<extra></extra>"))
    fig.add_trace(go.Scatter(x=[-r * u[0], r * u[0]], y=[-r * u[1], r * u[1]], mode="lines", name="top eigenvector",
                             line=dict(color="#17202a", dash="dash"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=np.cos(th), y=np.sin(th), mode="lines", name="‖w‖ = 1", line=dict(color="#999", dash="dot"),
                             hoverinfo="skip"))
    if len(w):
        fig.add_trace(go.Scatter(x=w[:, 0], y=w[:, 1], mode="lines", name="Oja path", line=dict(color=RULE_COLORS[0], width=1.5),
                                 hovertemplate="w = (%{x:.3f}, %{y:.3f})<extra></extra>"))
        fig.add_trace(go.Scatter(x=[w[-1, 0]], y=[w[-1, 1]], mode="markers+text", name="Oja w_T", text=["w_T"],
                                 textposition="top right", marker=dict(size=12, color=RULE_COLORS[0], line=dict(color=OUTLINE, width=1)),
                                 hovertemplate="w_T = (%{x:.3f}, %{y:.3f})<extra></extra>"))
        fig.add_trace(go.Scatter(x=[w[0, 0]], y=[w[0, 1]], mode="markers+text", name="w_0", text=["w_0"], textposition="bottom right",
                                 marker=dict(size=9, color="#fff", line=dict(color=RULE_COLORS[0], width=2)),
                                 hovertemplate="w_0 = (%{x:.3f}, %{y:.3f})<extra></extra>"))
    fig.update_xaxes(title_text="input dim 1", range=[-r, r], zeroline=True)
    fig.update_yaxes(title_text="input dim 2", range=[-r, r], scaleanchor="x", zeroline=True)
    fig.update_layout(height=380, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.2))
    return fig


def bio_stp_figure(res) -> go.Figure:
    """Tsodyks–Markram synapse beside two fast-weight rules (an ``STPResult``). Top: u (trace ``u (facilitation)``),
    x (``x (resources)``), the efficacy u·x (``efficacy u·x``) and the presynaptic spikes (``spikes``). Bottom: the
    strength vᵀW_t k of one item in the ``decay`` rule (trace ``decay rule``) and the ``gated`` rule (``gated rule``)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("the synapse (Tsodyks–Markram): facilitation u, resources x, efficacy u·x",
                                        "the same item held in fast weights: vᵀ W_t k"))
    t = np.asarray(res.time, dtype=float)
    for name, y, color, width in (("u (facilitation)", res.u, RULE_COLORS[0], 1.5), ("x (resources)", res.x, RULE_COLORS[1], 1.5),
                                  ("efficacy u·x", res.efficacy, "#17202a", 2.5)):
        fig.add_trace(go.Scatter(**_bio_xy(t, y), mode="lines", name=name, line=dict(color=color, width=width),
                                 hovertemplate=f"t = %{{x:.2f}} s: {name.split(' ')[0]} = %{{y:.3f}}<extra></extra>"), 1, 1)
    st_ = np.asarray(res.spike_times, dtype=float)
    fig.add_trace(go.Scatter(x=st_, y=np.full(st_.shape, 1.06), mode="markers", name="spikes",
                             marker=dict(symbol="line-ns-open", size=10, color="#555"),
                             hovertemplate="spike at %{x:.3f} s<extra></extra>"), 1, 1)
    fig.add_hline(y=res.baseline, line=dict(color="#555", dash="dot"), annotation_text="rest U", annotation_position="bottom right",
                  row=1, col=1)
    for name, y, color, dash in (("decay rule", res.decay_strength, RULE_COLORS[2], None),
                                 ("gated rule", res.gated_strength, RULE_COLORS[3], "dash")):
        fig.add_trace(go.Scatter(**_bio_xy(t, y), mode="lines", name=name, line=dict(color=color, width=2, dash=dash),
                                 hovertemplate=f"t = %{{x:.2f}} s: {name} vᵀWk = %{{y:.3f}}<extra></extra>"), 2, 1)
    for row in (1, 2):
        fig.add_vline(x=res.last_spike, line=dict(color="#999", dash="dot"), row=row, col=1)
    if res.clear_time is not None:
        fig.add_vline(x=res.clear_time, line=dict(color=RULE_COLORS[3], dash="dash"), annotation_text="gate α = 0 (clear)",
                      annotation_position="top right", row=2, col=1)
    fig.update_yaxes(title_text="u, x, u·x", range=[0, 1.12], row=1, col=1)
    fig.update_yaxes(title_text="vᵀ W_t k", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(height=520, margin=dict(l=60, r=20, t=40, b=40), font=FONT, legend=dict(orientation="h", y=-0.12))
    return fig


def bio_btsp_fields_figure(res) -> go.Figure:
    """Place fields along the track (a ``BTSPResult``), field(x) = Σ w_i r_i(x) / Σ r_i(x): before the lap
    (trace ``before``, drawn when non-zero), after one BTSP lap (``BTSP (1 lap)``), after one and after all Hebbian
    laps (``Hebbian (1 lap)``, ``Hebbian (n laps)``) and after one delta-rule write (``delta rule (1 write)``)."""
    pos = np.asarray(res.positions, dtype=float)
    hf = np.asarray(res.hebbian_fields, dtype=float)
    n = hf.shape[0] - 1
    fig = go.Figure()
    before = np.asarray(res.field_before, dtype=float)
    if np.abs(before[np.isfinite(before)]).max(initial=0.0) > 1e-12:
        fig.add_trace(go.Scatter(**_bio_xy(pos, before), mode="lines", name="before", line=dict(color=_BIO_GREY, dash="dot", width=2)))
    curves = (("Hebbian (1 lap)", hf[min(1, n)], RULE_COLORS[1], "dot", 1.5),
              (f"Hebbian ({n} laps)", hf[n], RULE_COLORS[1], None, 2),
              ("delta rule (1 write)", res.field_delta, RULE_COLORS[2], "dash", 2),
              ("BTSP (1 lap)", res.field_btsp, RULE_COLORS[0], None, 3))
    for name, y, color, dash, width in curves:
        fig.add_trace(go.Scatter(**_bio_xy(pos, y), mode="lines", name=name, line=dict(color=color, dash=dash, width=width),
                                 hovertemplate=f"{name}: %{{x:.0f}} cm, field %{{y:.3f}}<extra></extra>"))
    fig.add_vline(x=res.plateau_position, line=dict(color="#17202a", dash="dash"), annotation_text="plateau",
                  annotation_position="top left")
    peak = max(float(np.nanmax(np.where(np.isfinite(y := np.asarray(c[1], dtype=float)), y, 0.0))) for c in curves)
    fig.add_annotation(x=0.0, y=1.07, xref="paper", yref="paper", showarrow=False, xanchor="left",
                       text="the animal runs this way →", font=dict(size=11, color="#555"))
    fig.update_xaxes(title_text="position on the track (cm)", range=[pos.min(), pos.max()])
    fig.update_yaxes(title_text="field (units of w_max)", range=[0, 1.15 * max(peak, 1e-9)])
    fig.update_layout(height=360, margin=dict(l=60, r=20, t=30, b=40), font=FONT, legend=dict(orientation="h", y=-0.22))
    return fig


def bio_btsp_window_figure(res) -> go.Figure:
    """The BTSP plasticity window (a ``BTSPResult``): Δw of each synapse against when its input was passed relative
    to the plateau onset, for a synapse starting at 0 (trace ``from w = 0``: potentiation) and at w_max (trace
    ``from w = w_max``: depression)."""
    lag = np.asarray(res.window_lag, dtype=float)
    order = np.argsort(lag)
    fig = go.Figure()
    for name, y, color in (("from w = 0", res.dw_from_zero, RULE_COLORS[0]), ("from w = w_max", res.dw_from_max, RULE_COLORS[1])):
        fig.add_trace(go.Scatter(**_bio_xy(lag[order], np.asarray(y, dtype=float)[order]), mode="lines", name=name,
                                 line=dict(color=color, width=2),
                                 hovertemplate=f"{name}: input passed %{{x:+.2f}} s from the plateau, Δw = %{{y:+.3f}}<extra></extra>"))
    fig.add_vline(x=0.0, line=dict(color="#17202a", dash="dash"))
    fig.add_hline(y=0.0, line=dict(color="#999", width=1))
    fig.update_xaxes(title_text="input passed − plateau onset (s)")
    fig.update_yaxes(title_text="Δw in one lap")
    fig.update_layout(height=320, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.25))
    return fig


def bio_btsp_laps_figure(res) -> go.Figure:
    """Field gain (peak of field − field before) after each Hebbian lap (trace ``Hebbian``) against BTSP's gain
    after one lap (trace ``BTSP (1 lap)``, a horizontal line), with the lap where Hebbian learning catches up."""
    hf = np.asarray(res.hebbian_fields, dtype=float)
    before = np.asarray(res.field_before, dtype=float)
    gains = (hf - before).max(axis=1)
    laps = np.arange(len(gains))
    g_btsp = float((np.asarray(res.field_btsp, dtype=float) - before).max())
    fig = go.Figure()
    fig.add_trace(go.Scatter(**_bio_xy(laps, gains), mode="lines+markers" if len(laps) <= 60 else "lines", name="Hebbian",
                             line=dict(color=RULE_COLORS[1], width=2), marker=dict(size=5),
                             hovertemplate="after %{x} laps: gain %{y:.3f}<extra>Hebbian</extra>"))
    fig.add_trace(go.Scatter(x=[0, laps[-1]], y=[g_btsp, g_btsp], mode="lines", name="BTSP (1 lap)",
                             line=dict(color=RULE_COLORS[0], dash="dash", width=2),
                             hovertemplate="BTSP after one lap: gain %{y:.3f}<extra></extra>"))
    if res.hebbian_laps_to_match is not None:
        m = int(res.hebbian_laps_to_match)
        fig.add_trace(go.Scatter(x=[m], y=[gains[m]], mode="markers+text", name="Hebbian catches up", text=[f"lap {m}"],
                                 textposition="top left", marker=dict(size=11, color=RULE_COLORS[1], line=dict(color=OUTLINE, width=1.5)),
                                 hoverinfo="skip"))
    fig.update_xaxes(title_text="laps")
    fig.update_yaxes(title_text="field gain", rangemode="tozero")
    fig.update_layout(height=320, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.25))
    return fig


def bio_kv_sweep_figure(res) -> go.Figure:
    """What a cue recalls (a ``KVRetrievalResult``) as it goes from degraded (s = −1) through the original key (0) to
    specific (1): cos(W q, v₁) (trace ``target v₁``), cos(W q, v₂) (``interferer v₂``), ‖W q‖ (``strength ‖W q‖``);
    the three named cues marked (``cues``) and the 0.9 recall threshold."""
    s = np.asarray(res.specificity, dtype=float)
    fig = go.Figure()
    for name, y, color, dash in (("target v₁", res.sweep_cos_target, RULE_COLORS[0], None),
                                 ("interferer v₂", res.sweep_cos_interferer, RULE_COLORS[1], None),
                                 ("strength ‖W q‖", res.sweep_strength, _BIO_GREY, "dot")):
        fig.add_trace(go.Scatter(**_bio_xy(s, y), mode="lines", name=name, line=dict(color=color, width=2, dash=dash),
                                 hovertemplate=f"specificity %{{x:+.2f}}: {name.split(' ')[0]} %{{y:.3f}}<extra></extra>"))
    cues = np.array([-1.0, 0.0, 1.0])
    ct = np.asarray(res.cos_target, dtype=float)
    fig.add_trace(go.Scatter(x=cues, y=ct, mode="markers+text", name="cues", text=list(res.query_names),
                             textposition=["top right", "top center", "top left"],
                             marker=dict(size=11, color=RULE_COLORS[0], symbol="diamond", line=dict(color=OUTLINE, width=1)),
                             hovertemplate="%{text} cue: cos(W q, v₁) = %{y:.3f}<extra></extra>"))
    fig.add_hline(y=0.9, line=dict(color="#999", dash="dash"), annotation_text="recalled (cos ≥ 0.9)", annotation_position="bottom left")
    fig.update_xaxes(title_text="cue specificity s   (q ∝ k₁ − s·c·k₂)", range=[-1.05, 1.05])
    fig.update_yaxes(title_text="cosine / strength", range=[-0.05, 1.15])
    fig.update_layout(height=360, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.22))
    return fig


def values_figure(values: dict[str, np.ndarray], zmax: float) -> go.Figure:
    """Per-token vectors (T × d_v each, e.g. V and the pseudo-values U) side by side on one colour range; traces named
    ``values`` and ``pseudo_values``. Rows are tokens t (row 1 at the top)."""
    names = list(values)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.12)
    for c, title in enumerate(names, start=1):
        z = values[title]
        name = "pseudo_values" if "pseudo" in title else "values"
        fig.add_trace(_heat(z, name, y=np.arange(1, z.shape[0] + 1), hover=name + "[%{y}, %{x}] = %{z:.4f}<extra></extra>"), 1, c)
        fig.update_yaxes(autorange="reversed", row=1, col=c)
        fig.update_xaxes(title_text="value dim →", row=1, col=c)
    fig.update_yaxes(title_text="token t ↓", row=1, col=1)
    fig.update_layout(**_coloraxis(zmax, "value"), height=380, margin=dict(l=50, r=20, t=50, b=40), font=FONT)
    return fig


# ---------------------------------------------------------------------- programmer page
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
    """The smallest real eigenvalue of each step's transition, per programmer: below 0 the step flips part
    of the memory (a reflection), which is what tracking parity needs."""
    traces = []
    for i, (name, ev) in enumerate(series.items()):
        ev = np.asarray(ev, dtype=float)
        x = np.arange(1, len(ev) + 1)
        ok = np.isfinite(ev)
        traces.append(dict(type="scatter", x=x[ok], y=ev[ok], mode="lines+markers" if len(ev) <= 80 else "lines", name=name,
                           line=dict(color=RULE_COLORS[i % len(RULE_COLORS)]),
                           hovertemplate=f"{name}: step %{{x}}, min Re λ = %{{y:.3f}}<extra></extra>"))
    layout = dict(height=300, margin=dict(l=50, r=20, t=30, b=40), font=FONT, legend=dict(orientation="h", y=-0.25),
                  xaxis=dict(title=dict(text="token t")), yaxis=dict(title=dict(text="smallest Re λ of the step"), range=[-1.1, 1.1]),
                  shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=0, y1=0, line=dict(color="#999", dash="dot"))])
    return _figure(traces, layout)
