"""Feature maps φ applied to keys and queries, followed by an optional normalisation.

Every rule reads and writes its fast weights through ``φ(k)`` and ``φ(q)``. The state's key dimension
is φ's output dimension ``d_phi``:

=============  ====================================================  ============
name           φ(x)                                                   d_phi
=============  ====================================================  ============
``identity``   x                                                      d
``elu1``       elu(x) + 1                                             d
``relu``       max(x, 0)                                              d
``softmax``    softmax(x) over the feature axis                       d
``dpfp``       DPFP-ν: r = [relu(x), relu(−x)], concat_i r ⊙ roll(r, i)  2·d·ν
``favor``      exp(ωᵀx − ‖x‖²/2)/√m, ω ~ N(0, I) seeded (FAVOR+)       m
=============  ====================================================  ============

``normalize`` then divides by the L2 norm (``l2``) or by the sum (``sum``); a vector whose norm or sum
is 0 stays 0 (no ε is added).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

FEATURE_MAPS: tuple[str, ...] = ("identity", "elu1", "relu", "softmax", "dpfp", "favor")
NORMALIZATIONS: tuple[str, ...] = ("none", "l2", "sum")


def _safe_divide(x: torch.Tensor, denom: torch.Tensor) -> torch.Tensor:
    """x / denom where denom != 0, else 0 (no ε: a zero vector stays exactly zero)."""
    nonzero = denom != 0
    return torch.where(nonzero, x / torch.where(nonzero, denom, torch.ones_like(denom)), torch.zeros_like(x))


def normalize(x: torch.Tensor, how: str) -> torch.Tensor:
    """Normalise the last axis of ``x`` by its L2 norm (``l2``) or its sum (``sum``); ``none`` is a no-op."""
    if how == "none":
        return x
    if how == "l2":
        return _safe_divide(x, torch.linalg.vector_norm(x, dim=-1, keepdim=True))
    if how == "sum":
        return _safe_divide(x, x.sum(dim=-1, keepdim=True))
    raise ValueError(f"unknown normalize {how!r}; allowed: {', '.join(NORMALIZATIONS)}")


@dataclass(frozen=True)
class FeatureMap:
    """φ followed by normalisation. Pure: the FAVOR+ projection is regenerated from ``seed``."""

    name: str = "identity"
    normalize: str = "none"
    nu: int = 1
    m: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.name not in FEATURE_MAPS:
            raise ValueError(f"unknown feature_map {self.name!r}; allowed: {', '.join(FEATURE_MAPS)}")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"unknown normalize {self.normalize!r}; allowed: {', '.join(NORMALIZATIONS)}")

    def out_dim(self, d: int) -> int:
        """d_phi for inputs of dimension d."""
        if self.name == "dpfp":
            return 2 * d * self.nu
        if self.name == "favor":
            return self.m
        return d

    def projection(self, d: int, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
        """The FAVOR+ random matrix ω, shape (d, m), drawn from a generator seeded with ``seed``."""
        gen = torch.Generator().manual_seed(int(self.seed))
        omega = torch.randn(d, self.m, generator=gen, dtype=torch.float64)  # (d, m)
        return omega.to(dtype=dtype, device=device)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Apply φ then the normalisation to the last axis of x: (..., d) -> (..., d_phi)."""
        return normalize(self._phi(x), self.normalize)

    def _phi(self, x: torch.Tensor) -> torch.Tensor:
        if self.name == "identity":
            return x
        if self.name == "elu1":
            return F.elu(x) + 1.0
        if self.name == "relu":
            return torch.relu(x)
        if self.name == "softmax":
            return torch.softmax(x, dim=-1)
        if self.name == "dpfp":
            r = torch.cat([torch.relu(x), torch.relu(-x)], dim=-1)  # (..., 2d)
            return torch.cat([r * torch.roll(r, shifts=i, dims=-1) for i in range(1, self.nu + 1)], dim=-1)
        # favor: positive random features, E[φ(q)·φ(k)] = exp(q·k)
        omega = self.projection(x.shape[-1], x.dtype, x.device)  # (d, m)
        sq = 0.5 * (x * x).sum(dim=-1, keepdim=True)  # (..., 1)
        return torch.exp(x @ omega - sq) / (self.m**0.5)  # (..., m)
