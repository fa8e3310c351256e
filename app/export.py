"""Exports: the trace (NPZ, CSV), the configuration (JSON) and figures (standalone HTML)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any

import numpy as np
import plotly.graph_objects as go

import fwp_core


def trace_arrays(trace: fwp_core.Trace, tokens: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every Trace field as a plain numpy array (object arrays never appear: tokens are a string array)."""
    out = {
        "weights": trace.weights.numpy(), "updates": trace.updates.numpy(), "retrieved": trace.retrieved.numpy(),
        "outputs": trace.outputs.numpy(), "retrieval_error": trace.retrieval_error.numpy(), "keys": trace.keys.numpy(),
        "queries": trace.queries.numpy(), "values": trace.values.numpy(), "beta": trace.beta.numpy(),
        "diverged_at": np.array(-1 if trace.diverged_at is None else trace.diverged_at),
        "tokens": np.array(list(tokens), dtype=str),
    }
    if trace.gate is not None:
        out["gate"] = trace.gate.numpy()
    return out


def trace_npz(trace: fwp_core.Trace, tokens: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **trace_arrays(trace, tokens))
    return buf.getvalue()


def trace_csv(trace: fwp_core.Trace, tokens: tuple[str, ...] = ()) -> bytes:
    """One row per step: t, token, β, retrieval error, then r_t, y_t and ‖W_t‖_F."""
    buf = io.StringIO()
    w = csv.writer(buf)
    d_v = trace.outputs.shape[-1]
    w.writerow(["t", "token", "beta", "retrieval_error", *[f"r{i}" for i in range(d_v)], *[f"y{i}" for i in range(d_v)], "W_norm"])
    beta = trace.beta.reshape(trace.T, -1)[:, 0].numpy()
    norms = np.linalg.norm(trace.weights[1:].numpy().reshape(trace.T, -1), axis=1)
    for t in range(trace.T):
        w.writerow([t + 1, tokens[t] if t < len(tokens) else "", f"{beta[t]:.9g}", f"{float(trace.retrieval_error[t]):.9g}",
                    *[f"{x:.9g}" for x in trace.retrieved[t].tolist()], *[f"{x:.9g}" for x in trace.outputs[t].tolist()],
                    f"{norms[t]:.9g}"])
    return buf.getvalue().encode()


def config_json(config: Any) -> bytes:
    data = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    return json.dumps(data, indent=2, sort_keys=True, default=str).encode()


def figure_html(fig: go.Figure) -> bytes:
    """A standalone HTML page with plotly.js embedded (opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True).encode()
