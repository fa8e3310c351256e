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
``favor``      exp(ωᵀx − ‖x‖²/2)/√m, ω orthogonal random (FAVOR+)     m
=============  ====================================================  ============

``favor`` is FAVOR+ (orthogonal positive random features, Choromanski et al. 2021, "Rethinking Attention
with Performers"). The m projection vectors ω are drawn in blocks of d: each block is the orthogonal
factor Q of the QR decomposition of a d×d standard Gaussian matrix (sign-fixed so that it is
Haar-distributed), so the d directions within a block are exactly orthogonal; the last block is
truncated when m is not a multiple of d. Each ω is then rescaled by an independent chi-distributed
length (the norm of a d-dimensional standard Gaussian vector), so every ω is still marginally N(0, I)
and E[φ(x)·φ(y)] = exp(x·y) stays unbiased, while the orthogonality lowers the estimator's variance
compared with i.i.d. Gaussian ω. The draw is deterministic for a given ``seed``.

``normalize`` then divides by the L2 norm (``l2``) or by the sum (``sum``); a vector whose norm or sum
is 0 stays 0 (no ε is added).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


@lru_cache(maxsize=16)
def _orthogonal_gaussian(d: int, m: int, seed: int) -> torch.Tensor:
    """FAVOR+ orthogonal random features ω, shape (d, m), float64 on the CPU (cached: callers get a copy).

    Columns come in blocks of d: each block is Q of the QR decomposition of a d×d N(0, 1) matrix, its
    columns multiplied by sign(diag R) so that Q is Haar-distributed (rows and columns orthonormal); the
    last block keeps only its first m mod d columns. Every column is then scaled by an independent
    chi_d length ‖g‖, g ~ N(0, I_d), so each ω is marginally N(0, I_d). Seeded by a local generator.
    """
    gen = torch.Generator().manual_seed(seed)
    if d == 0 or m == 0:
        return torch.zeros(d, m, dtype=torch.float64)
    blocks = -(-m // d)  # ceil(m / d)
    g = torch.randn(blocks, d, d, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(g)  # batched; q[b] has orthonormal columns (and rows)
    signs = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    q = q * signs.unsqueeze(-2)  # flip columns: the Haar measure on O(d)
    directions = q.permute(1, 0, 2).reshape(d, blocks * d)[:, :m]  # (d, m): block b = columns b·d .. b·d+d−1
    lengths = torch.linalg.vector_norm(torch.randn(m, d, generator=gen, dtype=torch.float64), dim=-1)  # chi_d
    return directions * lengths  # (d, m)


@dataclass(frozen=True)
class FeatureMap:
    """φ followed by normalisation. Pure: the FAVOR+ projection is a function of ``seed`` (and d, m) alone."""

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
        """The FAVOR+ random matrix ω, shape (d, m): orthogonal random features (see the module docstring),
        drawn from a generator seeded with ``seed``. Within each block of d consecutive columns the columns
        are exactly orthogonal; each column's length is chi-distributed. A fresh tensor on every call."""
        omega = _orthogonal_gaussian(int(d), int(self.m), int(self.seed))  # (d, m), float64, cached
        return omega.to(dtype=dtype, device=device, copy=True)

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
        # favor (FAVOR+): orthogonal positive random features, E[φ(q)·φ(k)] = exp(q·k)
        omega = self.projection(x.shape[-1], x.dtype, x.device)  # (d, m)
        sq = 0.5 * (x * x).sum(dim=-1, keepdim=True)  # (..., 1)
        return torch.exp(x @ omega - sq) / (self.m**0.5)  # (..., m)
