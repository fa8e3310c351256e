"""The pages the UI benchmark measures against: they must run, step, and (the floor) send the Explorer's chart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.helpers import decode, trace_named

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_trivial_app_counts_its_steps() -> None:
    at = AppTest.from_file(str(BENCH / "trivial_app.py"), default_timeout=60).run()
    at.button[0].click().run()
    assert not at.exception and [c.value for c in at.caption] == ["n = 1"]


def test_floor_page_steps_the_explorers_weights_chart() -> None:
    at = AppTest.from_file(str(BENCH / "one_chart_app.py"), default_timeout=60).run()
    assert not at.exception and [c.value for c in at.caption] == ["t = 1 / 64"]
    at.button[0].click().run()
    assert [c.value for c in at.caption] == ["t = 2 / 64"]
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert chart.proto.id and "datarevision" in spec["layout"] and "template" not in spec["layout"]
    W = decode(trace_named(spec, "W_t")["z"])
    assert W.shape == (16, 16) and np.isfinite(W).all()
    assert "update at step 2" in json.dumps(spec["layout"]["annotations"])
