r"""Key–value memory: forgetting as retrieval failure (after Gershman, Fiete & Irie 2025).

Two memories with similar keys; a poor cue recalls a blend or the wrong value, a specific cue recovers
the first value exactly, although nothing was rewritten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..registry import make_rule
from ._common import DT, integer, num, orthonormal, ro, seed_of

__all__ = ["KVRetrievalResult", "kv_retrieval"]

_KV_RULES: tuple[str, ...] = ("hebbian", "delta")
_KV_QUERIES: tuple[str, ...] = ("degraded", "original", "specific")


@dataclass(frozen=True)
class KVRetrievalResult:
    """Two memories with similar keys: what different cues recall (see ``kv_retrieval``).

    Memory 1 (the *target*, stored first) and memory 2 (the *interferer*, stored second).
    """

    rule: str
    similarity: float  # k1·k2 (unit keys)
    keys: np.ndarray  # (2, d_k) k1, k2
    values: np.ndarray  # (2, d_v) v1, v2 (orthonormal)
    weights: np.ndarray  # (d_v, d_k) W after storing both pairs
    query_names: tuple[str, ...]  # ("degraded", "original", "specific")
    queries: np.ndarray  # (3, d_k) unit cues
    retrieved: np.ndarray  # (3, d_v) W q
    cos_target: np.ndarray  # (3,) cos(W q, v1)
    cos_interferer: np.ndarray  # (3,) cos(W q, v2)
    recalled: tuple[str, ...]  # per cue: "target", "interferer" or "mixed" (cos ≥ 0.9 decides)
    specificity: np.ndarray  # (n_sweep,) s ∈ [−1, 1]: the cue q(s) ∝ k1 − s·c·k2
    sweep_cos_target: np.ndarray  # (n_sweep,) cos(W q(s), v1)
    sweep_cos_interferer: np.ndarray  # (n_sweep,) cos(W q(s), v2)
    sweep_strength: np.ndarray  # (n_sweep,) ‖W q(s)‖


def kv_retrieval(
    similarity: float = 0.9,
    d_k: int = 16,
    d_v: int = 16,
    rule: str = "delta",
    n_sweep: int = 41,
    seed: int = 0,
) -> KVRetrievalResult:
    r"""Forgetting as retrieval failure: a memory that a poor cue cannot reach is still in W.

    Two pairs (k1, v1) then (k2, v2) are written by the registered ``rule`` (``delta`` or
    ``hebbian``, identity features, no normalisation). The keys are unit vectors with k1·k2 = c
    (``similarity``); the values are orthonormal. Reading with a cue q gives W q.

    * Hebbian: :math:`W = v_1k_1^\top + v_2k_2^\top`, so :math:`W k_1 = v_1 + c\,v_2` — a blend.
    * Delta: the second write corrects what the memory said for k2,
      :math:`W = v_1k_1^\top + (v_2 - c\,v_1)k_2^\top`, so :math:`W k_1 = (1 - c^2)v_1 + c\,v_2` —
      mostly the *wrong* value, although v1 was never erased.

    Cues :math:`q(s) \propto k_1 - s\,c\,k_2` for specificity s ∈ [−1, 1]: s = −1 is the
    ``degraded`` cue k1 + c k2, dominated by what the two keys share; s = 0 is the ``original`` key
    k1; s = 1 is the ``specific`` cue k1 − c k2, the part of k1 that k2 lacks (orthogonal to k2).
    For both rules :math:`W(k_1 - c k_2) = (1 - c^2) v_1`: the specific cue recovers v1 exactly
    (weaker, by √(1 − c²) for a unit cue, but pure). Keys matter for discrimination, values for
    fidelity (Gershman, Fiete & Irie 2025).

    Args: similarity c ∈ [0, 1) (c = 1 makes the keys identical and v1 unreachable); d_k ∈ [2, 512];
    d_v ∈ [2, 512]; rule ∈ {hebbian, delta}; n_sweep ∈ [3, 1001]; seed.
    """
    c = num("similarity", similarity, 0.0, 1.0, high_open=True)
    d_k = integer("d_k", d_k, 2, 512)
    d_v = integer("d_v", d_v, 2, 512)
    if not isinstance(rule, str) or rule not in _KV_RULES:
        raise ValueError(f"rule={rule!r} is not allowed; rule must be one of {', '.join(_KV_RULES)}")
    n_sweep = integer("n_sweep", n_sweep, 3, 1001)
    seed = seed_of(seed)

    rng = np.random.default_rng(seed)
    e = orthonormal(rng, d_k, 2)  # (2, d_k)
    keys = np.stack([e[0], c * e[0] + math.sqrt(1.0 - c * c) * e[1]])  # (2, d_k) unit, k1·k2 = c
    values = orthonormal(rng, d_v, 2)  # (2, d_v)
    K, V = torch.as_tensor(keys, dtype=DT), torch.as_tensor(values, dtype=DT)
    W = make_rule(rule, normalize="none").run(K, K, V).weights[-1].numpy()  # (d_v, d_k)

    s = np.linspace(-1.0, 1.0, n_sweep)  # (n_sweep,)
    cues = np.concatenate([np.array([-1.0, 0.0, 1.0]), s])  # the three named cues, then the sweep
    Q = keys[0][None, :] - cues[:, None] * c * keys[1][None, :]  # (3 + n_sweep, d_k)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    Y = Q @ W.T  # (3 + n_sweep, d_v) W q
    strength = np.linalg.norm(Y, axis=1)
    cos = (Y @ values.T) / np.where(strength > 0, strength, 1.0)[:, None]  # (3 + n_sweep, 2)

    def label(ct: float, ci: float) -> str:
        return "target" if ct >= 0.9 else "interferer" if ci >= 0.9 else "mixed"

    return KVRetrievalResult(
        rule=rule, similarity=c, keys=ro(keys), values=ro(values), weights=ro(W), query_names=_KV_QUERIES,
        queries=ro(Q[:3]), retrieved=ro(Y[:3]), cos_target=ro(cos[:3, 0]), cos_interferer=ro(cos[:3, 1]),
        recalled=tuple(label(cos[i, 0], cos[i, 1]) for i in range(3)), specificity=ro(s),
        sweep_cos_target=ro(cos[3:, 0]), sweep_cos_interferer=ro(cos[3:, 1]), sweep_strength=ro(strength[3:]),
    )
