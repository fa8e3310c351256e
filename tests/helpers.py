"""Helpers shared by the app and browser tests."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

_DTYPES = {"f8": np.float64, "f4": np.float32, "i1": np.int8, "i2": np.int16, "i4": np.int32, "u1": np.uint8,
           "u2": np.uint16, "u4": np.uint32, "i8": np.int64, "u8": np.uint64}


def decode(value: Any) -> np.ndarray:
    """A plotly JSON array → numpy: plain (nested) lists, or plotly's typed arrays {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=_DTYPES[value["dtype"]])
        shape = value.get("shape")
        if shape:
            dims = [int(s) for s in str(shape).split(",")] if not isinstance(shape, list) else shape
            arr = arr.reshape(dims)
        return arr.astype(float)
    if isinstance(value, list) and value and isinstance(value[0], dict) and "bdata" in value[0]:
        return np.stack([decode(v) for v in value])
    return np.asarray(value, dtype=float)


def figure_specs(at: Any) -> list[dict]:
    """Every plotly figure of an AppTest run, as JSON dicts."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def trace_named(spec: dict, name: str) -> dict:
    for tr in spec["data"]:
        if tr.get("name") == name:
            return tr
    raise AssertionError(f"no trace named {name!r} in {[t.get('name') for t in spec['data']]}")


def figure_with_trace(at: Any, name: str) -> dict:
    """The first figure of an AppTest run that holds a trace named ``name``."""
    for spec in figure_specs(at):
        if any(tr.get("name") == name for tr in spec["data"]):
            return spec
    raise AssertionError(f"no figure holds a trace named {name!r}")


def expected_trace(cfg: Any):
    """The trace the Explorer computes for a configuration, computed independently of the page."""
    import fwp_core
    from fwp_core.experiments import explorer

    rule = fwp_core.make_rule(cfg.rule, **dict(cfg.hparams))
    inputs = explorer.run_inputs(cfg, explorer.build_episode(cfg), rule)
    return rule.run(inputs["q"], inputs["k"], inputs["v"], beta=inputs["beta"], gate=inputs["gate"])


def open_page(page: str, timeout: float = 120, **params: Any):
    """Run ``pages/<page>.py`` in AppTest with the given URL query parameters."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "pages" / f"{page}.py"), default_timeout=timeout)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


FALLBACK = "Something went wrong"
"""The app's last-line-of-defence message (app/layout.guarded): a test that meets it has found a bug."""


def page_texts(at: Any) -> list[str]:
    """The text of every element of an AppTest run (main area and sidebar), in order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        for attr in ("value", "label", "body"):
            v = getattr(node, attr, None)
            if isinstance(v, str):
                out.append(v)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def no_errors(at: Any) -> None:
    """No exception box, no st.error, and the app's generic fallback message nowhere on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    fallback = [t for t in page_texts(at) if FALLBACK in t]
    assert not fallback, fallback


def chart(at: Any, key: str) -> dict:
    """The plotly spec of the chart with Streamlit key ``key``."""
    specs = {el.key: spec for el, spec in zip(at.get("plotly_chart"), figure_specs(at))}
    assert key in specs, f"no chart {key!r}; charts: {list(specs)}"
    return specs[key]


def table_starting_with(at: Any, first: str):
    """The dataframe of an AppTest run whose first column, or whose index (a square table), starts with ``first``."""
    for df in at.dataframe:
        v = df.value
        if (len(v.columns) and v.columns[0] == first) or (len(v.index) and v.index[0] == first):
            return v
    raise AssertionError(f"no table starting with {first!r}: {[list(d.value.columns) for d in at.dataframe]}")


def forms_diffs(at: Any) -> dict[str, float]:
    """The Forms page's max |Y_a − Y_b| of every pair of forms, from its square table, keyed "a vs b" with
    ``fwp_core.forms.FORMS`` names."""
    from fwp_core.forms import FORM_TITLES

    v = table_starting_with(at, FORM_TITLES["recurrent"])
    assert list(v.index) == list(v.columns)
    name = {t: f for f, t in FORM_TITLES.items()}
    forms = [name[t] for t in v.index]
    return {f"{a} vs {b}": float(v.iloc[i, j]) for i, a in enumerate(forms) for j, b in enumerate(forms) if i < j}
