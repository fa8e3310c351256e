r"""Titans (linear memory): momentum on the delta-rule gradient ("surprise"), with forgetting.

    S_t = η S_{t-1} − θ_t (W_{t-1}k_t − v_t) k_tᵀ,    W_t = (1 − α_t) W_{t-1} + S_t,    S_0 = 0

η = ``momentum``, θ = ``lr`` (a ``beta`` argument overrides θ_t per token), α = ``forget`` (a ``gate``
argument overrides 1 − α_t per token). No parallel form.

Local objective (``local_loss``): ℓ_t(W) = ½‖W k_t − v_t‖², so S_t = η S_{t−1} − θ_t ∇ℓ_t(W_{t−1}): a gradient step
with momentum η (the state S) and weight decay α.
"""

from __future__ import annotations

import torch

from ..trace import State, Trace
from ._ops import mv, outer
from .base import Rule
from .delta import squared_fit


class Titans(Rule):
    """Surprise with momentum and forgetting."""

    gate_kind = "scalar"

    def default_beta(self) -> float:
        return float(self.hparams["lr"])

    def _hparam_gate(self) -> float:
        return 1.0 - float(self.hparams["forget"])

    def _fresh_state(self, W0: torch.Tensor) -> State:
        return {"W": W0, "S": torch.zeros_like(W0)}

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """ℓ_t(W) = ½‖W φ(k_t) − v_t‖²: S_t = η S_{t−1} − θ_t ∇ℓ_t(W_{t−1}), W_t = (1 − α_t) W_{t−1} + S_t."""
        return squared_fit(W, k, v)

    def _step(self, state: State, q, k, v, beta, gate):
        W, S = state["W"], state["S"]
        r = self._read_token(state, k)
        eta = float(self.hparams["momentum"])
        S_new = eta * S - beta.unsqueeze(-1).unsqueeze(-1) * outer(r - v, k)
        W_new = gate.unsqueeze(-1).unsqueeze(-1) * W + S_new
        return {"W": W_new, "S": S_new}, r, mv(W_new, q), {}

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        """The joint map on a row [w, s] of (W, S): [[aI − θkkᵀ, −θkkᵀ], [ηI, ηI]], size 2·d_phi."""
        tdim = trace.keys.dim() - 2
        k = trace.keys.select(tdim, t - 1)
        theta = trace.beta.select(tdim, t - 1).unsqueeze(-1).unsqueeze(-1)
        a = trace.gate.select(tdim, t - 1).unsqueeze(-1).unsqueeze(-1)
        eta = float(self.hparams["momentum"])
        eye = torch.eye(k.shape[-1], dtype=k.dtype, device=k.device)
        kk = outer(k, k)
        top = torch.cat([a * eye - theta * kk, -theta * kk], dim=-1)
        bottom = torch.cat([(eta * eye).expand_as(top[..., : k.shape[-1]]), (eta * eye).expand_as(top[..., : k.shape[-1]])], dim=-1)
        return torch.cat([top, bottom], dim=-2)
