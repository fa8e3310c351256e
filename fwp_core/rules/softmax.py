r"""Softmax attention: the non-FWP baseline. Y = softmax(QKᵀ·scale + mask) V.

It has no fixed-size state: its memory is the growing key/value cache (T·(d_k + d_v) numbers).
"""

from __future__ import annotations

from typing import Any

import torch

from ..trace import ParallelForm
from ._ops import as_tensor, check_finite


def softmax_attention(q: Any, k: Any, v: Any, *, scale: float = 1.0, before: bool = False) -> ParallelForm:
    """Causal softmax attention. q, k: (..., T, d_k); v: (..., T, d_v). ``before``: each query reads only the earlier
    pairs s < t (what the cache held before pair t was added; the first query, with an empty cache, reads 0)."""
    q, k, v = as_tensor(q, "q"), as_tensor(k, "k"), as_tensor(v, "v")
    if q.dim() < 2 or k.shape != q.shape or v.shape[:-1] != k.shape[:-1]:
        raise ValueError(f"softmax attention needs q, k (..., T, d_k) and v (..., T, d_v); got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_finite(t, name)
    T = k.shape[-2]
    logits = (q @ k.transpose(-1, -2)) * float(scale)
    mask = torch.ones(T, T, dtype=torch.bool, device=k.device).tril(-1 if before else 0)
    A = torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)
    A = torch.where(mask.any(-1, keepdim=True), A, torch.zeros_like(A))  # an empty cache reads 0, not NaN
    return ParallelForm(outputs=A @ v, attention=A, values=v, scores=torch.tril(q @ k.transpose(-1, -2)))


def softmax_read(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, *, scale: float = 1.0) -> torch.Tensor:
    """Read a key/value cache: softmax(queries keysᵀ · scale) values, (m, d_k), (n, d_k), (n, d_v) -> (m, d_v); an
    empty cache (n = 0) reads 0."""
    if keys.shape[0] == 0:
        return torch.zeros(queries.shape[0], values.shape[-1], dtype=values.dtype)
    return torch.softmax((queries @ keys.T) * float(scale), dim=-1) @ values
