"""AppTest: the Programmer page trains a tiny programmer, steps through what it writes, compares β ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from fwp_core import programmer as prog
from tests.helpers import decode, figure_with_trace, open_page, trace_named

ROOT = Path(__file__).resolve().parents[2]


def page(**params: str) -> AppTest:
    return open_page("programmer", 240, **params)


def test_untrained_page_explains_what_to_do() -> None:
    at = page()
    assert not at.exception and not at.error
    assert any("Press **Train**" in i.value for i in at.info)


def test_train_tiny_parity_programmer_and_step_through_it() -> None:
    at = page(prog_steps="40", prog_seed="3", prog_bits="0110")
    at.button(key="prog_train").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = {m.label: float(m.value) for m in at.metric}
    assert 0.0 <= labels["accuracy at length 64"] <= 1.0
    # the emitted β in the chart are the programmer's β for "0110" (BOS + 4 bits)
    spec = figure_with_trace(at, "β")
    beta_chart = decode(trace_named(spec, "β")["y"])
    result = prog.train("parity", "delta", kind="linear", beta_range=(0, 2), steps=40, seed=3)
    ep = result.model.programme("0110")
    np.testing.assert_allclose(beta_chart, ep.beta.numpy().reshape(-1), atol=1e-6)
    assert len(beta_chart) == 5
    at.slider(key="prog_t").set_value(3).run()
    assert not at.exception
    assert any("token 3" in c.value for c in at.caption)
    # comparing β ranges trains the other one and shows both accuracies and the eigenvalue timelines
    at.button(key="prog_train_other").click().run()
    assert not at.exception and not at.error
    names = [m.label for m in at.metric]
    assert "β ∈ (0, 1): accuracy at length 64" in names and "β ∈ (0, 2): accuracy at length 64" in names
    eig = figure_with_trace(at, "β ∈ (0, 1)")
    low = decode(trace_named(eig, "β ∈ (0, 1)")["y"])
    assert (low >= -1e-9).all()  # β < 1 can never make a negative eigenvalue


def test_bad_bits_give_an_error_not_an_exception() -> None:
    at = page(prog_steps="20", prog_bits="01x1")
    at.button(key="prog_train").click().run()
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)
