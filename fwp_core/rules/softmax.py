r"""Softmax attention: the non-FWP baseline. Y = softmax(QKᵀ·scale + mask) V.

It has no fixed-size state: its memory is the growing key/value cache (T·(d_k + d_v) numbers).
"""

from __future__ import annotations

from typing import Any

import torch

from ..trace import ParallelForm
from ._ops import as_tensor, check_finite


def softmax_attention(q: Any, k: Any, v: Any, *, scale: float = 1.0) -> ParallelForm:
    """Causal softmax attention. q, k: (..., T, d_k); v: (..., T, d_v)."""
    q, k, v = as_tensor(q, "q"), as_tensor(k, "k"), as_tensor(v, "v")
    if q.dim() < 2 or k.shape != q.shape or v.shape[:-1] != k.shape[:-1]:
        raise ValueError(f"softmax attention needs q, k (..., T, d_k) and v (..., T, d_v); got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_finite(t, name)
    T = k.shape[-2]
    logits = (q @ k.transpose(-1, -2)) * float(scale)
    mask = torch.ones(T, T, dtype=torch.bool, device=k.device).tril()
    A = torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)
    return ParallelForm(outputs=A @ v, attention=A, values=v, scores=torch.tril(q @ k.transpose(-1, -2)))
