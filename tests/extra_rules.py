"""Throw-away rules for the test that a new rule needs nothing but its module and one registry entry.

Neither is registered on import: a test adds one with ``fwp_core.registry.registered(spec)`` and the table is
as before once the block ends.

scaled_hebbian   W_t = W_{t-1} + g β_t v_t φ(k_t)ᵀ                         (additive, parallel form, no gate)
leaky_delta      W_t = α W_{t-1} + β_t (v_t − α W_{t-1}φ(k_t)) φ(k_t)ᵀ      (delta, gate α fixed by ``keep``)
"""

from __future__ import annotations

from dataclasses import replace

from fwp_core.registry import HParam, RuleSpec
from fwp_core.rules.additive import Additive
from fwp_core.rules._ops import Prepared
from fwp_core.rules.delta import Delta


class ScaledHebbian(Additive):
    """Hebbian writes scaled by a constant gain g."""

    def _gain(self) -> float:
        return float(self.hparams["gain"])

    def _step(self, state, q, k, v, beta, gate):
        return super()._step(state, q, k, v, beta * self._gain(), gate)

    def _parallel(self, p: Prepared):
        return super()._parallel(replace(p, beta=p.beta * self._gain()))

    def _chunked(self, p: Prepared, chunk_size: int, state):
        return super()._chunked(replace(p, beta=p.beta * self._gain()), chunk_size, state)


class LeakyDelta(Delta):
    """A delta rule that keeps a constant share α of its memory at every step (the hyper-parameter ``keep``)."""

    gate_kind = "scalar"

    def _hparam_gate(self) -> float:
        return float(self.hparams["keep"])


SCALED_HEBBIAN = RuleSpec(
    "scaled_hebbian", ScaledHebbian, "Scaled Hebbian (test rule)", "a throw-away rule: Hebbian writes times a gain",
    r"W_t = W_{t-1} + g\,\beta_t v_t \phi(k_t)^\top",
    r"Y = g\,(QK^\top \odot M)\,\mathrm{diag}(\beta)\,V",
    hparams=(HParam("gain", 0.5, "float", 0.0, 4.0, low_open=True, help="gain g of every write"),),
)

LEAKY_DELTA = RuleSpec(
    "leaky_delta", LeakyDelta, "Leaky delta (test rule)", "a throw-away rule: the delta rule with a constant decay",
    r"W_t = \alpha W_{t-1} + \beta_t \big(v_t - \alpha W_{t-1}\phi(k_t)\big)\phi(k_t)^\top",
    r"U = (I + \mathrm{tril}_{-1}(\mathrm{diag}(\beta)(KK^\top \odot \Gamma)))^{-1}\mathrm{diag}(\beta)V,\; Y = (QK^\top \odot \Gamma \odot M)\,U",
    hparams=(HParam("keep", 0.95, "float", 0.0, 1.0, help="constant gate α: the share of the memory kept", fixes_gate=True),),
    defaults={"normalize": "l2"}, family="delta",
)

EXTRA_RULES = (SCALED_HEBBIAN, LEAKY_DELTA)
