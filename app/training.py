"""Trained programmers on the server: one cache shared by every session, a live progress bar while one trains,
and the shipped programmers for configurations nobody has trained here."""

from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

from fwp_core import programmer as prog
from fwp_core.programmer import pretrain
from fwp_core.programmer.train import Progress

from . import figures

BETA_CHOICES = {"0-1": (0, 1), "0-2": (0, 2)}
BETA_MAX = {name: float(hi) for name, (_, hi) in BETA_CHOICES.items()}  # the β range's top, as the shipped files name it
MAX_CACHED = 8
SHIPPED_ORIGIN = "shipped with the app, trained by `python -m fwp_core.programmer.pretrain`"
Key = tuple[str, str, str, str, int, int]  # task, rule, kind, β range, steps, seed


@st.cache_resource(show_spinner=False)
def _store() -> tuple[OrderedDict, threading.Lock]:
    """The server's cache of trained programmers: at most MAX_CACHED, least recently used dropped first.
    (st.cache_resource cannot wrap training itself: the live progress bar draws while it runs.)"""
    return OrderedDict(), threading.Lock()


def trained(key: Key, progress: Progress | None = None) -> prog.TrainResult:
    """One trained programmer per configuration, shared by every session (models are not modified after training)."""
    task, rule, kind, beta, steps, seed = key
    cache, lock = _store()
    with lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    result = prog.train(task, rule, kind=kind, beta_range=BETA_CHOICES[beta], steps=steps, seed=seed, progress=progress)
    with lock:
        cache[key] = result
        while len(cache) > MAX_CACHED:
            cache.popitem(last=False)
    return result


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
    """Train (or fetch) the programmer for ``key`` with a progress bar and a live loss curve; the session remembers it."""
    task, rule, kind, beta, _, _ = key
    bar = st.progress(0.0, text=f"training {rule} / {kind} / β ∈ ({beta.replace('-', ', ')}) …")
    chart = st.empty()
    loss, metric = [], []

    def progress(step: int, total: int, value: float, m: float) -> None:
        loss.append(value)
        metric.append(m)
        bar.progress(min(1.0, step / total), text=f"step {step} / {total}: loss {value:.4f}")
        if len(loss) % 10 == 0:
            chart.plotly_chart(figures.training_figure({rule: (loss, metric)}, prog.get_task(task).metric_name),
                               key=f"live_{len(loss)}")

    result = trained(key, progress)
    bar.empty()
    chart.empty()
    st.session_state.setdefault("prog_done", set()).add(key)
    return result
