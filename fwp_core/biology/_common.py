"""Helpers shared by the biology simulations: argument checks worded like the registry's, read-only arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..registry import HParam

DT = torch.float64
_SEED = HParam("seed", 0, "int", 0, 2**31 - 1)


def num(name: str, value: Any, low: float | None = None, high: float | None = None, *, low_open: bool = False,
        high_open: bool = False) -> float:
    """A finite number in the given range, or ValueError saying what is allowed (the registry's wording)."""
    return float(HParam(name, None, "float", low, high, low_open=low_open, high_open=high_open).validate(value))


def integer(name: str, value: Any, low: int, high: int) -> int:
    """An integer in [low, high], or ValueError saying what is allowed."""
    return int(HParam(name, None, "int", low, high).validate(value))


def seed_of(value: Any) -> int:
    """A seed in [0, 2³¹ − 1], or ValueError."""
    return int(_SEED.validate(value))


def ro(x: Any) -> np.ndarray:
    """A float64 (or bool/int) numpy copy that cannot be written to."""
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    a = np.array(a, dtype=np.float64 if a.dtype.kind in "fc" else a.dtype)
    a.setflags(write=False)
    return a


def orthonormal(rng: np.random.Generator, d: int, n: int) -> np.ndarray:
    """n orthonormal vectors in d dimensions as rows: (n, d), n ≤ d."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))  # a uniformly random rotation
    return q[:, :n].T.copy()
