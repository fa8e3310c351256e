"""Trained programmers on the server: trained through the server's one queue (``app.jobs``: shared by every session,
at most a few at a time), a live progress bar while one trains, and the shipped programmers for configurations
nobody has trained here."""

from __future__ import annotations

import streamlit as st

from fwp_core import programmer as prog
from fwp_core.programmer import pretrain

from . import figures, jobs
from .page_tables import PROGRAMMER_BETA_RANGES as BETA_CHOICES  # the β ranges: name → (low, high)

BETA_MAX = {name: float(hi) for name, (_, hi) in BETA_CHOICES.items()}  # the β range's top, as the shipped files name it
SHIPPED_ORIGIN = "shipped with the app, trained by `python -m fwp_core.programmer.pretrain`"
Key = tuple[str, str, str, str, int, int]  # task, rule, kind, β range, steps, seed


def _job(key: Key) -> jobs.Job:
    """The server's training of ``key`` (app.jobs: identical configurations train once, at most a few at a time)."""
    task, rule, kind, beta, steps, seed = key

    def fn(report):
        return prog.train(task, rule, kind=kind, beta_range=BETA_CHOICES[beta], steps=steps, seed=seed,
                          progress=lambda step, total, loss, metric: report(step, total, (loss, metric)))

    return jobs.queue().submit(("programmer", key), f"the {rule} / {kind} / β ∈ ({beta.replace('-', ', ')}) programmer", fn)


def trained(key: Key) -> prog.TrainResult:
    """One trained programmer per configuration, shared by every session (models are not modified after training);
    raises ValueError where it cannot be trained."""
    job = jobs.follow(_job(key), lambda _: None)
    if job.state == "failed":
        raise ValueError(job.error)
    return job.result


@st.cache_data(max_entries=32, show_spinner=False)
def scores(_result: prog.TrainResult, key: tuple, lengths: tuple[int, ...]) -> dict[int, float]:
    """The programmer's score at each length, on the sequences the shipped ones were scored on (``key`` names it)."""
    return {L: prog.evaluate(_result.model, _result.config.task, length=L, n=pretrain.EVAL_N) for L in lengths}


def available(key: Key) -> tuple[prog.TrainResult | None, str]:
    """The trained programmer for ``key`` — trained in this session, else the shipped one — and where it came from."""
    if key in st.session_state.get("prog_done", set()):
        return trained(key), "trained in this session"
    task, rule, kind, beta, steps, seed = key
    return pretrain.shipped(task, rule, kind, BETA_MAX[beta], steps, seed), SHIPPED_ORIGIN


def train_with_progress(key: Key) -> prog.TrainResult:
    """Train (or fetch, or wait for) the programmer for ``key`` with its place in the queue, a progress bar and a live
    loss curve; the session remembers it. ValueError where it cannot be trained."""
    task, rule, _, _, _, _ = key
    q = jobs.queue()
    bar, chart = st.empty(), st.empty()
    drawn = [0]

    def draw(job: jobs.Job) -> None:
        frac = job.step / job.total if job.total else 0.0
        bar.progress(min(1.0, frac), text=jobs.status_text(job, q) + (f": loss {job.entries[-1][0]:.4f}" if job.entries else ""))
        if job.entries and len(job.entries) >= drawn[0] + 10:
            drawn[0] = len(job.entries)
            loss, metric = zip(*job.entries)
            chart.plotly_chart(figures.training_figure({rule: (list(loss), list(metric))}, prog.get_task(task).metric_name),
                               key=f"live_{drawn[0]}")

    job = jobs.follow(_job(key), draw, q)
    bar.empty()
    chart.empty()
    if job.state == "failed":
        raise ValueError(job.error)
    st.session_state.setdefault("prog_done", set()).add(key)
    return job.result
