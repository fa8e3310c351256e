"""AppTest: the Programmer page trains a tiny programmer, steps through what it writes, compares β ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from fwp_core import programmer as prog
from fwp_core.programmer import pretrain
from tests.helpers import decode, figure_with_trace, no_errors, open_page, trace_named

ROOT = Path(__file__).resolve().parents[2]


def page(**params: str) -> AppTest:
    return open_page("programmer", 240, **params)


def test_page_opens_on_the_shipped_parity_programmer_stepping_through_test_bits() -> None:
    at = page()
    no_errors(at)
    entry = pretrain.find("parity", "delta", "linear", 2.0, 1500, 0)
    assert entry is not None
    recorded = pretrain.recorded_scores(entry)
    labels = {m.label: m.value for m in at.metric}
    for L, score in recorded.items():  # the page's own evaluation of the shipped file matches the manifest
        assert labels[f"accuracy at length {L}"] == f"{score:.3f}"
    assert labels["β ∈ (0, 2): accuracy at length 64"] == f"{recorded[64]:.3f}"
    other = pretrain.recorded_scores(pretrain.find("parity", "delta", "linear", 1.0, 1500, 0))
    assert labels["β ∈ (0, 1): accuracy at length 64"] == f"{other[64]:.3f}"
    charts = [c.key for c in at.get("plotly_chart")]
    assert {"prog_training", "prog_emitted", "prog_weights", "prog_eigs"} <= set(charts), charts
    assert any("shipped with the app" in c.value for c in at.caption)
    assert not at.info  # nothing asks to press Train first
    # the emitted β are those of the shipped model on the default test bits
    model = pretrain.shipped("parity", "delta", "linear", 2.0, 1500, 0).model
    ep = model.programme("0110100111010011")
    np.testing.assert_allclose(decode(trace_named(figure_with_trace(at, "β"), "β")["y"]), ep.beta.numpy().reshape(-1), atol=1e-6)


def test_every_shipped_programmer_opens_ready() -> None:
    for e in pretrain.SHIPPED:
        at = page(prog_task=e.task, prog_rule=e.rule, prog_kind=e.kind, prog_beta=f"0-{e.beta_max:g}")
        no_errors(at)
        assert "prog_weights" in [c.key for c in at.get("plotly_chart")], e
        assert any("shipped with the app" in c.value for c in at.caption), e


def test_a_configuration_without_a_shipped_programmer_says_how_long_training_takes() -> None:
    at = page(prog_rule="hebbian", prog_steps="200")
    no_errors(at)
    assert any("Press **Train**" in i.value and "200 steps" in i.value for i in at.info)
    at.button(key="prog_train").click().run()
    no_errors(at)
    assert not at.info and "prog_weights" in [c.key for c in at.get("plotly_chart")]


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


def test_parity_eigenvalue_timeline_is_labelled_by_the_bits() -> None:
    at = page(prog_bits="0110")
    no_errors(at)
    from tests.helpers import chart

    spec = chart(at, "prog_eigs")
    assert spec["layout"]["xaxis"]["ticktext"] == ["BOS", "0", "1", "1", "0"]
    text = next(c.value for c in at.caption if c.value.startswith("The smallest eigenvalue"))
    low = decode(trace_named(spec, "β ∈ (0, 2)")["y"])
    assert f"negative on {int((low < 0).sum())} of {low.size} tokens" in text  # the caption counts what the chart shows
