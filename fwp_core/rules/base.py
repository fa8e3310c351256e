"""The Rule base class: input checking, the token-by-token loop, divergence detection.

A concrete rule implements three hooks on *featured* inputs (φ already applied):

* ``_step(state, q, k, v, beta, gate) -> (state, retrieved, output, aux)`` for one token;
* ``_parallel(p) -> ParallelForm`` and ``_chunked(p, chunk_size, state) -> (outputs, state)`` where a
  parallel form exists;
* ``transition(trace, t)``: the linear map the step applies to the old state, for eigenvalues;
* ``local_loss(W, φ(k), v)``: the per-token fit term ℓ_t(W) the step works on (``local_losses(trace)`` gives
  ℓ_t(W_{t−1}) and ℓ_t(W_t) for every step).

Gates: ``gate_kind`` says whether the rule decays its memory by a gate; ``_hparam_gate`` is the constant gate a
hyper-parameter fixes (decay's γ, Titans' 1 − α; the registry marks that hyper-parameter ``fixes_gate``), and
``with_gate(g)`` gives a copy whose gate, where none is passed, is the constant g. A ``gate`` argument passed at
run time overrides both.

``read(state, φ(k))`` is the memory's read, W φ(k) unless a rule says otherwise (linear_attention
divides by its normaliser). It is the one definition of a read: each step's ``retrieved`` and every recall
metric go through it, with ``read_states(trace)`` giving the states after each step.

``run`` is literally the loop over ``_step``; ``step`` is one pass of the same code, so the two
cannot drift apart.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import torch

from ..features import FeatureMap
from ._ops import Prepared, as_tensor, check_finite, classproperty
from ..trace import ParallelForm, State, StepRecord, Trace

EXPLODE_FACTOR = 100.0
"""A state counts as exploded when ‖W_t‖_F > EXPLODE_FACTOR · (1 + ‖W_0‖_F + Σ_{s≤t} |β_s|‖v_s‖‖g_s‖), where
g_s is the step's write direction (φ(k_s), or P_s φ(k_s) for RLS): that sum bounds every additive rule and
every stable delta step (‖I − βkkᵀ‖ ≤ 1), so only a genuine blow-up crosses it."""


class Rule:
    """One fast-weight update rule with resolved hyper-parameters (see ``fwp_core.make_rule``)."""

    gate_kind: ClassVar[str | None] = None  # None: no gate; "scalar": α_t; "channel": also (..., T, d_phi)
    substeps: ClassVar[bool] = False  # True where k, v, β carry a sub-step axis (delta_product)

    def __init__(self, name: str, hparams: Mapping[str, Any]):
        self.name = name
        self.hparams: Mapping[str, Any] = MappingProxyType(dict(hparams))
        self.phi = FeatureMap(
            name=hparams["feature_map"],
            normalize=hparams["normalize"],
            nu=int(hparams["nu"]),
            m=int(hparams["m"]),
            seed=int(hparams["seed"]),
        )
        self.scale = float(hparams["scale"])
        self._fixed_gate: float | None = None  # set by ``with_gate``

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        fixed = "" if self._fixed_gate is None else f".with_gate({self._fixed_gate!r})"
        return f"make_rule({self.name!r}, {args}){fixed}"

    # ------------------------------------------------------------------ hooks
    @classproperty
    def has_parallel(cls) -> bool:
        """Whether the rule has a parallel (attention) form, and with it a chunked one."""
        return cls._parallel is not Rule._parallel

    def default_beta(self) -> float:
        return 1.0

    def default_gate(self) -> float | None:
        """The gate used when none is passed: the constant of ``with_gate``, else the one the rule's
        hyper-parameters fix (``_hparam_gate``), else None (no decay)."""
        return self._fixed_gate if self._fixed_gate is not None else self._hparam_gate()

    def _hparam_gate(self) -> float | None:
        """The constant gate a hyper-parameter fixes (the registry marks it ``fixes_gate``); None: none does."""
        return None

    def with_gate(self, gate: float) -> Rule:
        """A copy of this rule whose gate, where none is passed at run time, is the constant ``gate`` in [0, 1]
        (e.g. a capacity sweep of a rule whose gate is otherwise data-dependent)."""
        if self.gate_kind is None:
            raise ValueError(self._no_gate_message())
        if isinstance(gate, bool) or not isinstance(gate, (int, float)) or not 0.0 <= float(gate) <= 1.0:
            raise ValueError(f"a constant gate must be a number in [0, 1] (1 keeps everything), got {gate!r}")
        new = copy.copy(self)
        new._fixed_gate = float(gate)
        return new

    def _no_gate_message(self) -> str:
        from ..registry import RULES  # the registry imports the rules: look it up when needed

        gated = ", ".join(n for n, s in RULES.items() if s.gate_kind is not None)
        return f"rule {self.name!r} takes no gate; rules with a gate: {gated}"

    def _fresh_state(self, W0: torch.Tensor) -> State:
        return {"W": W0}

    def _step(
        self, state: State, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor, gate: torch.Tensor | None
    ) -> tuple[State, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def read(self, state: State, phi_k: torch.Tensor) -> torch.Tensor:
        """The memory's own read with n featured keys at once: r = W φ(k).

        state: a state of this rule, ``"W"`` (..., d_v, d_phi) plus its extras; phi_k: (..., n, d_phi), the
        leading axes broadcasting against the state's -> (..., n, d_v). Each step's ``retrieved`` (read with
        φ(k_t) from the state before the write) and every recall metric use this method.
        """
        return (state["W"] @ phi_k.transpose(-1, -2)).transpose(-1, -2)

    def _read_token(self, state: State, phi_k: torch.Tensor) -> torch.Tensor:
        """``read`` with one key per batch element: phi_k (..., d_phi) -> (..., d_v)."""
        return self.read(state, phi_k.unsqueeze(-2)).squeeze(-2)

    def read_states(self, trace: Trace) -> State:
        """What ``read`` needs of the state after every step t = 1..T, stacked on the time axis:
        ``"W"`` (..., T, d_v, d_phi) (linear_attention adds ``"z"`` (..., T, d_phi)). Index t − 1 is the
        memory after step t; a diverged element is NaN from its divergence on, like ``trace.weights``."""
        return {"W": trace.weights[..., 1:, :, :]}

    def local_loss(self, W: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """The per-token fit term ℓ_t(W) whose step the rule takes (the registry's ``RuleSpec.objective`` names the
        kind of step: explicit gradient, proximal, implicit, exact minimiser ...).

        W: (..., d_v, d_phi); k: φ(k_t), already feature-mapped, (..., d_phi); v: (..., d_v); all broadcasting ->
        (...). For a rule with sub-steps this is one sub-step's pair (``local_losses`` sums them per token).
        """
        raise NotImplementedError(f"rule {self.name!r} names no local objective")

    @classproperty
    def has_local_loss(cls) -> bool:
        """Whether the rule names the local objective its step works on (``local_loss``)."""
        return cls.local_loss is not Rule.local_loss

    def local_losses(self, trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
        """ℓ_t(W_{t−1}) and ℓ_t(W_t) for t = 1..T, each (..., T) in float64: how well the memory fits the pair it
        writes, before and after the write. With sub-steps ℓ_t = Σ_j ℓ(W; φ(k_{t,j}), v_{t,j}). NaN from a
        diverged element's divergence on (its weights are NaN there)."""
        W = trace.weights.to(torch.float64)
        k, v = trace.keys.to(torch.float64), trace.values.to(torch.float64)
        before, after = W[..., :-1, :, :], W[..., 1:, :, :]
        if self.substeps:  # (..., T, n_h, ·): every sub-step's pair against the token's W
            return self.local_loss(before.unsqueeze(-3), k, v).sum(-1), self.local_loss(after.unsqueeze(-3), k, v).sum(-1)
        return self.local_loss(before, k, v), self.local_loss(after, k, v)

    def _parallel(self, p: Prepared) -> ParallelForm:
        raise NotImplementedError(f"{self.name} has no parallel form")

    def _chunked(self, p: Prepared, chunk_size: int, state: State) -> tuple[torch.Tensor, State]:
        raise NotImplementedError(f"{self.name} has no chunked form")

    def transition(self, trace: Trace, t: int) -> torch.Tensor:
        """The linear map step t applies to the old fast weights (acting on W's rows from the right,
        except where a rule says otherwise): its eigenvalues say whether memories grow, shrink or flip."""
        raise NotImplementedError

    # ------------------------------------------------------------------ input checking
    def _prepare(self, q: Any, k: Any, v: Any, beta: Any, gate: Any) -> Prepared:
        q, k, v = as_tensor(q, "q"), as_tensor(k, "k"), as_tensor(v, "v")
        devices = {str(t.device) for t in (q, k, v)}
        if len(devices) > 1:
            raise ValueError(f"q, k and v must be on one device, got {sorted(devices)}")
        dtype = torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
        q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
        kd = 3 if self.substeps else 2  # trailing axes of k and v that are not batch
        for name, t, nd in (("q", q, 2), ("k", k, kd), ("v", v, kd)):
            if t.dim() < nd:
                shape = "(..., T, n_h, d)" if nd == 3 else "(..., T, d)"
                raise ValueError(f"{name} must have shape {shape}, got {tuple(t.shape)}")
        T = k.shape[-kd]
        if T < 1:
            raise ValueError("the sequence is empty: T must be at least 1")
        if q.shape[-2] != T or v.shape[-kd] != T:
            raise ValueError(f"q, k and v must have the same length T, got {q.shape[-2]}, {T}, {v.shape[-kd]}")
        if q.shape[-1] != k.shape[-1]:
            raise ValueError(f"q and k must have the same feature size d_k, got {q.shape[-1]} and {k.shape[-1]}")
        if self.substeps and k.shape[-2] != v.shape[-2]:
            raise ValueError(f"k and v must have the same number of sub-steps, got {k.shape[-2]} and {v.shape[-2]}")
        if k.shape[-1] < 1 or v.shape[-1] < 1:
            raise ValueError("d_k and d_v must be at least 1")
        try:
            batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-kd], v.shape[:-kd])
        except RuntimeError as exc:
            raise ValueError(
                f"leading batch dimensions do not match: q {tuple(q.shape[:-2])}, k {tuple(k.shape[:-kd])}, "
                f"v {tuple(v.shape[:-kd])}"
            ) from exc
        for name, t in (("q", q), ("k", k), ("v", v)):
            check_finite(t, name)
        q = q.expand(*batch, *q.shape[-2:])
        k = k.expand(*batch, *k.shape[-kd:])
        v = v.expand(*batch, *v.shape[-kd:])
        time_shape = (*batch, T, k.shape[-2]) if self.substeps else (*batch, T)
        beta_t = self._expand(beta, self.default_beta(), "beta", time_shape, dtype, k.device)
        fk, fq = self.phi(k), self.phi(q) * self.scale
        gate_t = self._expand_gate(gate, (*batch, T), fk.shape[-1], dtype, k.device)
        return Prepared(q=fq, k=fk, v=v, beta=beta_t, gate=gate_t, batch=batch)

    @staticmethod
    def _expand(x: Any, default: float, name: str, shape: tuple[int, ...], dtype: torch.dtype, device) -> torch.Tensor:
        if x is None:
            x = default
        t = as_tensor(x, name).to(dtype=dtype, device=device)
        check_finite(t, name)
        try:
            return t.expand(shape)
        except RuntimeError as exc:
            raise ValueError(f"{name} must be a scalar or broadcast to shape {tuple(shape)}, got {tuple(t.shape)}") from exc

    def _expand_gate(self, gate: Any, shape: tuple[int, ...], d_phi: int, dtype, device) -> torch.Tensor | None:
        if gate is None:
            gate = self.default_gate()
            if gate is None:
                return None
        if self.gate_kind is None:
            raise ValueError(self._no_gate_message())
        t = as_tensor(gate, "gate").to(dtype=dtype, device=device)
        check_finite(t, "gate")
        if bool(((t < 0) | (t > 1)).any()):
            raise ValueError("gate values must lie in [0, 1] (1 keeps everything, 0 forgets everything)")
        T = shape[-1]
        if self.gate_kind == "channel" and t.dim() >= 2 and tuple(t.shape[-2:]) == (T, d_phi):
            # per-channel: trailing axes (T, d_phi); leading axes broadcast over the batch like β's
            return self._expand(t, 1.0, "gate", (*shape, d_phi), dtype, device)
        if self.gate_kind == "channel" and t.dim() == len(shape) + 1:
            raise ValueError(f"a per-channel gate needs trailing axes (T, d_phi) = ({T}, {d_phi}), got {tuple(t.shape)}")
        return self._expand(t, 1.0, "gate", shape, dtype, device)

    def _initial(self, p: Prepared, initial_state: Any) -> State:
        d_v = p.v.shape[-1]
        d_phi = p.k.shape[-1]
        full = (*p.batch, d_v, d_phi)
        if initial_state is None:
            return self._fresh_state(torch.zeros(full, dtype=p.k.dtype, device=p.k.device))
        given = dict(initial_state) if isinstance(initial_state, Mapping) else {"W": initial_state}
        if "W" not in given:
            raise ValueError("initial_state must be a tensor W_0 or a state dict with key 'W'")
        W0 = as_tensor(given["W"], "initial_state").to(dtype=p.k.dtype, device=p.k.device)
        check_finite(W0, "initial_state")
        try:
            W0 = W0.expand(full).clone()
        except RuntimeError as exc:
            raise ValueError(f"initial_state W_0 must have shape (..., d_v, d_phi) = {full}, got {tuple(W0.shape)}") from exc
        state = self._fresh_state(W0)
        for key, value in given.items():
            if key == "W":
                continue
            if key not in state:
                raise ValueError(f"unknown state entry {key!r} for rule {self.name!r}; known: {sorted(state)}")
            t = as_tensor(value, f"initial_state[{key!r}]").to(dtype=p.k.dtype, device=p.k.device)
            check_finite(t, f"initial_state[{key!r}]")
            try:
                state[key] = t.expand(state[key].shape).clone()
            except RuntimeError as exc:
                raise ValueError(f"initial_state[{key!r}] must have shape {tuple(state[key].shape)}") from exc
        return state

    # ------------------------------------------------------------------ public API
    def run(self, q: Any, k: Any, v: Any, *, beta: Any = None, gate: Any = None, initial_state: Any = None) -> Trace:
        """Step through the whole sequence and record every intermediate value (see ``Trace``)."""
        p = self._prepare(q, k, v, beta, gate)
        state = self._initial(p, initial_state)
        W0 = state["W"]
        weights, retrieved, outputs, aux_steps = [W0], [], [], []
        tdim = len(p.batch)
        for t in range(p.T):
            g = None if p.gate is None else p.gate.select(tdim, t)
            state, r, y, aux = self._step(
                state, p.q.select(tdim, t), p.k.select(tdim, t), p.v.select(tdim, t), p.beta.select(tdim, t), g
            )
            weights.append(state["W"])
            retrieved.append(r)
            outputs.append(y)
            aux_steps.append(aux)
        W = torch.stack(weights, dim=tdim)  # (..., T+1, d_v, d_phi)
        R = torch.stack(retrieved, dim=tdim)  # (..., T, d_v)
        Y = torch.stack(outputs, dim=tdim)  # (..., T, d_v)
        aux_all = {key: torch.stack([a[key] for a in aux_steps], dim=tdim) for key in (aux_steps[0] if aux_steps else {})}
        v_first = p.v.select(tdim + 1, 0) if self.substeps else p.v  # (..., T, d_v)
        err = torch.linalg.vector_norm(v_first - R, dim=-1)  # (..., T)
        trace = Trace(
            rule=self.name, weights=W, retrieved=R, outputs=Y, retrieval_error=err, keys=p.k, queries=p.q,
            values=p.v, beta=p.beta, gate=p.gate, diverged_at=None, final_state=state, aux=aux_all,
        )
        return self._mark_divergence(trace, p)

    def step(
        self, state: State | None, q_t: Any, k_t: Any, v_t: Any, *, beta: Any = None, gate: Any = None
    ) -> tuple[State, StepRecord]:
        """Advance by one token. ``state=None`` starts from W_0 = 0. Shapes as ``run`` without the T axis."""
        q_t, k_t, v_t = as_tensor(q_t, "q_t"), as_tensor(k_t, "k_t"), as_tensor(v_t, "v_t")
        kd = 2 if self.substeps else 1
        for name, t, nd in (("q_t", q_t, 1), ("k_t", k_t, kd), ("v_t", v_t, kd)):
            if t.dim() < nd:
                raise ValueError(f"{name} must have at least {nd} dimension(s), got shape {tuple(t.shape)}")
        lift = -(kd + 1)  # insert T before the trailing axes
        beta_l = None if beta is None else self._lift(as_tensor(beta, "beta"), kd - 1)
        gate_l = None
        if gate is not None:
            g = as_tensor(gate, "gate")
            d_phi = self.phi.out_dim(k_t.shape[-1])
            per_channel = self.gate_kind == "channel" and g.dim() >= 1 and g.shape[-1] == d_phi
            gate_l = self._lift(g, 1 if per_channel else 0)
        p = self._prepare(q_t.unsqueeze(-2), k_t.unsqueeze(lift), v_t.unsqueeze(lift), beta_l, gate_l)
        if state is None:
            st = self._initial(p, None)
        else:
            if not isinstance(state, Mapping) or "W" not in state:
                raise ValueError("state must be None or the state dict returned by a previous step")
            st = self._initial(p, state)
        W_prev = st["W"]
        tdim = len(p.batch)
        g = None if p.gate is None else p.gate.select(tdim, 0)
        new, r, y, aux = self._step(st, p.q.select(tdim, 0), p.k.select(tdim, 0), p.v.select(tdim, 0), p.beta.select(tdim, 0), g)
        v0 = p.v.select(tdim, 0)
        v0 = v0.select(-2, 0) if self.substeps else v0
        record = StepRecord(
            weights=new["W"], update=new["W"] - W_prev, retrieved=r, output=y,
            retrieval_error=torch.linalg.vector_norm(v0 - r, dim=-1),
            key=p.k.select(tdim, 0), query=p.q.select(tdim, 0), aux=aux,
        )
        return new, record

    @staticmethod
    def _lift(t: torch.Tensor, trailing: int) -> torch.Tensor:
        """Insert a length-1 T axis before ``trailing`` trailing axes (scalars stay scalars)."""
        if t.dim() == 0:
            return t
        return t.unsqueeze(t.dim() - trailing)

    def parallel(self, q: Any, k: Any, v: Any, *, beta: Any = None, gate: Any = None) -> ParallelForm:
        """The attention form (W_0 = 0): outputs == attention @ values."""
        if not self.has_parallel:
            raise ValueError(f"rule {self.name!r} has no parallel form; rules with one: see fwp_core.rule_names(parallel=True)")
        return self._parallel(self._prepare(q, k, v, beta, gate))

    def chunked(
        self, q: Any, k: Any, v: Any, *, beta: Any = None, gate: Any = None, chunk_size: int = 64, initial_state: Any = None
    ) -> tuple[torch.Tensor, State]:
        """Chunkwise-parallel outputs (..., T, d_v) and the final state, for long sequences."""
        if not self.has_parallel:
            raise ValueError(f"rule {self.name!r} has no chunked form; rules with one: see fwp_core.rule_names(parallel=True)")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        p = self._prepare(q, k, v, beta, gate)
        return self._chunked(p, int(chunk_size), self._initial(p, initial_state))

    # ------------------------------------------------------------------ divergence
    def _write_direction(self, p: Prepared, trace: Trace) -> torch.Tensor:
        """The vector each write's outer product uses on the key side (for the divergence bound)."""
        return p.k

    def _mark_divergence(self, trace: Trace, p: Prepared) -> Trace:
        tdim = len(p.batch)
        W = trace.weights
        norms = torch.linalg.matrix_norm(torch.nan_to_num(W, nan=float("inf")), ord="fro")  # (..., T+1)
        kn = torch.linalg.vector_norm(self._write_direction(p, trace), dim=-1)
        vn = torch.linalg.vector_norm(p.v, dim=-1)
        contrib = (p.beta.abs() * kn * vn)
        if self.substeps:
            contrib = contrib.sum(-1)
        bound = 1.0 + norms.select(tdim, 0).unsqueeze(-1) + torch.cumsum(contrib, dim=-1)  # (..., T)
        finite_out = torch.isfinite(trace.outputs).all(-1) & torch.isfinite(trace.retrieved).all(-1)
        bad = (~torch.isfinite(norms[..., 1:])) | (norms[..., 1:] > EXPLODE_FACTOR * bound) | ~finite_out  # (..., T)
        if not bool(bad.any()):
            return trace
        first = torch.where(bad.any(-1), bad.float().argmax(-1), torch.full(bad.shape[:-1], p.T, device=bad.device))
        diverged_at = int(first.min()) + 1
        steps = torch.arange(p.T, device=bad.device)
        after = steps >= first.unsqueeze(-1)  # (..., T) per element: step index ≥ its first bad step
        nan = float("nan")

        def mask(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
            m = m.reshape(*m.shape, *([1] * (x.dim() - m.dim())))
            return torch.where(m, torch.full_like(x, nan), x)

        after_w = torch.cat([torch.zeros_like(after[..., :1]), after], dim=-1)  # (..., T+1)
        final = {key: mask(val, after[..., -1]) for key, val in trace.final_state.items()}
        aux = {key: mask(val, after) for key, val in trace.aux.items()}
        return Trace(
            rule=trace.rule, weights=mask(W, after_w), retrieved=mask(trace.retrieved, after),
            outputs=mask(trace.outputs, after), retrieval_error=mask(trace.retrieval_error, after),
            keys=trace.keys, queries=trace.queries, values=trace.values, beta=trace.beta, gate=trace.gate,
            diverged_at=diverged_at, final_state=final, aux=aux,
        )
