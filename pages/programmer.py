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
from app.state import DEFAULT_RULE, QP
from fwp_core import metrics
from fwp_core import programmer as prog
from fwp_core.programmer import pretrain

BETA_CHOICES = {"0-1": (0, 1), "0-2": (0, 2)}
BETA_MAX = {"0-1": 1.0, "0-2": 2.0}
EVAL_N = pretrain.EVAL_N  # the same sequences the shipped programmers were scored on

st.title("Programmer")
st.markdown(
    "An FWP is two networks: the fast weights, and a slow **programmer** trained by gradient descent to emit the keys, "
    "values, queries and write strengths β that the fast weights are written with. Train one here (on the CPU, in "
    "seconds), then step through what it learned to write. On **parity**, compare β ∈ (0, 1) with β ∈ (0, 2): only the "
    "second can give the delta rule's transition I − β k kᵀ a negative eigenvalue 1 − β (a full reflection at β = 2), "
    "which is what flipping a running parity needs."
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


def available(key: tuple) -> tuple[prog.TrainResult | None, str]:
    """The trained programmer for ``key`` — trained in this session, else the shipped one — and where it came from."""
    if key in st.session_state.get("prog_done", set()):
        return trained(*key), "trained in this session"
    task_, rule_, kind_, beta_, steps_, seed_ = key
    result = pretrain.shipped(task_, rule_, kind_, BETA_MAX[beta_], steps_, seed_)
    return result, "shipped with the app, trained by `python -m fwp_core.programmer.pretrain`"


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


def finite_prefix(ep: fwp_core.sequences.Episode) -> int:
    """How many leading tokens of ``ep`` hold only finite numbers (a self-referential programmer can blow up)."""
    ok = None
    for x in (ep.q, ep.k, ep.v, ep.beta, ep.gate):
        if x is not None:
            fin = torch.isfinite(x.reshape(x.shape[0], -1)).all(-1)  # (T,)
            ok = fin if ok is None else ok & fin
    bad = torch.nonzero(~ok)
    return int(bad[0, 0]) if len(bad) else int(ok.shape[0])


def replay(result_model: prog.FastWeightProgrammer, batch: prog.TaskBatch):
    """The episode the programmer emits for ``batch`` (its finite leading tokens) and the fast-weight trace of
    running it; also how many tokens were emitted in all."""
    ep = result_model.programme(batch)
    ep1 = fwp_core.sequences.Episode(
        q=ep.q[0], k=ep.k[0], v=ep.v[0], beta=None if ep.beta is None else ep.beta[0],
        gate=None if ep.gate is None else ep.gate[0], tokens=batch.labels[0] if batch.labels else (), meta=ep.meta,
    )
    total = int(ep1.q.shape[0])
    n = finite_prefix(ep1)
    if n < total:
        ep1 = fwp_core.sequences.Episode(
            q=ep1.q[:n], k=ep1.k[:n], v=ep1.v[:n], beta=None if ep1.beta is None else ep1.beta[:n],
            gate=None if ep1.gate is None else ep1.gate[:n], tokens=tuple(ep1.tokens[:n]), meta=ep1.meta)
    rule = fwp_core.make_rule(ep.meta["rule"], **ep.meta["rule_hparams"])
    init = ep.meta.get("initial_state")
    trace = rule.run(ep1.q, ep1.k, ep1.v, **ep1.run_kwargs(), initial_state=init) if n else None
    return ep1, rule, trace, total


def correctness(ep_meta: dict, batch: prog.TaskBatch) -> np.ndarray:
    """1 / 0 per scored token (right / wrong prediction), NaN elsewhere (classification tasks only)."""
    logits = ep_meta["logits"][0] if ep_meta["logits"].dim() == 3 else ep_meta["logits"]
    mask = batch.mask[0].numpy()
    out = np.full(mask.shape, np.nan)
    if batch.targets.dim() == 2:
        pred = logits.argmax(-1).numpy()
        out[mask] = (pred == batch.targets[0].numpy())[mask].astype(float)
    return out


def parity_caption(series: dict[str, np.ndarray], wide: prog.TrainResult, batch: prog.TaskBatch) -> str:
    """What the eigenvalue timelines show, with the numbers of the chart on screen."""
    lo, hi = series["β ∈ (0, 1)"], series["β ∈ (0, 2)"]
    _, _, tr, _ = replay(wide.model, batch)
    b = tr.beta[: tr.valid_steps].reshape(tr.valid_steps, -1)[:, 0].numpy()
    text = ("The smallest eigenvalue of each step's transition on the test bits. "
            + (f"With β ∈ (0, 1) it stays at or above 0 (lowest {max(lo.min(), 0.0):.3f}): no step can flip part of the memory. "
               if lo.min() >= -1e-9 else f"With β ∈ (0, 1) its lowest value is {lo.min():.3f}. ")
            + f"With β ∈ (0, 2) it is negative on {int((hi < 0).sum())} of {hi.size} tokens (lowest {hi.min():.3f}). ")
    return text + (f"An exact flip needs the eigenvalue −1, i.e. β = 2 with a unit key; inside the open range the flipped "
                   f"signal shrinks like |1 − β|ⁿ over n flips, so training drives β towards 2 — here β_t lies in "
                   f"[{b.min():.3f}, {b.max():.3f}].")


def score_text(value: float) -> str:
    """A score as shown: 3 decimals, or 'diverged' where the fast weights became non-finite on the test sequences."""
    if not np.isfinite(value):
        return "diverged"
    return f"{value:.3f}" if abs(value) < 1e4 else f"{value:.3g}"


def min_real_eigs(rule: fwp_core.Rule, trace: fwp_core.Trace) -> np.ndarray:
    return np.array([float(metrics.transition_eigenvalues(rule, trace, t).real.min()) for t in range(1, trace.valid_steps + 1)])


with st.sidebar:
    tasks = prog.task_names()
    task = st.selectbox("Task", tasks, index=tasks.index("parity"), key="prog_task", bind=QP,
                        help="; ".join(f"{n}: {prog.get_task(n).help}" for n in tasks))
    kind = st.selectbox("Programmer kind", list(prog.KINDS), key="prog_kind", bind=QP,
                        help="linear: token → k, v, q, β; recurrent: also sees its previous output; "
                             "self_referential: one matrix that writes itself with the delta rule")
    rules = prog.rules_for(kind)
    rule = st.selectbox("Fast-weight rule", rules, index=rules.index(DEFAULT_RULE), key="prog_rule", bind=QP,
                        help=None if kind != "self_referential" else
                        "The self-referential programmer writes one key per token, so rules with sub-steps are not offered.")
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
        if f is None:
            st.session_state.pop("prog_uploaded", None)
            uploaded = None
        else:
            try:
                st.session_state["prog_uploaded"] = prog.load(f.getvalue())
                uploaded = st.session_state["prog_uploaded"]
                st.success(f"Loaded a {uploaded.config.kind} programmer for {uploaded.config.task} with rule {uploaded.config.rule}.")
            except ValueError as exc:
                st.error(f"This file is not a saved programmer: {exc}")

    result, origin = available(key)
    if uploaded is not None:
        model = uploaded
        st.caption(f"Showing the programmer loaded from the file ({model.config.kind}, rule {model.config.rule}); "
                   "remove the file to go back.")
        if model.config.task != task:
            st.warning(f"The loaded programmer was trained on {model.config.task}; switch the task to {model.config.task} to test it.")
            return
    elif result is None:
        ready = "; ".join(f"{e.task} with {e.rule}, β ∈ (0, {e.beta_max:g})" for e in pretrain.SHIPPED)
        st.info(f"No programmer is trained for this configuration yet. Press **Train** to train it here ({steps} steps "
                f"of Adam on the CPU). These open ready (a linear programmer, the default steps, seed 0): {ready}.")
        return
    else:
        model, metric_name = result.model, result.history.metric_name
        st.plotly_chart(figures.training_figure({f"{rule} / β ∈ ({beta.replace('-', ', ')})": (result.history.loss, result.history.metric)},
                                                metric_name), key="prog_training")
        skipped = result.history.skipped
        caption(f"Loss and {metric_name} over {result.steps} training steps ({result.seconds:.1f} s); {origin}."
                + (f" {skipped} steps had a non-finite loss (the fast weights blew up) and made no update." if skipped else ""))
        lengths = tuple(sorted({spec.train_lengths[1], spec.eval_length}))
        sc = scores(result, (key, origin), lengths)
        cols = st.columns(len(sc) + 1)
        for col, (L, value) in zip(cols, sc.items()):
            col.metric(f"{metric_name} at length {L}", score_text(value),
                       help=None if np.isfinite(value) else "The fast weights became non-finite (NaN or inf) on the test sequences.")
        buf = io.BytesIO()
        prog.save(model, buf)
        cols[-1].download_button("Save this programmer (.pt)", buf.getvalue(), f"programmer_{task}_{rule}_{kind}_{beta}.pt",
                                 "application/octet-stream", on_click="ignore")

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
    ep, fw_rule, trace, emitted = replay(model, batch)
    T = 0 if trace is None else trace.valid_steps
    if T < emitted:
        where = (f"the slow net's own weights became non-finite (NaN or inf) at token {int(ep.q.shape[0]) + 1}"
                 if trace is None or T == trace.T else f"the fast weights blew up at step {trace.diverged_at}")
        st.warning(f"This programmer cannot be stepped past token {T}: {where}. Train it with β ∈ (0, 1), fewer steps "
                   "or another rule." + (" Steps before that are shown." if T else ""))
    if T < 1:
        return
    t = st.slider("t", 1, T, min(T, 1), key="prog_t") if T > 1 else 1
    right = correctness(ep.meta, batch)[:T]
    fig_p = figures.programme_figure(list(ep.tokens[:T]) or [str(s) for s in range(1, T + 1)], ep.k[:T].reshape(T, -1).numpy(),
                                     ep.v[:T].reshape(T, -1).numpy(), ep.q[:T].numpy(),
                                     trace.beta[:T].reshape(T, -1)[:, 0].numpy(), t, correct=right)
    dark = st.context.theme.type == "dark"  # the two charts that follow t are self-styled (figures.page_spec)
    st.plotly_chart(figures.page_spec(fig_p, dark), key="prog_emitted", theme=None, config=figures.CHART_CONFIG)
    scored = right[np.isfinite(right)]
    substeps = fwp_core.get_spec(fw_rule.name).substeps
    caption("What the slow net emitted for each token; bars are β_t, green where the read-out at that token is right. "
            + ("Each token's sub-step keys and values are stacked (β of the first sub-step drawn). " if substeps else "")
            + (f"{int(scored.sum())} of {len(scored)} scored tokens right." if scored.size else ""))
    W = trace.weights.numpy()
    i = t - 1
    zmax = figures.symmetric_range(W[: T + 1])
    fig_w = figures.weights_figure(W[t - 1], W[t] - W[t - 1], W[t], key=trace.token_keys[i].numpy(), query=trace.queries[i].numpy(),
                                   value=trace.token_values[i].numpy(), retrieved=trace.retrieved[i].numpy(),
                                   output=trace.outputs[i].numpy(), zmax=zmax, t=t)
    st.plotly_chart(figures.page_spec(fig_w, dark), key="prog_weights", theme=None, config=figures.CHART_CONFIG)
    ev = metrics.transition_eigenvalues(fw_rule, trace, t).numpy()
    caption(f"The fast weights at token {t} ({ep.tokens[i] if i < len(ep.tokens) else t}); this step's transition has "
            f"eigenvalues from {ev.real.min():.3f} to {ev.real.max():.3f}"
            + (" — a reflection: part of the memory changes sign." if ev.real.min() < 0 else "."))

    if task == "parity" and result is not None and uploaded is None:
        st.subheader("Why parity needs β ∈ (0, 2)")
        other = "0-1" if beta == "0-2" else "0-2"
        other_key = (task, rule, kind, other, steps, seed)
        other_result, other_origin = available(other_key)
        if other_result is None:
            if st.button(f"Train the same programmer with β ∈ ({other.replace('-', ', ')}) to compare", key="prog_train_other"):
                try:
                    train_with_progress(*other_key)
                    done.add(other_key)
                    other_result, other_origin = available(other_key)
                except ValueError as exc:
                    st.error(f"This programmer cannot be trained: {exc}")
        if other_result is not None:
            pair = {beta: ((key, origin), result), other: ((other_key, other_origin), other_result)}
            cols = st.columns(2)
            series = {}
            for col, b in zip(cols, ("0-1", "0-2")):
                k_b, res = pair[b]
                acc = scores(res, k_b, (spec.eval_length,))[spec.eval_length]
                col.metric(f"β ∈ ({b.replace('-', ', ')}): accuracy at length {spec.eval_length}", score_text(acc))
                _, r, tr, _ = replay(res.model, batch)
                series[f"β ∈ ({b.replace('-', ', ')})"] = min_real_eigs(r, tr) if tr is not None else np.array([])
            st.plotly_chart(figures.eigen_timeline_figure(series, ep.tokens), key="prog_eigs", config=figures.CHART_CONFIG)
            caption(parity_caption(series, pair["0-2"][1], batch))


@st.cache_data(show_spinner=False)
def expressivity_rows(task: str) -> list[dict]:
    return pretrain.expressivity(task)


@guarded
def expressivity_section(task: str) -> None:
    """Programmer kinds side by side on one task: what expressivity buys and what it costs (shipped programmers)."""
    rows = expressivity_rows(task)
    if len(rows) < 2:
        return
    spec = prog.get_task(task)
    st.subheader("What expressivity costs: programmer kinds side by side")
    train_col, test_col = (f"{spec.metric_name} at length {L}" for L in (spec.train_lengths[1], spec.eval_length))
    st.dataframe(rows, hide_index=True, column_config={
        train_col: st.column_config.NumberColumn(format="%.3f"), test_col: st.column_config.NumberColumn(format="%.3f"),
        "training time (s)": st.column_config.NumberColumn(format="%.1f", help="on the machine that ran the pretrain script"),
        "all tokens at once": st.column_config.CheckboxColumn(
            help="A linear programmer's k, v, q, β depend on the current token only, so the rule's parallel / chunkwise "
                 "form computes the fast net over all tokens at once; a recurrent or self-referential one's depend on the "
                 "step before, so it must go token by token."),
    })
    best = max(rows, key=lambda r: r[test_col])
    slowest = max(rows, key=lambda r: r["training time (s)"])
    caption(f"The shipped programmers for {spec.title.lower()}, all trained alike (β ∈ (0, 2), seed 0, lengths "
            f"{spec.train_lengths[0]}–{spec.train_lengths[1]}). At the training length their {spec.metric_name} ranges "
            f"{min(r[train_col] for r in rows):.3f}–{max(r[train_col] for r in rows):.3f}; at length {spec.eval_length} "
            f"the best is the {best['kind']} programmer with {best['rule']} ({best[test_col]:.3f}). The slowest to train "
            f"was the {slowest['kind']} one with {slowest['rule']} ({slowest['training time (s)']:.1f} s); only the "
            f"programmers marked 'all tokens at once' keep the rule's parallel form.")


main()
if task in pretrain.EXPRESSIVITY_TASKS:
    expressivity_section(task)
