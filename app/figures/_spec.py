"""What every figure builder shares: the colour scale, palette and fonts, the chart config, the colour legend,
subplot layouts and heatmap traces, and the assembly of a figure.

Builders make a figure one of two ways. The per-step charts (redrawn at every step) emit plain trace and layout
dicts (``_layout``, ``_axis``, ``_hm``) and assemble them with ``_figure``, which skips plotly's validation and can
hand back a ``ChartSpec``; the others build a validated ``go.Figure`` (``make_subplots``, ``_heat``), which takes
plotly's default template. ``page_spec`` turns either into the self-styled spec the pages send.
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

from fwp_core.experiments.explorer import symmetric_range  # noqa: F401  (one colour range; figures re-export it)

COLORSCALE = plotly.colors.get_colorscale("RdBu_r")  # red positive, blue negative; resolved here, since figures
# assembled without validation pass names straight to plotly.js, which knows no "_r" suffix
RULE_COLORS = ("#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e", "#17202a")
FONT = dict(size=12)
OUTLINE = "#111"  # cursor boxes, marker outlines, the theory line: near-black, swapped for the light ink on dark pages
APP_FONT = '"Source Sans", "Source Sans Pro", sans-serif'
_INK = {False: ("#31333f", "rgba(49,51,63,0.12)", "rgba(49,51,63,0.45)"),  # text, grid, zero line / axis line
        True: ("#fafafa", "rgba(250,250,250,0.14)", "rgba(250,250,250,0.5)")}
# the plotly config every page passes, ``st.plotly_chart(fig, config=CHART_CONFIG)`` (Streamlit only reads it; a
# page that wants more passes ``{**CHART_CONFIG, ...}``)
CHART_CONFIG = {"displaylogo": False}


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


def _heatmap(z, name: str, hover: str, *, x=None, y=None, customdata=None, **place) -> dict:
    """A heatmap trace dict on the figure's shared colour axis; ``place``: where it sits (its axes, or x0/dx/y0/dy).
    ``x``, ``y`` and ``customdata`` are set only when given."""
    tr = dict(type="heatmap", z=np.asarray(z, dtype=float), name=name, coloraxis="coloraxis", **place, hovertemplate=hover)
    if x is not None:
        tr["x"] = x
    if y is not None:
        tr["y"] = y
    if customdata is not None:
        tr["customdata"] = customdata
    return tr


def _heat(z: np.ndarray, name: str, x=None, y=None, hover: str | None = None, customdata=None) -> go.Heatmap:
    """``_heatmap`` as a validated trace, for builders that add traces to a ``go.Figure``."""
    tr = _heatmap(z, name, hover or (name + "[%{y}, %{x}] = %{z:.4f}<extra></extra>"), x=x, y=y, customdata=customdata)
    del tr["type"]
    return go.Heatmap(**tr)


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
    return _heatmap(z, name, hover, x=x, y=y, customdata=customdata, xaxis=xa, yaxis=ya)


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
