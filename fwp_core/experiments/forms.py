"""The Forms page's experiment, pure (no Streamlit, no Plotly): one rule's recurrence, parallel form, chunked form and,
where a Mamba2 head computes it, the SSM scan, on one episode, as arrays for the page's figures; and the measured
timing of each form (which the benchmarks reuse). ``app.cache`` caches ``run_forms`` per setting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import forms as core
from .. import ssm
from ..registry import get_spec
from ..sequences import MAMBA2_A


@dataclass(frozen=True)
class FormsResult:
    rule: str
    T: int
    chunk_size: int
    recurrent: np.ndarray  # (T, d_v)
    parallel: np.ndarray
    chunked: np.ndarray
    diffs: dict[str, float]  # max |difference| of each pair of forms ("a vs b", fwp_core.forms.FORMS order)
    panels: tuple[tuple[str, str, np.ndarray, str], ...]  # (trace name, title, T×T matrix, x-axis title)
    values: dict[str, np.ndarray]  # V, and the pseudo-values U for delta rules: (T, d_v) each
    chunk_sizes: np.ndarray  # every chunk size tried
    chunk_diffs: np.ndarray  # max |chunked(C) − recurrent| for each
    ssm: np.ndarray | None = None  # (T, d_v) from the SSM scan, where a Mamba2 head computes this rule on these inputs
    ssm_note: str = ""  # why there is no SSM scan ("" where there is one)
    inputs: str = "gaussian"  # the episode: fwp_core.forms.INPUTS
    A: float | None = None  # the SSM's state matrix A (None without the scan)
    dt_range: tuple[float, float] | None = None  # smallest and largest Δ_t the scan ran with
    mapping: tuple[dict[str, Any], ...] = ()  # ssm.NAME_MAP rows with "here": max |FWP − SSM| of that role
    diff_matrix: tuple[tuple[float, ...], ...] = ()  # max |Y_a − Y_b| for every pair of ``outputs`` (0 on the diagonal)

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        """Y of every form that ran, in fwp_core.forms.FORMS order."""
        outs = {"recurrent": self.recurrent, "parallel": self.parallel, "chunked": self.chunked}
        return outs if self.ssm is None else {**outs, "ssm": self.ssm}

    @property
    def largest(self) -> float:
        return max(self.diffs.values(), default=0.0)


def run_forms(rule: str, T: int, d_k: int, d_v: int, seed: int, beta: float, gate: float, chunk_size: int,
                 window: int = 128, inputs: str | None = None, A: float = MAMBA2_A) -> FormsResult:
    """The recurrence, the parallel form, the chunked form and, where a Mamba2 head is this rule on these inputs,
    the SSM scan, on one episode (float64): ``fwp_core.forms.run_forms``, as arrays for the page's figures."""
    r, ep = core.forms_episode(rule, T, d_k, d_v, seed, beta=beta, gate=gate, inputs=inputs, A=A)
    C = int(min(max(chunk_size, 1), T))
    run = core.run_forms(r, ep, C, core.chunk_grid(T, C))
    form = run.form
    n = min(T, window)
    spec = get_spec(rule)
    gated = ep.gate is not None
    if form.correction is not None:
        A_ = form.attention[:n, :n].numpy()
        corr = form.correction[:n, :n].numpy()
        qk = "QKᵀ ⊙ Γ ⊙ M" if gated else "QKᵀ ⊙ M"
        panels = (
            ("scores", qk, A_, "token s →"),
            ("correction", f"correction T = (I + L)⁻¹ diag {spec.step_symbol}", corr, "token s →"),
            ("product", f"product ({qk}) · T", (form.attention @ form.correction)[:n, :n].numpy(), "token s →"),
        )
        values = {"values V": ep.v[:n].numpy(), "pseudo-values U": form.values[:n].numpy()}
    else:
        plain = spec.family == "additive" and spec.plain_read  # otherwise A folds in more (a normaliser, RLS's C_t⁻¹)
        title = "A = QKᵀ ⊙ " + ("Γ ⊙ " if gated else "") + "M · diag β" if plain else "A, the parallel form's attention"
        if run.head is not None:
            title = "A = QKᵀ ⊙ Γ ⊙ M · diag β = (L ⊙ C Bᵀ) · diag Δ"
        panels = (("attention", title, form.attention[:n, :n].numpy(), "token s →"),)
        values = {"values V": form.values[:n].numpy()}
    outs = {name: y.numpy() for name, y in run.outputs.items()}
    head = run.head
    return FormsResult(
        rule=rule, T=T, chunk_size=run.chunk_size, recurrent=outs["recurrent"], parallel=outs["parallel"],
        chunked=outs["chunked"], diffs=dict(run.diffs), panels=panels, values=values, chunk_sizes=np.array(run.chunk_sizes),
        chunk_diffs=np.array(run.chunk_diffs), ssm=outs.get("ssm"), ssm_note=run.ssm_note,
        inputs=inputs or core.input_choices(rule)[0], A=None if head is None else float(head["A"]),
        dt_range=None if head is None else (float(head["dt"].min()), float(head["dt"].max())), mapping=run.mapping,
        diff_matrix=tuple(tuple(row) for row in run.difference_matrix()),
    )


