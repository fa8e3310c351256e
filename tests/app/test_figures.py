"""The per-step figure builders: the spec handed to st.plotly_chart (as_spec=True) is the same JSON as
the full go.Figure's, and Streamlit accepts it."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest

from app import figures
from tests.helpers import decode, trace_named


def _inputs(d_v: int = 3, d_k: int = 4, T: int = 6, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return dict(W=rng.normal(size=(d_v, d_k)), U=rng.normal(size=(d_v, d_k)), k=rng.normal(size=d_k),
                v=rng.normal(size=d_v), A=np.tril(rng.normal(size=(T, T))), err=np.abs(rng.normal(size=T)))


BUILDERS = {
    "weights": lambda x, **kw: figures.weights_figure(
        x["W"] - x["U"], x["U"], x["W"], key=x["k"], query=x["k"], value=x["v"], retrieved=x["v"] * 0.5, output=x["v"],
        zmax=3.0, t=2, hover=np.full(x["W"].shape, "token a (step 1: +0.100)", dtype=object), parallel_output=x["v"], **kw),
    "attention": lambda x, **kw: figures.attention_figure(3, attention=x["A"], correction=x["A"], pseudo_values=x["A"][:, :3],
                                                          contributions=x["A"] @ x["A"], **kw),
    "retrieval_error": lambda x, **kw: figures.retrieval_error_figure({"delta": x["err"]}, 3, eigenvalues=np.array([1.0, 0.5 + 0.1j]),
                                                                      T=6, **kw),
}


def _json(fig) -> dict:
    return json.loads(pio.to_json(fig.to_dict(), validate=False))


@pytest.mark.parametrize("name", BUILDERS)
def test_spec_equals_the_full_figure(name):
    x = _inputs()
    full, spec = BUILDERS[name](x), BUILDERS[name](x, as_spec=True)
    assert isinstance(spec, figures.ChartSpec) and not isinstance(full, figures.ChartSpec)
    full_json = _json(full)
    assert full_json["layout"].pop("template") == {}  # plotly.py's default kept away; the spec has no template
    assert _json(spec) == full_json
    if name == "weights":  # the W_t trace carries the matrix, each cell's own indices and the hover labels
        wt = next(tr for tr in _json(spec)["data"] if tr["name"] == "W_t")
        assert wt["customdata"][2][1] == [2, 1, "token a (step 1: +0.100)"]


def _span(tr: dict, n: int, along: str) -> tuple[float, float]:
    lo = tr[f"{along}0"] - tr[f"d{along}"] / 2
    return lo, lo + n * tr[f"d{along}"]


def test_weights_blocks_sit_side_by_side_on_one_pair_of_axes():
    """One pair of axes (cheap to draw); the blocks do not overlap, W_t-1, update, W_t, vectors left to right, the
    φ(k) and φ(q) rows below the matrices; the tick labels count each block's columns from 0."""
    x = _inputs(d_v=3, d_k=4)
    spec = _json(BUILDERS["weights"](x, as_spec=True))
    tr = {t["name"]: t for t in spec["data"]}
    assert not any(k.startswith(("xaxis2", "yaxis2")) for k in spec["layout"])
    cols = {"W_t-1": 4, "update": 4, "W_t": 4, "values": 4, "key": 4, "query": 4}
    xs = [_span(tr[n], cols[n], "x") for n in ("W_t-1", "update", "W_t", "values")]
    assert all(a[1] <= b[0] for a, b in zip(xs, xs[1:]))
    assert _span(tr["key"], 4, "x") == xs[1] and _span(tr["query"], 4, "x") == xs[2]
    assert _span(tr["W_t"], 3, "y")[1] <= _span(tr["key"], 1, "y")[0]
    assert spec["layout"]["xaxis"]["ticktext"][:3] == ["0", "1", "2"]
    assert [c[0] for c in tr["values"]["customdata"][0]] == ["v", "r", "y", "y∥"]
    assert tr["key"]["customdata"] == [[[0], [1], [2], [3]]]
    big = figures.weights_figure(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)), key=np.zeros(4), query=np.zeros(4),
                                 value=np.zeros(3), retrieved=np.zeros(3), output=np.zeros(3), zmax=1, t=1, max_index_cells=11)
    assert all("customdata" not in t for t in big.to_dict()["data"][:3])  # above the cap: values only
    assert "%{customdata" not in big.to_dict()["data"][2]["hovertemplate"]


