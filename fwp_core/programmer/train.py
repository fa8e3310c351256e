"""Training and evaluation of a programmer: Adam on freshly sampled batches, seeded and capped.

``train(task, rule, ...)`` returns a ``TrainResult`` (the model, its per-step ``History``, the time it
took); ``evaluate(model, task, length=...)`` scores it on fresh sequences. Everything is deterministic
for a given seed: the initialisation and every batch come from local ``torch.Generator`` objects (the
global RNG and the number of threads are left alone).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from .models import FastWeightProgrammer, ProgrammerConfig, make_config
from .tasks import TaskBatch, TaskSpec, check_length, get_task

MAX_STEPS = 5000
"""The most optimisation steps one ``train`` call may take (keeps the app responsive)."""
MAX_BATCH = 512
MAX_TRAIN_LENGTH = 64
"""Training sequences are at most this long (evaluation may go up to the task's ``max_length``)."""
MAX_EVAL_N = 4096
EVAL_BLOCK = 64
"""Evaluation samples its sequences in blocks of this many (then computes them in smaller chunks if needed)."""
EVAL_ELEMENTS = 1 << 22
"""Evaluation runs in chunks of at most about this many numbers per intermediate tensor: B·T·d_v·d_phi
(stacked fast weights) or B·T² (the attention of the parallel form)."""

Progress = Callable[[int, int, float, float], Any]
"""progress(step, total, loss, metric): called about 100 times per run and after the last step."""


@dataclass
class History:
    """Per-step training record. ``accuracy`` (classification tasks) or ``error_ratio`` (regression:
    the batch's mean squared error over the least-squares one) is filled; the other stays empty."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    error_ratio: list[float] = field(default_factory=list)
    metric_name: str = "accuracy"
    skipped: int = 0  # steps whose loss was not finite (no update was made)

    @property
    def metric(self) -> list[float]:
        return self.error_ratio if self.metric_name != "accuracy" else self.accuracy


@dataclass(frozen=True)
class TrainResult:
    """A trained programmer and how it got there."""

    model: FastWeightProgrammer
    history: History
    config: ProgrammerConfig
    seed: int
    steps: int
    seconds: float  # wall-clock training time
    settings: dict[str, Any]  # lr, batch_size, lengths, device


@dataclass(frozen=True)
class Evaluation:
    """Scores on ``n`` fresh sequences of one length."""

    task: str
    length: int
    n: int
    metric_name: str  # "accuracy" or "error / least squares"
    metric: float  # accuracy in [0, 1], or model error / least-squares error
    model_error: float | None = None  # regression: mean squared error per output (vs the noisy target)
    baseline_error: float | None = None  # regression: the least-squares fit on the same context


def _check_device(device: Any) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a device; use 'cpu' or 'cuda'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA device is available; use 'cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r} is not supported; use 'cpu' or 'cuda'")
    return dev


def _check_lengths(spec: TaskSpec, length: Any) -> tuple[int, int]:
    hi_cap = min(spec.max_length, MAX_TRAIN_LENGTH)
    if length is None:
        return spec.train_lengths
    if isinstance(length, int) and not isinstance(length, bool):
        length = (length, length)
    try:
        lo, hi = length
    except (TypeError, ValueError) as exc:
        raise ValueError(f"length={length!r} must be an integer or a pair (lo, hi) with 1 ≤ lo ≤ hi ≤ {hi_cap}") from exc
    for x in (lo, hi):
        if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= hi_cap:
            raise ValueError(f"length={length!r} is not allowed; training lengths must be integers in [1, {hi_cap}]")
    if lo > hi:
        raise ValueError(f"length={length!r}: lo must not exceed hi")
    return lo, hi


def _positive(name: str, x: Any, lo: float, hi: float) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(float(x)) or not lo < float(x) <= hi:
        raise ValueError(f"{name}={x!r} is not allowed; {name} must be a number in ({lo:g}, {hi:g}]")
    return float(x)


def _loss_and_metric(spec: TaskSpec, out: torch.Tensor, batch: TaskBatch) -> tuple[torch.Tensor, float]:
    """Masked loss (cross-entropy, or MSE per output) and the batch metric (accuracy, or MSE / LS MSE)."""
    m = batch.mask
    if spec.regression:
        err = ((out - batch.targets) ** 2).mean(-1)[m]  # (N,)
        loss = err.mean()
        ls = ((batch.baseline - batch.targets) ** 2).mean(-1)[m].mean()
        return loss, float(loss.detach() / ls)
    logits, target = out[m], batch.targets[m]  # (N, C), (N,)
    loss = F.cross_entropy(logits, target)
    return loss, float((logits.argmax(-1) == target).float().mean())


def train(
    task: str,
    rule: str,
    *,
    kind: str = "linear",
    beta_range: Any = (0, 1),
    steps: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: Progress | None = None,
    d: int | None = None,
    d_model: int | None = None,
    n_h: int | None = None,
    length: int | tuple[int, int] | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    rule_hparams: Mapping[str, Any] | None = None,
    clip: float = 1.0,
) -> TrainResult:
    """Train a programmer of ``kind`` for ``rule`` on ``task`` with Adam.

    Each step draws one length uniformly from ``length`` (default: the task's training range) and a
    fresh batch of ``batch_size`` sequences; the gradient norm is clipped to ``clip``. Defaults for
    ``d``, ``lr``, ``steps`` and ``batch_size`` come from the task (``tasks.TASKS[task].defaults``).
    Bad arguments raise ValueError naming what is allowed.
    """
    spec = get_task(task)
    config = make_config(
        task, rule, kind=kind, beta_range=beta_range, d=d, n_h=n_h, rule_hparams=rule_hparams, d_model=d_model
    )
    steps = spec.defaults["steps"] if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps={steps!r} is not allowed; steps must be an integer in [1, {MAX_STEPS}]")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ValueError(f"seed={seed!r} is not allowed; seed must be an integer in [0, 2^31)")
    dev = _check_device(device)
    lo, hi = _check_lengths(spec, length)
    batch_size = spec.defaults["batch_size"] if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size={batch_size!r} is not allowed; it must be an integer in [1, {MAX_BATCH}]")
    lr = _positive("lr", spec.defaults["lr"] if lr is None else lr, 0.0, 1.0)
    clip = _positive("clip", clip, 0.0, 1e6)
    if progress is not None and not callable(progress):
        raise ValueError("progress must be a callable progress(step, total, loss, metric) or None")

    init_gen = torch.Generator().manual_seed(seed)
    data_gen = torch.Generator().manual_seed(seed + 1_000_003)
    model = FastWeightProgrammer(config, init_gen).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = History(metric_name=spec.metric_name)
    every = max(1, steps // 100)
    start = time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        L = int(torch.randint(lo, hi + 1, (1,), generator=data_gen))
        batch = spec.sample(L, batch_size, data_gen, False).to(dev)
        loss, metric = _loss_and_metric(spec, model(batch.inputs), batch)
        opt.zero_grad(set_to_none=True)
        finite = bool(torch.isfinite(loss))
        if finite:
            loss.backward()
            finite = bool(torch.isfinite(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
        if finite:
            opt.step()
        else:
            history.skipped += 1  # a diverged fast net (NaN/inf) teaches nothing: no update
        history.loss.append(float(loss.detach()))
        (history.error_ratio if spec.regression else history.accuracy).append(metric)
        if progress is not None and (step % every == 0 or step == steps):
            progress(step, steps, history.loss[-1], metric)
    seconds = time.perf_counter() - start
    model.eval()
    settings = {"lr": lr, "batch_size": batch_size, "lengths": (lo, hi), "device": str(dev), "clip": clip}
    return TrainResult(model, history, config, seed, steps, seconds, settings)


def evaluate_detail(model: FastWeightProgrammer, task: str, *, length: int, n: int = 512, seed: int = 12345) -> Evaluation:
    """Score ``model`` on ``n`` fresh sequences of ``task`` at ``length`` (seeded, no gradients)."""
    if not isinstance(model, FastWeightProgrammer):
        raise ValueError(f"model must be a FastWeightProgrammer, got {type(model).__name__}")
    spec = get_task(task)
    if spec.name != model.config.task:
        raise ValueError(f"this programmer was trained on {model.config.task!r}; evaluate it on that task, not {task!r}")
    check_length(spec, length)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_EVAL_N:
        raise ValueError(f"n={n!r} is not allowed; n must be an integer in [1, {MAX_EVAL_N}]")
    g = torch.Generator().manual_seed(int(seed))
    dev = model.embed.weight.device
    T = spec.seq_len(length)
    rows = model.W0.shape[0] if model.config.kind == "self_referential" else model.config.d * model.config.n_h
    per_sequence = T * (T if model.uses_parallel else rows * model.d_phi)
    chunk = max(1, min(EVAL_BLOCK, EVAL_ELEMENTS // max(1, per_sequence)))
    correct = total = 0.0
    sq_model = sq_base = 0.0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for first in range(0, n, EVAL_BLOCK):  # sampling blocks are fixed, so scores do not depend on `chunk`
            block = spec.sample(length, min(EVAL_BLOCK, n - first), g, False)
            for lo in range(0, block.inputs.shape[0], chunk):
                sl = slice(lo, lo + chunk)
                part = TaskBatch(
                    block.task, block.inputs[sl], block.targets[sl], block.mask[sl],
                    None if block.baseline is None else block.baseline[sl],
                ).to(dev)
                out, m = model(part.inputs), part.mask
                total += float(m.sum())
                if spec.regression:
                    sq_model += float(((out - part.targets) ** 2).mean(-1)[m].sum())
                    sq_base += float(((part.baseline - part.targets) ** 2).mean(-1)[m].sum())
                else:
                    correct += float((out[m].argmax(-1) == part.targets[m]).sum())
    model.train(was_training)
    if spec.regression:
        e_model, e_base = sq_model / total, sq_base / total
        return Evaluation(spec.name, length, n, spec.metric_name, e_model / e_base, e_model, e_base)
    return Evaluation(spec.name, length, n, spec.metric_name, correct / total)


def evaluate(model: FastWeightProgrammer, task: str, *, length: int, n: int = 512, seed: int = 12345) -> float:
    """Accuracy on the scored positions (classification tasks), or for ``regression`` the model's mean
    squared error divided by that of least squares fitted to the same context (1 = optimal)."""
    return evaluate_detail(model, task, length=length, n=n, seed=seed).metric