FORM_COMPLEXITY: dict[str, str] = {
    "recurrent": "O(T·d_k·d_v) work in T sequential steps; O(d_k·d_v) state",
    "parallel": "O(T²·(d_k + d_v)) work, all at once (delta rules add an O(T³) triangular solve); O(T²) memory",
    "chunked": "O(T·C·(d_k + d_v) + T·d_k·d_v) work in T/C sequential steps (delta rules add O(T·C²)); O(C² + d_k·d_v) per chunk",
    "ssm": "O(T·P·N) work in T sequential steps over h (P = d_v, N = d_k); O(P·N) state: the recurrence, written as an SSM",
}


def forms_of(rule: str) -> tuple[str, ...]:
    """The forms the Forms page computes for a rule on its first choice of inputs (the SSM scan where it exists)."""
    three = ("recurrent", "parallel", "chunked")
    return (*three, "ssm") if rule in core.ssm_rule_names() else three


def time_forms(
    rule: str, Ts: tuple[int, ...], *, d_k: int = 64, d_v: int = 64, chunk_size: int = 64, reps: int = 3,
    progress: Callable[[float, str], None] | None = None,
) -> list[dict[str, Any]]:
    """Measured seconds of each form (best of ``reps`` after one warm-up, float32, CPU) for every T in Ts, on the
    rule's first choice of inputs (the SSM scan too where it exists). ``progress(fraction, text)`` is called after
    each measurement. No Streamlit here."""
    forms = forms_of(rule)

    def calls(T: int) -> dict[str, Callable[[], Any]]:
        r, ep = core.forms_episode(rule, int(T), d_k, d_v, 0, beta=0.5, gate=0.9, dtype=torch.float32)
        q, k, v, kw = ep.q, ep.k, ep.v, ep.run_kwargs()
        out = {
            "recurrent": lambda: r.run(q, k, v, **kw),
            "parallel": lambda: r.parallel(q, k, v, **kw),
            "chunked": lambda: r.chunked(q, k, v, chunk_size=chunk_size, **kw),
        }
        if "ssm" in forms:
            head = ssm.fwp_as_mamba2(q, k, v, ep.beta, ep.gate)
            out["ssm"] = lambda: ssm.mamba2_scan(**head)
        return out

    with torch.no_grad():  # warm every code path once before anything is timed
        for call in calls(min(Ts)).values():
            call()
    rows: list[dict[str, Any]] = []
    total = len(Ts) * len(forms)
    done = 0
    for T in Ts:
        fns = calls(int(T))
        for name in forms:
            with torch.no_grad():
                fns[name]()
                best = float("inf")
                for _ in range(reps):
                    t0 = time.perf_counter()
                    fns[name]()
                    best = min(best, time.perf_counter() - t0)
            rows.append({"T": int(T), "form": name, "seconds": best})
            done += 1
            if progress is not None:
                progress(done / total, f"{name} form at T = {T}: {best * 1e3:.1f} ms")
    return rows
