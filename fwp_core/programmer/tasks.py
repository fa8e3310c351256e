"""Tasks a programmer is trained on, generated on the fly from a seeded ``torch.Generator``.

Every task turns a batch of random sequences into float input features ``(B, T, d_in)``, targets and
a mask of the positions that are scored. ``TASKS`` is the one table of tasks; nothing else lists them.

=======================  ====================================================  =====================
task                     sequence (``length`` = L)                             scored
=======================  ====================================================  =====================
``parity``               BOS, then L bits                                      running parity, bits
``modular_count``        BOS, then L bits                                      running count of 1s mod 3
``associative_recall``   L write tokens (key symbol, value symbol), then the   value of each queried key
                         L stored keys again as queries, in a random order
``regression``           L context tokens (x_i, y_i = A x_i + σ ε), then a     y of the query; the
                         query x (y hidden)                                    least-squares baseline
                                                                               on the same context
=======================  ====================================================  =====================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

N_KEYS = 64
"""Key symbols in associative recall: more than d = 32, so keys cannot all be orthogonal (crosstalk)."""
N_VALUES = 32
"""Value symbols in associative recall (at most d = 32, so a readout can tell every value apart)."""
REG_DX = 4
"""Input dimension of in-context regression (x on the unit sphere of R^4)."""
REG_DY = 4
"""Output dimension of in-context regression (A has N(0, 1) entries, so each y_i has unit variance)."""
REG_NOISE = 0.25
"""Standard deviation σ of the observation noise of in-context regression."""


@dataclass(frozen=True)
class TaskBatch:
    """A batch of sequences of one task.

    ``inputs`` (B, T, d_in) float features; ``targets`` (B, T) class indices (long) or (B, T, d_y)
    floats for regression; ``mask`` (B, T) bool, the scored positions; ``baseline`` (B, T, d_y) the
    least-squares prediction from the same context (regression only, zero where not scored);
    ``labels``: readable token labels per sequence (only when asked for).
    """

    task: str
    inputs: torch.Tensor  # (B, T, d_in)
    targets: torch.Tensor  # (B, T) long, or (B, T, d_y)
    mask: torch.Tensor  # (B, T) bool
    baseline: torch.Tensor | None = None  # (B, T, d_y) regression only
    labels: tuple[tuple[str, ...], ...] = ()

    @property
    def T(self) -> int:
        return int(self.inputs.shape[-2])

    def to(self, device: torch.device | str) -> TaskBatch:
        move = lambda x: None if x is None else x.to(device)  # noqa: E731
        return TaskBatch(self.task, move(self.inputs), move(self.targets), move(self.mask), move(self.baseline), self.labels)


@dataclass(frozen=True)
class TaskSpec:
    """One task: how to sample it, its sizes, and the training defaults that make it learnable."""

    name: str
    title: str
    help: str
    d_in: int  # input feature size
    n_out: int  # classes, or d_y for regression
    regression: bool
    sample: Callable[[int, int, torch.Generator, bool], TaskBatch]  # (length, n, generator, labels)
    train_lengths: tuple[int, int]  # lengths drawn uniformly per training batch (inclusive)
    eval_length: int  # the length the benchmark reports
    seq_len: Callable[[int], int]  # T of a sequence of a given length (BOS, queries included)
    max_length: int  # the largest length allowed anywhere
    defaults: dict[str, Any] = field(default_factory=dict)  # d, lr, steps, batch_size
    symbols: tuple[str, ...] = ()  # symbols of a typed sequence (bit tasks)

    @property
    def metric_name(self) -> str:
        return "error / least squares" if self.regression else "accuracy"


def _bits(length: int, n: int, g: torch.Generator, labels: bool, name: str, modulus: int) -> TaskBatch:
    """BOS then ``length`` random bits; targets: running count of ones mod ``modulus`` (T = length + 1)."""
    bits = torch.randint(0, 2, (n, length), generator=g)  # (B, L)
    return _bits_batch(bits, name, modulus, labels)


def _bits_batch(bits: torch.Tensor, name: str, modulus: int, labels: bool) -> TaskBatch:
    n, length = bits.shape
    ids = torch.cat([torch.zeros(n, 1, dtype=torch.long), bits.long() + 1], dim=1)  # (B, T): 0 = BOS
    inputs = F.one_hot(ids, 3).float()  # (B, T, 3)
    counts = torch.cat([torch.zeros(n, 1, dtype=torch.long), torch.cumsum(bits.long(), dim=1)], dim=1)
    mask = torch.ones(n, length + 1, dtype=torch.bool)
    mask[:, 0] = False
    lab = tuple(("BOS", *(str(int(b)) for b in row)) for row in bits) if labels else ()
    return TaskBatch(name, inputs, counts % modulus, mask, None, lab)


def _parity(length: int, n: int, g: torch.Generator, labels: bool = False) -> TaskBatch:
    return _bits(length, n, g, labels, "parity", 2)


def _modular_count(length: int, n: int, g: torch.Generator, labels: bool = False) -> TaskBatch:
    return _bits(length, n, g, labels, "modular_count", 3)


def _recall(length: int, n: int, g: torch.Generator, labels: bool = False) -> TaskBatch:
    """``length`` = P pairs of distinct keys: P write tokens [onehot(key), onehot(value), 1, 0], then P
    query tokens [onehot(key), 0, 0, 1] (each stored key once, shuffled). T = 2P; d_in = K + V + 2."""
    P = length
    keys = torch.rand(n, N_KEYS, generator=g).argsort(dim=1)[:, :P]  # (B, P) distinct
    vals = torch.randint(0, N_VALUES, (n, P), generator=g)  # (B, P)
    order = torch.rand(n, P, generator=g).argsort(dim=1)  # (B, P)
    qkeys = keys.gather(1, order)
    qvals = vals.gather(1, order)
    write = torch.cat(
        [F.one_hot(keys, N_KEYS), F.one_hot(vals, N_VALUES), torch.ones(n, P, 1), torch.zeros(n, P, 1)], dim=-1
    )  # (B, P, d_in)
    query = torch.cat(
        [F.one_hot(qkeys, N_KEYS), torch.zeros(n, P, N_VALUES), torch.zeros(n, P, 1), torch.ones(n, P, 1)], dim=-1
    )
    inputs = torch.cat([write, query], dim=1).float()  # (B, 2P, d_in)
    targets = torch.cat([torch.zeros_like(vals), qvals], dim=1)  # (B, 2P)
    mask = torch.cat([torch.zeros(n, P, dtype=torch.bool), torch.ones(n, P, dtype=torch.bool)], dim=1)
    lab: tuple[tuple[str, ...], ...] = ()
    if labels:
        lab = tuple(
            tuple(f"k{int(k)}→v{int(v)}" for k, v in zip(keys[b], vals[b])) + tuple(f"?k{int(k)}" for k in qkeys[b])
            for b in range(n)
        )
    return TaskBatch("associative_recall", inputs, targets, mask, None, lab)


def least_squares_prediction(x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor) -> torch.Tensor:
    """The least-squares fit of the context, evaluated at the query.

    x (B, n, d_x), y (B, n, d_y), xq (B, d_x) -> (B, d_y): Â xq with Â = argmin Σ‖A x_i − y_i‖²
    (the minimum-norm solution when n < d_x)."""
    sol = torch.linalg.pinv(x.double()) @ y.double()  # (B, d_x, d_y) = Âᵀ
    return (xq.double().unsqueeze(-2) @ sol).squeeze(-2).to(y.dtype)


def _regression(length: int, n: int, g: torch.Generator, labels: bool = False) -> TaskBatch:
    """``length`` = n context pairs: tokens [x_i, y_i, 1, 0], then one query [x, 0, 0, 1]. T = n + 1.

    x on the unit sphere of R^d_x, A with N(0, 1) entries (fresh per sequence), y = A x + σ ε."""
    A = torch.randn(n, REG_DY, REG_DX, generator=g)  # (B, d_y, d_x)
    x = torch.randn(n, length + 1, REG_DX, generator=g)
    x = x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)  # (B, T, d_x)
    y = x @ A.transpose(-1, -2) + REG_NOISE * torch.randn(n, length + 1, REG_DY, generator=g)  # (B, T, d_y)
    is_query = torch.zeros(n, length + 1, 1)
    is_query[:, -1] = 1.0
    y_in = y * (1 - is_query)
    inputs = torch.cat([x, y_in, 1 - is_query, is_query], dim=-1)  # (B, T, d_x + d_y + 2)
    mask = is_query.squeeze(-1).bool()
    baseline = torch.zeros_like(y)
    baseline[:, -1] = least_squares_prediction(x[:, :-1], y[:, :-1], x[:, -1])
    lab: tuple[tuple[str, ...], ...] = ()
    if labels:
        lab = tuple(tuple(f"(x{i + 1}, y{i + 1})" for i in range(length)) + ("x?",) for _ in range(n))
    return TaskBatch("regression", inputs, y, mask, baseline, lab)


TASKS: dict[str, TaskSpec] = {
    t.name: t
    for t in (
        TaskSpec(
            "associative_recall", "Associative recall", "P key→value writes, then each key is queried; recall its value",
            d_in=N_KEYS + N_VALUES + 2, n_out=N_VALUES, regression=False, sample=_recall,
            train_lengths=(8, 8), eval_length=8, seq_len=lambda L: 2 * L, max_length=N_KEYS,
            defaults={"d": 32, "lr": 3e-3, "steps": 1500, "batch_size": 64},
        ),
        TaskSpec(
            "regression", "In-context linear regression", "pairs (x, Ax + noise) then a query x: predict Ax",
            d_in=REG_DX + REG_DY + 2, n_out=REG_DY, regression=True, sample=_regression,
            train_lengths=(8, 24), eval_length=16, seq_len=lambda L: L + 1, max_length=256,
            defaults={"d": 8, "d_model": 16, "lr": 3e-3, "steps": 3000, "batch_size": 64},
        ),
        TaskSpec(
            "parity", "Parity", "running parity of a bit string (needs a negative eigenvalue: β up to 2)",
            d_in=3, n_out=2, regression=False, sample=_parity,
            train_lengths=(2, 16), eval_length=64, seq_len=lambda L: L + 1, max_length=1024,
            defaults={"d": 8, "lr": 3e-3, "steps": 1500, "batch_size": 64}, symbols=("0", "1"),
        ),
        TaskSpec(
            "modular_count", "Counting mod 3", "running count of ones mod 3 (a rotation: in one layer, two reflections per 1 bit)",
            d_in=3, n_out=3, regression=False, sample=_modular_count,
            train_lengths=(2, 16), eval_length=64, seq_len=lambda L: L + 1, max_length=1024,
            defaults={"d": 8, "lr": 3e-3, "steps": 1500, "batch_size": 64}, symbols=("0", "1"),
        ),
    )
}


def task_names() -> list[str]:
    """Every task, in display order."""
    return list(TASKS)


def get_task(name: Any) -> TaskSpec:
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def check_length(spec: TaskSpec, length: Any, what: str = "length") -> int:
    """An integer length in [1, spec.max_length], or ValueError saying what is allowed."""
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= spec.max_length:
        raise ValueError(f"{what}={length!r} is not allowed for task {spec.name!r}; it must be an integer in [1, {spec.max_length}]")
    return length


def sample(task: str, length: int, n: int = 1, seed: int = 0, *, labels: bool = True) -> TaskBatch:
    """``n`` seeded sequences of ``task`` at ``length`` (see the table above for what length means)."""
    spec = get_task(task)
    check_length(spec, length)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4096:
        raise ValueError(f"n={n!r} is not allowed; it must be an integer in [1, 4096]")
    return spec.sample(length, n, torch.Generator().manual_seed(int(seed)), labels)


def encode_bits(task: str, bits: Any) -> TaskBatch:
    """A typed bit string ("0110") or a sequence of 0/1 for a bit task → a batch of one sequence."""
    spec = get_task(task)
    if not spec.symbols:
        raise ValueError(f"task {task!r} takes no typed sequence; bit tasks: "
                         f"{', '.join(n for n, s in TASKS.items() if s.symbols)}")
    try:
        text = bits if isinstance(bits, str) else "".join(str(int(b)) for b in bits)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a bit sequence must hold only 0 and 1, got {bits!r}") from exc
    text = "".join(text.split())
    if not text or any(c not in "01" for c in text):
        raise ValueError(f"a bit string must be non-empty and hold only 0 and 1, got {bits!r}")
    check_length(spec, len(text))
    row = torch.tensor([[int(c) for c in text]])  # (1, L)
    return _bits_batch(row, spec.name, spec.n_out, labels=True)
