"""Small tensor helpers of the rules: input checking (``as_tensor``, ``check_finite``), the decay products Γ of gated
rules, the class-level property of ``Rule``, and ``Prepared``, the checked and featured inputs of one call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import torch


def as_tensor(x: Any, name: str) -> torch.Tensor:
    """Numpy arrays, lists and numbers become tensors; integer input becomes the default float dtype."""
    if isinstance(x, torch.Tensor):
        t = x
    else:
        try:
            t = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a numeric array or tensor, got {type(x).__name__}") from exc
    if t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name} must be real floating point, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t


def check_finite(t: torch.Tensor, name: str) -> None:
    # A finite sum proves every entry finite (one NaN or inf makes the sum NaN or inf) and costs a
    # twentieth of an elementwise test; only a non-finite sum (a bad entry, or overflow) needs that test.
    if t.numel() and bool(torch.isfinite(t.sum())):
        return
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf); only finite numbers are allowed")


def decay_products(alpha: torch.Tensor) -> torch.Tensor:
    """Γ_ts = Π_{r=s+1..t} α_r for s ≤ t and 0 above the diagonal; exact even where α = 0.

    alpha: (..., T) -> (..., T, T). Built by a cumulative product, never by exp(log α) differences.
    """
    T = alpha.shape[-1]
    after = torch.ones(T, T, dtype=torch.bool, device=alpha.device).triu(1)  # [s, t]: t > s
    x = torch.where(after, alpha.unsqueeze(-2), torch.ones_like(alpha).unsqueeze(-2))  # (..., s, t)
    prod = torch.cumprod(x, dim=-1)  # (..., s, t) = Π_{r=s+1..t} α_r for t ≥ s
    causal = torch.ones(T, T, dtype=torch.bool, device=alpha.device).tril()  # [t, s]: s ≤ t
    return torch.where(causal, prod.transpose(-1, -2), torch.zeros_like(prod))  # (..., t, s)


def channel_decay_products(alpha: torch.Tensor) -> torch.Tensor:
    """Per-channel Γ_tsj = Π_{r=s+1..t} a_rj: alpha (..., T, d) -> (..., T, T, d)."""
    g = decay_products(alpha.transpose(-1, -2))  # (..., d, T, T)
    return g.permute(*range(g.dim() - 3), -2, -1, -3)


_T = TypeVar("_T")


class classproperty(Generic[_T]):
    """A read-only property computed from the class, so ``Delta.has_parallel`` and ``rule.has_parallel`` are one
    definition (the registry's ``RuleSpec`` reads it from the class)."""

    def __init__(self, fget: Callable[[Any], _T]):
        self.fget = fget
        self.__doc__ = fget.__doc__

    def __get__(self, obj: Any, cls: type | None = None) -> _T:
        return self.fget(cls if cls is not None else type(obj))


@dataclass(frozen=True)
class Prepared:
    """Checked, broadcast and featured inputs of one call."""

    q: torch.Tensor  # (..., T, d_phi)  φ(q)·scale
    k: torch.Tensor  # (..., T, d_phi)  or (..., T, n_h, d_phi)
    v: torch.Tensor  # (..., T, d_v)    or (..., T, n_h, d_v)
    beta: torch.Tensor  # (..., T) or (..., T, n_h)
    gate: torch.Tensor | None  # (..., T) or (..., T, d_phi)
    batch: torch.Size

    @property
    def T(self) -> int:
        return int(self.beta.shape[len(self.batch)])


def mv(W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Matrix-vector product over leading batch axes: (..., a, b) @ (..., b) -> (..., a)."""
    return (W @ x.unsqueeze(-1)).squeeze(-1)


def outer(v: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """v kᵀ: (..., a), (..., b) -> (..., a, b)."""
    return v.unsqueeze(-1) * k.unsqueeze(-2)
