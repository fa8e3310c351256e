"""Training and measuring the character-level models: ``train``, ``bits_per_char``, ``copy_gain``.

Everything is deterministic for a given seed on the CPU: the initialisation and every batch come from local
``torch.Generator`` objects (the global RNG and the number of threads are left alone).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from .corpus import HELD_OUT, check_text, decode, default_corpus, encode, split_corpus
from .model import SIZE_KEYS, CharModel, LanguageConfig, check_size, make_config

DEFAULTS: dict[str, Any] = {"steps": 1500, "batch": 16, "lr": 3e-3, "eval_every": 100}
"""Training defaults (the model's sizes are ``LanguageConfig``'s): measured so that ``train("delta")``
takes about a minute and a half on two CPU cores (benchmarks/bench_language.py)."""
TRAIN_LIMITS: dict[str, tuple[type, float, float]] = {
    "steps": (int, 1, 20_000), "batch": (int, 1, 256), "lr": (float, 1e-6, 1.0), "eval_every": (int, 1, 20_000),
}
WARMUP = 50
CLIP = 1.0
EVAL_BATCH = 32
MAX_EVAL_CHARS = 1_000_000

Progress = Callable[[int, int, "dict[str, float] | None"], Any]
"""progress(step, total, entry): after every step; ``entry`` is the new history entry at evaluation steps,
else None."""


@dataclass
class TrainResult:
    """A trained model and how it got there."""

    model: CharModel
    history: list[dict[str, float]]  # {"step", "train_bpc", "val_bpc", "seconds"} at each evaluation
    config: LanguageConfig
    settings: dict[str, Any] = field(default_factory=dict)  # steps, batch, lr, seed, device, eval_every, ...
    seconds: float = 0.0  # training time, evaluations included
    skipped: int = 0  # steps whose loss was not finite (no update was made)

    @property
    def val_bpc(self) -> float:
        return float(self.history[-1]["val_bpc"])


def _check_device(device: Any) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a device; use 'cpu' or 'cuda'") from exc
    if dev.type not in ("cpu", "cuda") or (dev.type == "cuda" and not torch.cuda.is_available()):
        raise ValueError(f"device={device!r} is not available; use 'cpu'" + (" or 'cuda'" if torch.cuda.is_available() else ""))
    return dev


def _texts(text: Any, context: int) -> tuple[str, str]:
    """(train, held-out) parts: of the default corpus, or of ``text`` (checked, normalised, split)."""
    if text is None:
        return default_corpus("train"), default_corpus("val")
    need = max(2000, math.ceil(10 * (context + 1) / HELD_OUT))
    train, val = split_corpus(check_text(text, need, "the training text"), HELD_OUT)
    return train, val


def _windows(ids: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows: inputs (N, context) and targets (N, context), the last one padded with -1
    (ignored). Every character but the first is predicted once, from the characters before it in its window."""
    n = ids.numel() - 1
    N = -(-n // context)
    x = torch.zeros(N * context, dtype=torch.int64)
    y = torch.full((N * context,), -1, dtype=torch.int64)
    x[:n], y[:n] = ids[:-1], ids[1:]
    return x.reshape(N, context), y.reshape(N, context)


@torch.no_grad()
def _surprisal(model: CharModel, ids: torch.Tensor) -> torch.Tensor:
    """Bits for every predicted character of ``ids`` (windows of the model's context), shape (len − 1,)."""
    x, y = _windows(ids, model.config.context)
    dev = model.embed.weight.device
    out = []
    was = model.training
    model.eval()
    for i in range(0, x.shape[0], EVAL_BATCH):
        logits = model(x[i:i + EVAL_BATCH].to(dev)).float()
        tgt = y[i:i + EVAL_BATCH].to(dev)
        nll = F.cross_entropy(logits.flatten(0, 1), tgt.clamp_min(0).flatten(), reduction="none")
        out.append(nll.reshape(tgt.shape)[tgt >= 0].cpu())
    model.train(was)
    return torch.cat(out).to(torch.float64) / math.log(2)


def _model_and_text(model: Any, text: Any, what: str) -> torch.Tensor:
    if not isinstance(model, CharModel):
        raise ValueError(f"model must be a fwp_core.language CharModel, got {type(model).__name__}")
    text = default_corpus("val") if text is None else check_text(text, 2, what)
    if len(text) > MAX_EVAL_CHARS:
        raise ValueError(f"{what} has {len(text)} characters; at most {MAX_EVAL_CHARS} are measured at once")
    return encode(text)


def bits_per_char(model: CharModel, text: str | None = None) -> float:
    """Mean bits per character the model spends on ``text`` (default: the held-out corpus), read in
    non-overlapping windows of its ``context``: every character but the first is predicted once, from the
    characters before it in its window. A model that predicts uniformly scores exactly log2 V."""
    return float(_surprisal(model, _model_and_text(model, text, "text")).mean())


@dataclass(frozen=True)
class CopyGain:
    """Bits per character on the repeated words of a text: ``first`` occurrences, ``second`` occurrences."""

    first: float
    second: float
    words: int  # how many (first, second) pairs were measured
    chars: int  # characters measured in each of the two groups

    @property
    def gain(self) -> float:
        """first − second: bits per character a memory of the window saves on a word it has seen."""
        return self.first - self.second


_WORD = re.compile(r"[A-Za-z]+")


def copy_gain(model: CharModel, text: str | None = None, *, min_len: int = 4) -> CopyGain:
    """What in-context memory buys: bits per character on the second occurrence of a word against its first.

    ``text`` (default: the held-out corpus) is cut into the same windows of the model's context as
    ``bits_per_char``. In each window, every word (a maximal run of ≥ ``min_len`` ASCII letters) that occurs at
    least twice contributes its first and its second occurrence; the characters measured are each occurrence's
    2nd to last letter (the first letter of a word is a guess either time). ``first`` and ``second`` are the mean
    bits on those characters; ``gain`` = first − second. A model that sees only a fixed number of preceding
    characters within the word gains nothing: the same letters follow the same letters."""
    ids = _model_and_text(model, text, "text")
    check_size("min_len", min_len, int, 2, 64)
    bits = _surprisal(model, ids)  # bits[j] is the cost of character j + 1
    L = model.config.context
    text_n = decode(ids)
    first, second, words = [], [], 0
    for start in range(0, len(text_n) - 1, L):
        window = text_n[start:start + L + 1]  # the window predicts characters start+1 .. start+L
        seen: dict[str, int] = {}
        done: set[str] = set()
        for m in _WORD.finditer(window):
            w = m.group()
            if len(w) < min_len or w in done or m.start() == 0:
                continue  # a word cut by the window's start is not a whole word
            if m.end() == len(window) and start + len(window) < len(text_n):
                continue  # cut by the window's end
            if w not in seen:
                seen[w] = m.start()
                continue
            for pos, out in ((seen[w], first), (m.start(), second)):
                out.extend(bits[start + pos + i - 1] for i in range(1, len(w)))
            done.add(w)
            words += 1
    if not words:
        raise ValueError(f"the text has no word of at least {min_len} letters repeated within {L} characters")
    return CopyGain(float(torch.stack(first).mean()), float(torch.stack(second).mean()), words, len(first))


def _settings(sizes: dict[str, Any], steps: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``size`` keyword arguments into model sizes and training settings, checked."""
    allowed = (*SIZE_KEYS, "batch", "lr", "eval_every", "rule_hparams")
    unknown = sorted(set(sizes) - set(allowed))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; allowed: steps, {', '.join(allowed)}")
    train = {k: sizes.pop(k) for k in ("batch", "lr", "eval_every") if k in sizes}
    train = {**{k: DEFAULTS[k] for k in ("batch", "lr", "eval_every")}, **train}
    train["steps"] = DEFAULTS["steps"] if steps is None else steps
    return sizes, {k: check_size(k, v, *TRAIN_LIMITS[k]) for k, v in train.items()}


def train(rule: str, *, text: str | None = None, steps: int | None = None, seed: int = 0,
          progress: Progress | None = None, device: Any = None, **size: Any) -> TrainResult:
    """Train a character model whose mixer is ``rule`` (a registry name, or "softmax") with Adam.

    ``text``: default the default corpus's training part, evaluated on its held-out part; a given text is
    normalised and split the same way (``split_corpus``). ``size``: model sizes (``LanguageConfig``: d_model,
    n_layers, n_heads, d_head, context, beta_max, n_h, chunk; ``rule_hparams``) and training settings (batch,
    lr, eval_every; defaults ``DEFAULTS``). Each step samples ``batch`` random windows of ``context`` + 1
    characters; the learning rate warms up over ``WARMUP`` steps and decays by a cosine to a tenth; gradients are
    clipped to norm ``CLIP``. The history has an entry every ``eval_every`` steps and after the last: mean
    training bits per character since the last entry, held-out bits per character (all of it), seconds so far.
    """
    rule_hparams = size.pop("rule_hparams", None)
    sizes, st = _settings(size, steps)
    config = make_config(rule, rule_hparams=rule_hparams, **sizes)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ValueError(f"seed={seed!r} is not allowed; seed must be an integer in [0, 2^31)")
    if progress is not None and not callable(progress):
        raise ValueError("progress must be a callable progress(step, total, entry) or None")
    dev = _check_device(device)
    train_text, val_text = _texts(text, config.context)
    train_ids, val_ids = encode(train_text), encode(val_text)
    if train_ids.numel() < config.context + 2:
        raise ValueError(f"the training part has {train_ids.numel()} characters; context={config.context} needs more")

    init_gen = torch.Generator().manual_seed(seed)
    data_gen = torch.Generator().manual_seed(seed + 1_000_003)
    model = CharModel(config, init_gen).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=st["lr"])
    total, L = st["steps"], config.context
    offsets = torch.arange(L + 1)
    history: list[dict[str, float]] = []
    running, counted, skipped = 0.0, 0, 0
    start = time.perf_counter()
    model.train()
    for step in range(1, total + 1):
        scale = min(1.0, step / WARMUP) * (0.1 + 0.45 * (1 + math.cos(math.pi * (step - 1) / max(1, total))))
        for group in opt.param_groups:
            group["lr"] = st["lr"] * scale
        starts = torch.randint(0, train_ids.numel() - L - 1, (st["batch"],), generator=data_gen)
        chunk = train_ids[starts[:, None] + offsets].to(dev)
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1).float(), chunk[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        ok = bool(torch.isfinite(loss))
        if ok:
            loss.backward()
            ok = bool(torch.isfinite(torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)))
        if ok:
            opt.step()
            running += float(loss.detach()) / math.log(2)
            counted += 1
        else:
            skipped += 1  # a diverged fast net (NaN / inf) teaches nothing: no update
        entry = None
        if step % st["eval_every"] == 0 or step == total:
            entry = {"step": step, "train_bpc": running / counted if counted else float("nan"),
                     "val_bpc": float(_surprisal(model, val_ids).mean()), "seconds": time.perf_counter() - start}
            history.append(entry)
            running, counted = 0.0, 0
        if progress is not None:
            progress(step, total, entry)
    seconds = time.perf_counter() - start
    model.eval()
    settings = {**st, "seed": seed, "device": str(dev), "text": "default" if text is None else "given",
                "train_chars": len(train_text), "val_chars": len(val_text), "threads": torch.get_num_threads()}
    return TrainResult(model, history, config, settings, seconds, skipped)
