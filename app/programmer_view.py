"""The Programmer page's views: the trained programmer's record, stepping through what it writes, β ∈ (0, 1)
against β ∈ (0, 2) on parity, and the programmer kinds side by side. Every number in a caption is computed from
what the view draws."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st

import fwp_core
from fwp_core import metrics
from fwp_core import programmer as prog
from fwp_core.programmer import pretrain
from fwp_core.programmer.replay import Replay, correctness, min_real_eigs, replay

from . import figures, training
from .layout import caption


def score_text(value: float) -> str:
    """A score as shown: 3 decimals, or 'diverged' where the fast weights became non-finite on the test sequences."""
    if not np.isfinite(value):
        return "diverged"
    return f"{value:.3f}" if abs(value) < 1e4 else f"{value:.3g}"


def beta_label(beta: str) -> str:
    return f"β ∈ ({beta.replace('-', ', ')})"


def record(result: prog.TrainResult, origin: str, key: training.Key) -> None:
    """The training curves, the scores at the training and test lengths, and the save button."""
    task, rule, kind, beta, _, _ = key
    spec, metric_name = prog.get_task(task), result.history.metric_name
    st.plotly_chart(figures.training_figure({f"{rule} / {beta_label(beta)}": (result.history.loss, result.history.metric)},
                                            metric_name), key="prog_training")
    skipped = result.history.skipped
    caption(f"Loss and {metric_name} over {result.steps} training steps ({result.seconds:.1f} s); {origin}."
            + (f" {skipped} steps had a non-finite loss (the fast weights blew up) and made no update." if skipped else ""))
    sc = training.scores(result, (key, origin), tuple(sorted({spec.train_lengths[1], spec.eval_length})))
    cols = st.columns(len(sc) + 1)
    for col, (L, value) in zip(cols, sc.items()):
        col.metric(f"{metric_name} at length {L}", score_text(value),
                   help=None if np.isfinite(value) else "The fast weights became non-finite (NaN or inf) on the test sequences.")
    buf = io.BytesIO()
    prog.save(result.model, buf)
    cols[-1].download_button("Save this programmer (.pt)", buf.getvalue(), f"programmer_{task}_{rule}_{kind}_{beta}.pt",
                             "application/octet-stream", on_click="ignore")


def stepping(r: Replay, batch: prog.TaskBatch) -> None:
    """What the slow net emitted for every token, and the fast weights at the chosen token."""
    trace, ep = r.trace, r.episode
    T = 0 if trace is None else trace.valid_steps
    if T < r.emitted:
        where = (f"the slow net's own weights became non-finite (NaN or inf) at token {int(ep.q.shape[0]) + 1}"
                 if trace is None or T == trace.T else f"the fast weights blew up at step {trace.diverged_at}")
        st.warning(f"This programmer cannot be stepped past token {T}: {where}. Train it with β ∈ (0, 1), fewer steps "
                   "or another rule." + (" Steps before that are shown." if T else ""))
    if T < 1:
        return
    t = st.slider("t", 1, T, min(T, 1), key="prog_t") if T > 1 else 1
    right = correctness(r, batch)[:T]
    fig_p = figures.programme_figure(list(ep.tokens[:T]) or [str(s) for s in range(1, T + 1)], ep.k[:T].reshape(T, -1).numpy(),
                                     ep.v[:T].reshape(T, -1).numpy(), ep.q[:T].numpy(),
                                     trace.beta[:T].reshape(T, -1)[:, 0].numpy(), t, correct=right)
    dark = st.context.theme.type == "dark"  # the two charts that follow t are self-styled (figures.page_spec)
    st.plotly_chart(figures.page_spec(fig_p, dark), key="prog_emitted", theme=None, config=figures.CHART_CONFIG)
    scored = right[np.isfinite(right)]
    caption("What the slow net emitted for each token; bars are β_t, green where the read-out at that token is right. "
            + ("Each token's sub-step keys and values are stacked (β of the first sub-step drawn). "
               if fwp_core.get_spec(r.rule.name).substeps else "")
            + (f"{int(scored.sum())} of {len(scored)} scored tokens right." if scored.size else ""))
    W, i = trace.weights.numpy(), t - 1
    fig_w = figures.weights_figure(W[t - 1], W[t] - W[t - 1], W[t], key=trace.token_keys[i].numpy(), query=trace.queries[i].numpy(),
                                   value=trace.token_values[i].numpy(), retrieved=trace.retrieved[i].numpy(),
                                   output=trace.outputs[i].numpy(), zmax=figures.symmetric_range(W[: T + 1]), t=t)
    st.plotly_chart(figures.page_spec(fig_w, dark), key="prog_weights", theme=None, config=figures.CHART_CONFIG)
    ev = metrics.transition_eigenvalues(r.rule, trace, t).numpy()
    caption(f"The fast weights at token {t} ({ep.tokens[i] if i < len(ep.tokens) else t}); this step's transition has "
            f"eigenvalues from {ev.real.min():.3f} to {ev.real.max():.3f}"
            + (" — a negative one: part of the memory changes sign." if ev.real.min() < 0 else "."))


def parity_caption(series: dict[str, np.ndarray], wide: Replay) -> str:
    """What the eigenvalue timelines show, with the numbers of the chart on screen."""
    lo, hi = series[beta_label("0-1")], series[beta_label("0-2")]
    b = wide.trace.beta[: wide.trace.valid_steps].reshape(wide.trace.valid_steps, -1)[:, 0].numpy()
    text = ("The smallest eigenvalue of each step's transition on the test bits. "
            + (f"With β ∈ (0, 1) it stays at or above 0 (lowest {max(lo.min(), 0.0):.3f}): no step can flip part of the memory. "
               if lo.min() >= -1e-9 else f"With β ∈ (0, 1) its lowest value is {lo.min():.3f}. ")
            + f"With β ∈ (0, 2) it is negative on {int((hi < 0).sum())} of {hi.size} tokens (lowest {hi.min():.3f}). ")
    return text + (f"An exact flip needs the eigenvalue −1, i.e. β = 2 with a unit key; inside the open range the flipped "
                   f"signal shrinks like |1 − β|ⁿ over n flips, so training drives β towards 2 — here β_t lies in "
                   f"[{b.min():.3f}, {b.max():.3f}].")


def parity_pair(key: training.Key, result: prog.TrainResult, origin: str, batch: prog.TaskBatch) -> None:
    """The same programmer with the other β range beside it: accuracy and each step's smallest eigenvalue."""
    task, rule, kind, beta, steps, seed = key
    st.subheader("Why parity needs β ∈ (0, 2)")
    other = "0-1" if beta == "0-2" else "0-2"
    other_key = (task, rule, kind, other, steps, seed)
    other_result, other_origin = training.available(other_key)
    if other_result is None:
        if not st.button(f"Train the same programmer with {beta_label(other)} to compare", key="prog_train_other"):
            return
        try:
            other_result, other_origin = training.train_with_progress(other_key), "trained in this session"
        except ValueError as exc:
            st.error(f"This programmer cannot be trained: {exc}")
            return
    pair = {beta: ((key, origin), result), other: ((other_key, other_origin), other_result)}
    series, replays = {}, {}
    for col, b in zip(st.columns(2), ("0-1", "0-2")):
        k_b, res = pair[b]
        acc = training.scores(res, k_b, (prog.get_task(task).eval_length,))[prog.get_task(task).eval_length]
        col.metric(f"{beta_label(b)}: accuracy at length {prog.get_task(task).eval_length}", score_text(acc))
        replays[b] = replay(res.model, batch)
        series[beta_label(b)] = min_real_eigs(replays[b])
    st.plotly_chart(figures.eigen_timeline_figure(series, replays[beta].episode.tokens), key="prog_eigs",
                    config=figures.CHART_CONFIG)
    if replays["0-2"].trace is not None and series[beta_label("0-1")].size:
        caption(parity_caption(series, replays["0-2"]))


@st.cache_data(show_spinner=False)
def expressivity_rows(task: str) -> list[dict]:
    return pretrain.expressivity(task)


def expressivity(task: str) -> None:
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
