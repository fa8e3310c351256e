r"""Oja's rule: a Hebbian write with a built-in decay that keeps the weights bounded.

    W_t = W_{t-1} + β_t v_t (k_t − W_{t-1}ᵀ v_t)ᵀ

With v_t = W_{t-1} k_t (the neuron's own output) the rows of W converge to the principal
subspace of the keys, with unit norm: a self-normalising rule from neuroscience. No parallel form.

Local objective (``local_loss``): the Hebbian fit term ℓ_t(W) = −⟨W k_t, v_t⟩. The step is its gradient step plus a
normalising decay, W_t = W_{t−1} − β_t ∇ℓ_t(W_{t−1}) − β_t v_t v_tᵀ W_{t−1}. With v_t given, the two together are
one gradient step on ½‖Wᵀv_t − k_t‖² (= ℓ_t(W) + ½‖Wᵀv_t‖² + const: the key rebuilt from v_t through Wᵀ); with
v_t = W_{t−1}k_t, Oja's own setting, the update is not the gradient of any function of W.
"""

from __future__ import annotations

import torch

from ..trace import State, Trace
from ._ops import mv, outer
from .additive import hebbian_fit
from .base import Rule


class Oja(Rule):
    """Oja's self-normalising Hebbian rule."""

    def _step(self, state: State, q, k, v, beta, gate):
        W = state["W"]
        r = self._read_token(state, k)
        back = mv(W.transpose(-1, -2), v)  # (..., d_phi) = W_{t-1}ᵀ v_t
        W_new = W + beta.unsqueeze(-1).unsqueeze(-1) * outer(v, k - back)
        return {"W": W_new}, r, mv(W_new, q), {}

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """ℓ_t(W) = −⟨W φ(k_t), v_t⟩: W_t = W_{t−1} − β_t ∇ℓ_t(W_{t−1}) − β_t v_t v_tᵀ W_{t−1} (Hebbian step plus
        the normalising decay; no objective of this form is minimised)."""
        return hebbian_fit(W, k, v)

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        """Oja's linear part acts from the left, on W's columns: W_t = (I − β v vᵀ) W_{t−1} + β v kᵀ."""
        tdim = trace.keys.dim() - 2
        v = trace.values.select(tdim, t - 1)
        b = trace.beta.select(tdim, t - 1)
        eye = torch.eye(v.shape[-1], dtype=v.dtype, device=v.device)
        return eye - b.unsqueeze(-1).unsqueeze(-1) * outer(v, v)
