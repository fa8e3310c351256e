"""The per-step figure builders: the spec handed to st.plotly_chart (as_spec=True) is the same JSON as
the full go.Figure's, and Streamlit accepts it."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest

from app import figures


def _inputs(d_v: int = 3, d_k: int = 4, T: int = 6, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return dict(W=rng.normal(size=(d_v, d_k)), U=rng.normal(size=(d_v, d_k)), k=rng.normal(size=d_k),
                v=rng.normal(size=d_v), A=np.tril(rng.normal(size=(T, T))), err=np.abs(rng.normal(size=T)))


BUILDERS = {
    "weights": lambda x, **kw: figures.weights_figure(
        x["W"] - x["U"], x["U"], x["W"], key=x["k"], query=x["k"], value=x["v"], retrieved=x["v"] * 0.5, output=x["v"],
        zmax=3.0, t=2, hover=np.full(x["W"].shape, "token a (step 1: +0.100)", dtype=object), parallel_output=x["v"], **kw),
    "attention": lambda x, **kw: figures.attention_figure(x["A"], 3, correction=x["A"], pseudo_values=x["A"][:, :3], **kw),
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
    assert _json(spec) == _json(full)
    if name == "weights":  # the W_t trace carries the matrix and the hover labels
        wt = next(tr for tr in _json(spec)["data"] if tr["name"] == "W_t")
        assert wt["customdata"][0][0] == "token a (step 1: +0.100)"


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
