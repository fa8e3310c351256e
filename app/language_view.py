"""The Language page's pieces: the models it shows (shipped, or trained on this server through ``app.jobs``), your
own text (pasted or uploaded, checked), the cost of a training stated before it starts, and one sentence read by
every model (cached per model and sentence)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from fwp_core import language as lm
from fwp_core.language import pretrain
from fwp_core.language.corpus import check_text

from . import figures, jobs

MAX_UPLOAD_BYTES = 2_000_000
"""The largest text file the page takes (about two million characters)."""
MIN_OWN_CHARS = 2_000
SHIPPED_ORIGIN = "shipped (python -m fwp_core.language.pretrain)"


@dataclass(frozen=True)
class Model:
    """One model on the page: its label, the trained network, its history and where it came from."""

    rule: str
    model: Any
    history: tuple[dict[str, float], ...]
    val_bpc: float
    seconds: float
    origin: str
    copy: tuple[float, float] | None = None  # bits per character on repeated words' first and second occurrences


def own_text(name: str, data: bytes) -> str:
    """An uploaded file's text, or ValueError saying what is wrong and what is allowed."""
    if not data:
        raise ValueError(f"{name} is empty; upload a plain-text (.txt) file of at least {MIN_OWN_CHARS} characters")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"{name} has {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} are allowed")
    if b"\x00" in data[:4096]:
        raise ValueError(f"{name} looks like a binary file (it contains NUL bytes); upload plain text (.txt, UTF-8)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name} is not UTF-8 text (byte {exc.start} cannot be read); upload plain text (.txt, UTF-8)") from None
    return checked_text(text)


def checked_text(text: str) -> str:
    """Your text, normalised like the corpus, or ValueError (too short, or mostly characters outside the vocabulary)."""
    return check_text(text, MIN_OWN_CHARS, "your text")


def text_key(text: str | None) -> str:
    return "corpus" if text is None else hashlib.sha256(text.encode()).hexdigest()[:16]


def shipped_model(rule: str) -> Model | None:
    """The shipped model of ``rule`` with its record, or None where none is shipped."""
    model = pretrain.shipped(rule)
    if model is None:
        return None
    rec = pretrain.manifest()[f"{rule}.pt"]
    g = rec["copy_gain"]
    return Model(rule, model, tuple(rec["history"]), float(rec["val_bpc"]), float(rec["seconds"]), SHIPPED_ORIGIN,
                 (float(g["first"]), float(g["second"])))


def shipped_steps() -> int | None:
    """How many steps the shipped models trained for (None: nothing shipped)."""
    recs = list(pretrain.manifest().values())
    return int(recs[0]["settings"]["steps"]) if recs else None


def seconds_per_step(rule: str) -> float | None:
    """Measured: the shipped model's training time per step (its own rule's, else the mean of those shipped)."""
    recs = pretrain.manifest()
    rec = recs.get(f"{rule}.pt")
    pool = [rec] if rec else list(recs.values())
    if not pool:
        return None
    return sum(r["seconds"] / r["settings"]["steps"] for r in pool) / len(pool)


def cost_text(rules: list[str], steps: int) -> str:
    """What a training will cost, stated before it starts, from the shipped models' measured times."""
    parts, total = [], 0.0
    for r in rules:
        s = seconds_per_step(r)
        if s is None:
            return f"{len(rules)} training(s) of {steps} steps each; no measured time to go by."
        total += s * steps
        parts.append(f"{r} ≈ {s * steps:.0f} s")
    return (f"{steps} steps each: {', '.join(parts)} — about {total / 60:.1f} min in all, one after another (measured "
            "from the shipped models' training on the machine that trained them; a busy server is slower).")


def job_key(rule: str, steps: int, seed: int, text: str | None) -> tuple:
    return ("language", rule, steps, seed, text_key(text))


def submit(rule: str, steps: int, seed: int, text: str | None) -> jobs.Job:
    """The server's training of this model (identical configurations train once)."""
    def fn(report):
        result = lm.train(rule, text=text, steps=steps, seed=seed, progress=report, device="cpu")
        try:  # on the held-out part of the text it trained on
            g = lm.copy_gain(result.model, None if text is None else lm.split_corpus(text)[1])
            copy = (g.first, g.second)
        except ValueError:  # no word repeats within a window of the held-out text
            copy = None
        return result, copy

    where = "the default corpus" if text is None else "your text"
    return jobs.queue().submit(job_key(rule, steps, seed, text), f"{rule} ({steps} steps on {where})", fn)


def trained_model(rule: str, steps: int, seed: int, text: str | None) -> Model | None:
    """The model trained on this server for this configuration, if its training is done (from any session)."""
    job = jobs.queue().find(job_key(rule, steps, seed, text))
    if job is None or job.state != "done":
        return None
    r, copy = job.result
    return Model(rule, r.model, tuple(r.history), r.val_bpc, r.seconds, "trained on this server", copy)


@st.cache_data(max_entries=32, show_spinner=False)
def reading(_model: Any, key: tuple, text: str) -> lm.Reading:
    """``fwp_core.language.read`` of one sentence by one model (``key`` names the model)."""
    return lm.read(_model, text)


def reading_row(m: Model, chars: str, t: int) -> None:
    """One model's row at character t: what it predicts next, what its read retrieves, its fast weights."""
    r, nxt = m.rule, chars[t]
    rd = reading(m.model, (r, m.origin, m.val_bpc), chars)
    p_next = float(rd.probs[t - 1, lm.VOCAB.index(nxt)])
    st.markdown(f"**{r}** — p(next = {figures.shown_char(nxt)}) = **{p_next:.3f}** ({-np.log2(max(p_next, 1e-12)):.2f} bits); "
                f"this sentence: {rd.bpc:.3f} bits/char")
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(figures.prediction_figure(rd.top(t - 1), nxt), key=f"lang_pred_{r}", config=figures.CHART_CONFIG)
    if rd.attention is not None:
        row = rd.attention[-1].mean(0)[t - 1].numpy()
        c2.plotly_chart(figures.retrieval_figure(row, chars, t), key=f"lang_attn_{r}", config=figures.CHART_CONFIG)
    else:
        c2.caption(f"{r} has no parallel form, so no attention row: its read is W_t φ(q_t) alone.")
    if rd.traces is not None:
        W = rd.traces[-1].weights[0, t].numpy()
        c3.plotly_chart(figures.memory_figure(W, f"fast weights W_{t}"), key=f"lang_mem_{r}",
                        config=figures.CHART_CONFIG)
    else:
        c3.caption("Softmax attention keeps every key and value so far instead of a fixed-size W.")