def test_self_styled_sets_the_app_look():
    x = _inputs()
    for dark in (False, True):
        spec = figures.self_styled(BUILDERS["retrieval_error"](x, as_spec=True), dark).to_dict()
        lay = spec["layout"]
        assert lay["paper_bgcolor"] == "rgba(0,0,0,0)" and lay["font"]["family"] == figures.APP_FONT
        assert lay["font"]["color"] == ("#fafafa" if dark else "#31333f") and lay["font"]["size"] == figures.FONT["size"]
        assert lay["xaxis2"]["gridcolor"] == lay["yaxis"]["gridcolor"]
        assert "template" not in lay  # plotly.js compares a template by identity: one would force a full redraw
        full = figures.self_styled(BUILDERS["retrieval_error"](x), dark)  # a full figure gets the same look
        assert full.layout.font.color == lay["font"]["color"] and full.layout.xaxis2.gridcolor == lay["xaxis2"]["gridcolor"]


def test_weights_colour_scale_as_colorbar_or_legend():
    x = _inputs()
    assert BUILDERS["weights"](x).to_dict()["layout"]["coloraxis"]["showscale"] is True  # the saved figure has its bar
    assert BUILDERS["weights"](x, as_spec=True, colorbar=False).to_dict()["layout"]["coloraxis"]["showscale"] is False
    assert BUILDERS["attention"](x).to_dict()["layout"]["coloraxis"]["showscale"] is True
    no_bar = BUILDERS["attention"](x, as_spec=True, colorbar=False)
    assert no_bar.to_dict()["layout"]["coloraxis"]["showscale"] is False
    assert figures.legend_for(no_bar, "s") == figures.legend_html(no_bar.to_dict()["layout"]["coloraxis"]["cmax"], "s")
    legend = figures.legend_html(3.0, "scale <b>")
    assert "-3</span>" in legend and "+3</span>" in legend and "scale &lt;b&gt;" in legend
    stops = figures.colour_stops()
    assert f"{stops[0][1]} 0.0%" in legend and f"{stops[-1][1]} 100.0%" in legend


def test_data_revision_follows_the_data():
    """Equal data give equal revisions (plotly.js then skips redrawing a re-sent figure); any change of a data
    array, numeric or text, gives a new one (so a changed figure is never left stale)."""
    x = _inputs()
    a, b = BUILDERS["weights"](x, as_spec=True).to_dict(), BUILDERS["weights"](x, as_spec=True).to_dict()
    assert a["layout"]["datarevision"] == b["layout"]["datarevision"]
    assert BUILDERS["weights"](x).to_dict()["layout"]["datarevision"] == a["layout"]["datarevision"]
    base = [dict(type="heatmap", z=np.arange(6.0).reshape(2, 3), customdata=[["a", "b", "c"]] * 2)]
    rev = figures.data_revision(base)
    changed_z = [dict(base[0], z=base[0]["z"] + np.eye(2, 3) * 1e-9)]
    changed_text = [dict(base[0], customdata=[["a", "b", "d"]] * 2)]
    changed_dtype = [dict(base[0], z=base[0]["z"].astype(np.float32))]
    assert len({rev, *map(figures.data_revision, (changed_z, changed_text, changed_dtype))}) == 4
    assert figures.data_revision([dict(base[0], z=base[0]["z"].copy())]) == rev


def test_dark_pages_get_light_outlines():
    """The near-black box around step t and the marker rims would vanish on a dark page: dark swaps them for the
    light ink, in a spec and in a full figure alike; light leaves them."""
    x = _inputs()
    for as_spec in (True, False):
        light = _json(figures.self_styled(BUILDERS["attention"](x, as_spec=as_spec), dark=False))
        dark = _json(figures.self_styled(BUILDERS["attention"](x, as_spec=as_spec), dark=True))
        assert light["layout"]["shapes"][0]["line"]["color"] == figures.OUTLINE
        assert dark["layout"]["shapes"][0]["line"]["color"] == "#fafafa"
        assert figures.OUTLINE not in json.dumps(dark)
    ones = np.ones((6, 2))
    prog = figures.page_spec(figures.programme_figure(["#111"] * 6, ones, ones, ones, np.ones(6), 2), dark=True).to_dict()
    assert {sh["line"]["color"] for sh in prog["layout"]["shapes"]} == {"#fafafa"}  # the box around step t: swapped
    assert trace_named(prog, "β")["customdata"] == ["#111"] * 6  # a token that reads "#111" is text: kept
    rims = [_json(figures.self_styled(BUILDERS["retrieval_error"](x), dark=d)) for d in (False, True)]  # traces too
    assert figures.OUTLINE in json.dumps(rims[0]) and figures.OUTLINE not in json.dumps(rims[1])


