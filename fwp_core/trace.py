"""The records a rule returns: a full token-by-token Trace, one StepRecord, and a ParallelForm."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

State = dict[str, torch.Tensor]
"""A rule's recurrent state: always ``"W"`` (..., d_v, d_phi), plus rule-specific extras
(``"z"`` normaliser, ``"S"`` momentum, ``"P"`` inverse covariance)."""


@dataclass(frozen=True)
class StepRecord:
    """What one call of ``Rule.step`` produced for one token."""

    weights: torch.Tensor  # (..., d_v, d_phi)  W_t
    update: torch.Tensor  # (..., d_v, d_phi)  W_t - W_{t-1}
    retrieved: torch.Tensor  # (..., d_v)  r_t = Rule.read(state_{t-1}, φ(k_t)), read before the write
    output: torch.Tensor  # (..., d_v)  read-out after the write
    retrieval_error: torch.Tensor  # (...,)  ||v_t - retrieved||
    key: torch.Tensor  # (..., d_phi) φ(k_t)  ((..., n_h, d_phi) for delta_product)
    query: torch.Tensor  # (..., d_phi) φ(q_t)·scale
    aux: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class Trace:
    """Everything a run computed, token by token.

    Steps are numbered t = 1..T; ``weights[..., t, :, :]`` is W_t (``weights[..., 0]`` = W_0) while the
    per-token fields are indexed from 0 (``outputs[..., t-1, :]`` is y_t).

    If the state became non-finite or exploded, ``diverged_at`` is the first such step t (1-based,
    earliest over the batch) and every field of a diverged batch element from that step on is NaN on
    purpose, so that nothing downstream mistakes a blown-up number for a result.
    """

    rule: str
    weights: torch.Tensor  # (..., T+1, d_v, d_phi)
    retrieved: torch.Tensor  # (..., T, d_v)    r_t: the rule's read (Rule.read) with φ(k_t) before the write
    outputs: torch.Tensor  # (..., T, d_v)
    retrieval_error: torch.Tensor  # (..., T)        e_t = ‖v_t − r_t‖
    keys: torch.Tensor  # (..., T, d_phi)    ((..., T, n_h, d_phi) for delta_product)
    queries: torch.Tensor  # (..., T, d_phi)
    values: torch.Tensor  # (..., T, d_v)     ((..., T, n_h, d_v) for delta_product)
    beta: torch.Tensor  # (..., T)           effective write strength (delta_product: (..., T, n_h))
    gate: torch.Tensor | None  # (..., T) or (..., T, d_phi); None where the rule had no gate
    diverged_at: int | None
    final_state: State
    aux: dict[str, torch.Tensor] = field(default_factory=dict)  # per-step records: rls "gain" P_tφ(k_t), linear_attention "z" z_t

    @property
    def updates(self) -> torch.Tensor:
        """(..., T, d_v, d_phi): W_t − W_{t−1}, everything the step changed (derived, not stored)."""
        return self.weights[..., 1:, :, :] - self.weights[..., :-1, :, :]

    @property
    def token_keys(self) -> torch.Tensor:
        """(..., T, d_phi): each token's key; for delta_product its first sub-step's, the one ``retrieved`` reads."""
        return self.keys[..., 0, :] if self.keys.dim() == self.outputs.dim() + 1 else self.keys

    @property
    def token_values(self) -> torch.Tensor:
        """(..., T, d_v): each token's value; for delta_product its first sub-step's (compared with ``retrieved``)."""
        return self.values[..., 0, :] if self.values.dim() == self.outputs.dim() + 1 else self.values

    @property
    def T(self) -> int:
        return int(self.outputs.shape[-2])

    @property
    def valid_steps(self) -> int:
        """How many steps are finite for every batch element (T when nothing diverged)."""
        return self.T if self.diverged_at is None else self.diverged_at - 1


@dataclass(frozen=True)
class ParallelForm:
    """The same outputs computed all at once: ``outputs == attention @ values``.

    For additive rules ``attention`` is the causal (decayed) attention matrix with β folded in and
    ``values`` is V. For delta-type rules ``attention`` is (QKᵀ ⊙ Γ ⊙ M) and ``values`` are the
    pseudo-values U = (I + tril₋₁(diag(β)(KKᵀ ⊙ Γ)))⁻¹ diag(β) V; ``correction`` holds that inverse times
    diag(β). For delta_product the attention has shape (..., T, T·n_h) over interleaved sub-steps.
    """

    outputs: torch.Tensor  # (..., T, d_v)
    attention: torch.Tensor  # (..., T, T)
    values: torch.Tensor  # (..., T, d_v)
    correction: torch.Tensor | None = None  # (..., T, T) delta-type rules only
    scores: torch.Tensor | None = None  # (..., T, T) the raw causal QKᵀ ⊙ M, for display
