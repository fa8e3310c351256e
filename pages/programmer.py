"""Programmer: train the slow net in the session, then step through the fast weights it learned to write."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st
import torch

import fwp_core
from app import figures
from app.layout import caption, guarded
from fwp_core import metrics
from fwp_core import programmer as prog

QP = "query-params"
BETA_CHOICES = {"0-1": (0, 1), "0-2": (0, 2)}
EVAL_N = 256

st.title("Programmer")
st.markdown(
    "An FWP is two networks: the fast weights, and a slow **programmer** trained by gradient descent to emit the keys, "
    "values, queries and write strengths β that the fast weights are written with. Train one here (on the CPU, in "
    "seconds), then step through what it learned to write. On **parity**, compare β ∈ (0, 1) with β ∈ (0, 2): only the "
    "second can make the delta rule's transition I − β k kᵀ reflect (eigenvalue 1 − β < 0), which is what flipping a "
    "running parity needs."
)


MAX_CACHED = 8


@st.cache_resource(show_spinner=False)
def _store() -> tuple[OrderedDict, threading.Lock]:
    """The server's cache of trained programmers: at most MAX_CACHED, least recently used dropped first.
    (st.cache_resource cannot wrap training itself: the live progress bar draws while it runs.)"""
    return OrderedDict(), threading.Lock()


def trained(task: str, rule: str, kind: str, beta: str, steps: int, seed: int, _progress=None) -> prog.TrainResult:
    """One trained programmer per configuration, shared by every session (models are not modified after training)."""
    key = (task, rule, kind, beta, steps, seed)
    cache, lock = _store()
    with lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    result = prog.train(task, rule, kind=kind, beta_range=BETA_CHOICES[beta], steps=steps, seed=seed, progress=_progress)
    with lock:
        cache[key] = result
        while len(cache) > MAX_CACHED:
            cache.popitem(last=False)
    return result


@st.cache_data(max_entries=32, show_spinner=False)
def scores(_result: prog.TrainResult, key: tuple, lengths: tuple[int, ...]) -> dict[int, float]:
    task = _result.config.task
    return {L: prog.evaluate(_result.model, task, length=L, n=EVAL_N) for L in lengths}


def train_with_progress(task: str, rule: str, kind: str, beta: str, steps: int, seed: int) -> prog.TrainResult:
    bar = st.progress(0.0, text=f"training {rule} / {kind} / β ∈ ({beta.replace('-', ', ')}) …")
    chart = st.empty()
    loss, metric = [], []

    def progress(step: int, total: int, l: float, m: float) -> None:
        loss.append(l)
        metric.append(m)
        bar.progress(min(1.0, step / total), text=f"step {step} / {total}: loss {l:.4f}")
        if len(loss) % 10 == 0:
            chart.plotly_chart(figures.training_figure({rule: (loss, metric)}, prog.get_task(task).metric_name),
                               key=f"live_{len(loss)}")

    result = trained(task, rule, kind, beta, steps, seed, _progress=progress)
    bar.empty()
    chart.empty()
    return result


def test_batch(task: str, bits: str, length: int, seed: int) -> prog.TaskBatch:
    spec = prog.get_task(task)
    if spec.symbols:
        return prog.encode_bits(task, bits)
    return prog.sample(task, length, n=1, seed=seed, labels=True)


def replay(result_model: prog.FastWeightProgrammer, batch: prog.TaskBatch):
    """The episode the programmer emits for ``batch`` and the fast-weight trace of running it."""
    ep = result_model.programme(batch)
    ep1 = fwp_core.sequences.Episode(
        q=ep.q[0], k=ep.k[0], v=ep.v[0], beta=None if ep.beta is None else ep.beta[0],
        gate=None if ep.gate is None else ep.gate[0], tokens=batch.labels[0] if batch.labels else (), meta=ep.meta,
    )
    rule = fwp_core.make_rule(ep.meta["rule"], **ep.meta["rule_hparams"])
    init = ep.meta.get("initial_state")
    trace = rule.run(ep1.q, ep1.k, ep1.v, **ep1.run_kwargs(), initial_state=init)
    return ep1, rule, trace


def correctness(ep_meta: dict, batch: prog.TaskBatch) -> np.ndarray:
    """1 / 0 per scored token (right / wrong prediction), NaN elsewhere (classification tasks only)."""
    logits = ep_meta["logits"][0] if ep_meta["logits"].dim() == 3 else ep_meta["logits"]
    mask = batch.mask[0].numpy()
    out = np.full(mask.shape, np.nan)
    if batch.targets.dim() == 2:
        pred = logits.argmax(-1).numpy()
        out[mask] = (pred == batch.targets[0].numpy())[mask].astype(float)
    return out


def min_real_eigs(rule: fwp_core.Rule, trace: fwp_core.Trace) -> np.ndarray:
    return np.array([float(metrics.transition_eigenvalues(rule, trace, t).real.min()) for t in range(1, trace.valid_steps + 1)])


with st.sidebar:
    tasks = prog.task_names()
    task = st.selectbox("Task", tasks, index=tasks.index("parity"), key="prog_task", bind=QP,
                        help="; ".join(f"{n}: {prog.get_task(n).help}" for n in tasks))
    kind = st.selectbox("Programmer kind", list(prog.KINDS), key="prog_kind", bind=QP,
                        help="linear: token → k, v, q, β; recurrent: also sees its previous output; "
                             "self_referential: one matrix that writes itself with the delta rule")
    rules = fwp_core.rule_names()
    rule = st.selectbox("Fast-weight rule", rules, index=rules.index("delta"), key="prog_rule", bind=QP)
    beta = st.segmented_control("β range", list(BETA_CHOICES), default="0-2", key="prog_beta", bind=QP, required=True,
                                help="0-1: β = sigmoid(·); 0-2: β = 2·sigmoid(·), which allows reflections")
    spec = prog.get_task(task)
    steps = int(st.number_input("Training steps", 10, prog.MAX_STEPS, int(spec.defaults.get("steps", 1000)), step=50,
                                key="prog_steps", bind=QP, help=f"At most {prog.MAX_STEPS} (a few seconds per 100 steps on a CPU)."))
    seed = int(st.number_input("Seed", 0, 2**31 - 1, 0, key="prog_seed", bind=QP))
    st.caption(f"Training: batches of {spec.defaults.get('batch_size', 64)} sequences of length "
               f"{spec.train_lengths[0]}–{spec.train_lengths[1]}; tested at length {spec.eval_length}.")


@guarded
def main() -> None:
    key = (task, rule, kind, beta, steps, seed)
    done = st.session_state.setdefault("prog_done", set())
    uploaded = st.session_state.get("prog_uploaded")
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    if c1.button("Train", type="primary", key="prog_train"):
        try:
            train_with_progress(*key)
            done.add(key)
        except ValueError as exc:
            st.error(f"This programmer cannot be trained: {exc}")
            return
    c2.caption("Trained programmers are cached per configuration: training the same one again is instant.")

    with st.expander("Load a saved programmer"):
        f = st.file_uploader("A .pt file saved from this page", type=["pt"], key="prog_file",
                             help=f"At most {prog.MAX_FILE_BYTES // 2**20} MB; read with torch.load(weights_only=True), never unpickled.")
        if f is not None:
            try:
                st.session_state["prog_uploaded"] = prog.load(f.getvalue())
                uploaded = st.session_state["prog_uploaded"]
                st.success(f"Loaded a {uploaded.config.kind} programmer for {uploaded.config.task} with rule {uploaded.config.rule}.")
            except ValueError as exc:
                st.error(f"This file is not a saved programmer: {exc}")

    if key not in done and uploaded is None:
        st.info("Press **Train** to train this programmer (or load a saved one). The default — parity with the delta rule "
                "and β ∈ (0, 2) — learns to flip its memory on every 1 bit.")
        return
    if key in done:
        result = trained(*key)
        model, metric_name = result.model, result.history.metric_name
        st.plotly_chart(figures.training_figure({f"{rule} / β ∈ ({beta.replace('-', ', ')})": (result.history.loss, result.history.metric)},
                                                metric_name), key="prog_training")
        caption(f"Loss and {metric_name} over {result.steps} training steps ({result.seconds:.1f} s).")
        lengths = tuple(sorted({spec.train_lengths[1], spec.eval_length}))
        sc = scores(result, key, lengths)
        cols = st.columns(len(sc) + 1)
        for col, (L, value) in zip(cols, sc.items()):
            col.metric(f"{metric_name} at length {L}", f"{value:.3f}")
        buf = io.BytesIO()
        prog.save(model, buf)
        cols[-1].download_button("Save this programmer (.pt)", buf.getvalue(), f"programmer_{task}_{rule}_{kind}_{beta}.pt",
                                 "application/octet-stream", on_click="ignore")
    else:
        model = uploaded
        if model.config.task != task:
            st.warning(f"The loaded programmer was trained on {model.config.task}; switch the task to {model.config.task} to test it.")
            return

    st.subheader("Step through what it writes")
    bits = "0110100111010011"
    length = spec.eval_length
    if spec.symbols:
        bits = st.text_input("Test bits", bits, key="prog_bits", bind=QP, max_chars=prog.MAX_TRAIN_LENGTH * 4,
                             help="A string of 0 and 1; a BOS token is put in front.")
    try:
        batch = test_batch(task, bits, length, seed + 1)
    except ValueError as exc:
        st.error(f"This test sequence cannot be used: {exc}")
        return
    ep, fw_rule, trace = replay(model, batch)
    T = trace.valid_steps
    if trace.diverged_at is not None:
        st.warning(f"The fast weights blew up at step {trace.diverged_at}; steps from there are not shown.")
    if T < 1:
        return
    t = st.slider("t", 1, T, min(T, 1), key="prog_t") if T > 1 else 1
    right = correctness(ep.meta, batch)
    fig_p = figures.programme_figure(ep.tokens or [str(s) for s in range(1, trace.T + 1)], ep.k.numpy(), ep.v.numpy(),
                                     ep.q.numpy(), trace.beta.reshape(trace.T, -1)[:, 0].numpy(), t, correct=right)
    dark = st.context.theme.type == "dark"  # the two charts that follow t are self-styled (figures.page_spec)
    st.plotly_chart(figures.page_spec(fig_p, dark), key="prog_emitted", theme=None, config={"displaylogo": False})
    scored = right[np.isfinite(right)]
    caption("What the slow net emitted for each token; bars are β_t, green where the read-out at that token is right. "
            + (f"{int(scored.sum())} of {len(scored)} scored tokens right." if scored.size else ""))
    W = trace.weights.numpy()
    i = t - 1
    zmax = figures.symmetric_range(W[: T + 1])
    fig_w = figures.weights_figure(W[t - 1], W[t] - W[t - 1], W[t], key=trace.keys[i].numpy(), query=trace.queries[i].numpy(),
                                   value=trace.values[i].numpy(), retrieved=trace.retrieved[i].numpy(),
                                   output=trace.outputs[i].numpy(), zmax=zmax, t=t)
    st.plotly_chart(figures.page_spec(fig_w, dark), key="prog_weights", theme=None, config={"displaylogo": False})
    ev = metrics.transition_eigenvalues(fw_rule, trace, t).numpy()
    caption(f"The fast weights at token {t} ({ep.tokens[i] if i < len(ep.tokens) else t}); this step's transition has "
            f"eigenvalues from {ev.real.min():.3f} to {ev.real.max():.3f}"
            + (" — a reflection: part of the memory changes sign." if ev.real.min() < 0 else "."))

    if task == "parity" and key in done:
        st.subheader("Why parity needs β ∈ (0, 2)")
        other = "0-1" if beta == "0-2" else "0-2"
        other_key = (task, rule, kind, other, steps, seed)
        if other_key not in done:
            if st.button(f"Train the same programmer with β ∈ ({other.replace('-', ', ')}) to compare", key="prog_train_other"):
                try:
                    train_with_progress(*other_key)
                    done.add(other_key)
                except ValueError as exc:
                    st.error(f"This programmer cannot be trained: {exc}")
        if other_key in done:
            pair = {b: trained(task, rule, kind, b, steps, seed) for b in ("0-1", "0-2")}
            cols = st.columns(2)
            series = {}
            for col, (b, res) in zip(cols, pair.items()):
                acc = scores(res, (task, rule, kind, b, steps, seed), (spec.eval_length,))[spec.eval_length]
                col.metric(f"β ∈ ({b.replace('-', ', ')}): accuracy at length {spec.eval_length}", f"{acc:.3f}")
                _, r, tr = replay(res.model, batch)
                series[f"β ∈ ({b.replace('-', ', ')})"] = min_real_eigs(r, tr)
            st.plotly_chart(figures.eigen_timeline_figure(series, ep.tokens), key="prog_eigs", config={"displaylogo": False})
            caption("The smallest eigenvalue of each step's transition on the test bits: only β ∈ (0, 2) goes below 0 "
                    "(a reflection), so only it can flip the memory on a 1 bit and track parity at any length.")


main()