def test_themed_charts_get_light_outlines_on_dark_pages():
    """Charts left to Streamlit's theme (Capacity, Biology) get the same swap: the dashed theory line stays visible."""
    n = np.arange(1, 5)
    curves = {"hebbian": dict(n=n, mean=n * 0.1, std=n * 0.0, diverged_at_n=None)}
    light = figures.outlines_for(figures.capacity_figure(curves, theory=(n, n * 0.1)), dark=False)
    dark = figures.outlines_for(figures.capacity_figure(curves, theory=(n, n * 0.1)), dark=True)
    assert next(tr for tr in light.data if tr.name == "theory").line.color == figures.OUTLINE
    assert next(tr for tr in dark.data if tr.name == "theory").line.color == "#fafafa"


def test_page_spec_sends_a_full_figure_self_styled():
    x = _inputs()
    full = figures.recall_errors_figure({"delta": (np.arange(1, 4), np.array([0.5, 0.2, 0.0]))}, 3, 5)
    spec = figures.page_spec(full, dark=True).to_dict()
    assert "template" not in spec["layout"] and spec["layout"]["font"]["color"] == "#fafafa"
    assert spec["layout"]["datarevision"] == figures.data_revision(spec["data"])
    np.testing.assert_allclose(decode(trace_named(spec, "delta")["y"]), [0.5, 0.2, 0.0])
    assert figures.page_spec(BUILDERS["weights"](x), dark=False).to_dict()["data"][2]["name"] == "W_t"


def test_streamlit_takes_the_spec():
    from streamlit.testing.v1 import AppTest

    def app():
        import numpy as np
        import streamlit as st

        from app import figures

        st.plotly_chart(figures.retrieval_error_figure({"delta": np.array([0.5, 0.25, 0.125])}, 2, as_spec=True), key="c")

    at = AppTest.from_function(app).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["name"] == "delta" and spec["layout"]["shapes"][0]["x0"] == 2


def test_smooth_playback_frames_carry_every_step():
    """Frame "t" holds the update of step t and W_t (float32); one pair of axes, no plotly slider, buttons or colorbar
    (the player of app/player.py steps and plays them and draws the scale), and the spec equals the full figure's."""
    rng = np.random.default_rng(1)
    W = np.cumsum(rng.normal(size=(6, 3, 4)), axis=0)
    U = W[1:] - W[:-1]
    spec = _json(figures.smooth_playback_figure(W, U, 5.0, as_spec=True))
    full = _json(figures.smooth_playback_figure(W, U, 5.0))
    assert full["layout"].pop("template") == {} and spec == full
    assert [f["name"] for f in spec["frames"]] == ["1", "2", "3", "4", "5"]
    for t in (1, 5):
        frame = spec["frames"][t - 1]
        assert frame["traces"] == [0, 1]
        np.testing.assert_allclose(decode(frame["data"][0]["z"]), U[t - 1], rtol=1e-6)
        np.testing.assert_allclose(decode(frame["data"][1]["z"]), W[t], rtol=1e-6)
    assert [tr["name"] for tr in spec["data"]] == ["update", "W_t"]
    lay = spec["layout"]
    assert not lay.get("sliders") and not lay.get("updatemenus") and "xaxis2" not in lay
    assert lay["coloraxis"]["cmin"] == -5.0 and lay["coloraxis"]["cmax"] == 5.0 and not lay["coloraxis"]["showscale"]
    stops = figures.colour_stops()  # the player's legend: the same scale, blue for negative, red for positive
    assert stops[0] == (0.0, "rgb(5,48,97)") and stops[-1] == (1.0, "rgb(103,0,31)")
