r"""Slow nets that programme fast weights: they emit q_t, k_t, v_t, β_t (and a gate) for a rule.

Three kinds (``KINDS``), all driving the same ``fwp_core`` rule objects that the app shows:

``linear``            e_t = E x_t;  [q, k, v, β̃, g̃]_t = P e_t + b     (the linear-transformer / FWP layer)
``recurrent``         [q, k, v, β̃, g̃]_t = P e_t + R tanh(y_{t−1}) + b  (the slow net sees its last output)
``self_referential``  [y, k, q, β̃, g̃]_t = W_{t−1} φ(e_t),  v_t = W_{t−1} φ(q_t)  (one matrix that
                      programmes itself; W_0 is learned; the SRWM of Irie et al. 2022)

β_t = β_max·σ(β̃_t) with β_max ∈ {1, 2}; the gate is σ(g̃_t) (only for rules whose gate has no default,
e.g. ``gated``, ``gla``, ``gated_delta``). Keys and queries are emitted raw: the rule's own feature map
and ``normalize`` hyper-parameter act on them (the delta family L2-normalises by default, which keeps
I − β k kᵀ stable for β < 2). The fast net reads y_t = W_t φ(q_t) (``Rule.run``, or the rule's parallel
form, which gives the same outputs); a linear readout maps y_t to logits / predictions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..registry import get_spec, make_rule, rule_names
from ..rules._ops import mv
from ..rules.base import Rule
from ..sequences import Episode
from .tasks import TaskBatch, encode_bits, get_task

KINDS: tuple[str, ...] = ("linear", "recurrent", "self_referential")
BETA_RANGES: tuple[tuple[float, float], ...] = ((0.0, 1.0), (0.0, 2.0))
MAX_D = 128
MAX_N_H = 4


@dataclass(frozen=True)
class ProgrammerConfig:
    """Everything needed to rebuild a programmer (plain values only, so it can be saved safely)."""

    task: str  # a name in tasks.TASKS: fixes d_in and the number of outputs
    rule: str  # a name in fwp_core.RULES: the fast-weight rule that is trained through
    kind: str = "linear"  # one of KINDS
    beta_max: float = 1.0  # β_t ∈ (0, beta_max): 1 keeps I − βkkᵀ positive, 2 allows reflections
    d: int = 8  # width of keys, queries and values
    n_h: int = 1  # delta sub-steps per token (rules with sub-steps only, e.g. delta_product)
    rule_hparams: tuple[tuple[str, Any], ...] = ()  # passed to make_rule, sorted by name
    d_model: int = 8  # width of the token embedding e_t (self_referential: always d)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task, "rule": self.rule, "kind": self.kind, "beta_max": float(self.beta_max),
            "d": int(self.d), "n_h": int(self.n_h), "rule_hparams": {k: v for k, v in self.rule_hparams},
            "d_model": int(self.d_model),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ProgrammerConfig:
        """A checked config from a plain dict (as written by ``to_dict``); ValueError if anything is off."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a programmer config must be a dict, got {type(data).__name__}")
        fields = {"task", "rule", "kind", "beta_max", "d", "n_h", "rule_hparams", "d_model"}
        unknown = sorted(str(k) for k in set(data) - fields)
        missing = sorted(fields - set(data))
        if unknown or missing:
            raise ValueError(f"programmer config: unknown keys {unknown}, missing keys {missing}; expected {sorted(fields)}")
        hp = data["rule_hparams"]
        if not isinstance(hp, Mapping) or not all(isinstance(k, str) for k in hp):
            raise ValueError("programmer config: rule_hparams must be a dict with string keys")
        return make_config(
            data["task"], data["rule"], kind=data["kind"], beta_range=(0.0, data["beta_max"]), d=data["d"],
            n_h=data["n_h"], rule_hparams=dict(hp), d_model=data["d_model"],
        )


def _check_int(name: str, x: Any, lo: int, hi: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
        raise ValueError(f"{name}={x!r} is not allowed; {name} must be an integer in [{lo}, {hi}]")
    return int(x)


def check_beta_range(beta_range: Any) -> float:
    """β_max of an allowed β range ((0, 1) or (0, 2)), else ValueError listing them."""
    allowed = " or ".join(f"({lo:g}, {hi:g})" for lo, hi in BETA_RANGES)
    try:
        lo, hi = (float(b) for b in beta_range)
        ok = not any(isinstance(b, bool) for b in beta_range) and (lo, hi) in BETA_RANGES
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"beta_range={beta_range!r} is not allowed; choose {allowed}")
    return hi


def rules_for(kind: str) -> list[str]:
    """The fast-weight rules a programmer of ``kind`` can drive (the self-referential one writes one key per
    token, so it takes no rule with sub-steps)."""
    return [r for r in rule_names() if not (kind == "self_referential" and get_spec(r).substeps)]


def make_config(
    task: str, rule: str, *, kind: str = "linear", beta_range: Any = (0, 1), d: int | None = None,
    n_h: int | None = None, rule_hparams: Mapping[str, Any] | None = None, d_model: int | None = None,
) -> ProgrammerConfig:
    """A checked ``ProgrammerConfig``: unknown names or out-of-range values raise ValueError."""
    spec = get_task(task)
    rspec = get_spec(rule)
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown programmer kind {kind!r}; known kinds: {', '.join(KINDS)}")
    beta_max = check_beta_range(beta_range)
    d = _check_int("d", spec.defaults["d"] if d is None else d, 1, MAX_D)
    if n_h is None:
        n_h = 2 if rspec.substeps else 1
    n_h = _check_int("n_h", n_h, 1, MAX_N_H if rspec.substeps else 1)
    if kind == "self_referential" and rspec.substeps:
        raise ValueError(f"the self_referential programmer takes rules without sub-steps; {rule!r} has them")
    if rule_hparams is not None and not isinstance(rule_hparams, Mapping):
        raise ValueError(f"rule_hparams must be a dict of hyper-parameters, got {type(rule_hparams).__name__}")
    given = dict(rule_hparams or {})
    resolved = make_rule(rule, **given).hparams  # checks names and ranges
    hp = {key: resolved[key] for key in given}  # canonical plain values
    if kind == "self_referential":
        d_model = d if d_model is None else _check_int("d_model", d_model, d, d)
    else:
        default = max(d, spec.defaults.get("d_model", d))
        d_model = _check_int("d_model", default if d_model is None else d_model, 1, 4 * MAX_D)
    return ProgrammerConfig(spec.name, rspec.name, kind, beta_max, d, n_h, tuple(sorted(hp.items())), d_model)


@dataclass(frozen=True)
class Emitted:
    """What one forward pass produced (tensors keep their autograd graph)."""

    episode: Episode  # q, k, v, beta, gate the slow net emitted; meta["initial_state"] for self_referential
    outputs: torch.Tensor  # (B, T, d) the fast net's read-out y_t that feeds the readout
    logits: torch.Tensor  # (B, T, n_out) class logits, or predictions for regression


class FastWeightProgrammer(nn.Module):
    """A slow net of one of ``KINDS`` programming the fast weights of ``config.rule``.

    ``forward(inputs)`` maps task features (B, T, d_in) to logits (B, T, n_out);
    ``programme(tokens)`` returns the Episode it writes, ready for ``Rule.run``.
    """

    def __init__(self, config: ProgrammerConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        self.task = get_task(config.task)
        self.rule: Rule = make_rule(config.rule, **dict(config.rule_hparams))
        d, n_h = config.d, config.n_h
        self.d_phi = self.rule.phi.out_dim(d)
        emits_gate = self.rule.gate_kind is not None and self.rule.default_gate() is None
        self.n_gate = 0 if not emits_gate else (self.d_phi if self.rule.gate_kind == "channel" else 1)
        self.embed = nn.Linear(self.task.d_in, config.d_model, bias=False)
        if config.kind == "self_referential":
            # rows of W: [y (d), k (d), q (d), β̃ (1), g̃ (n_gate)]
            self.sizes = (d, d, d, 1, self.n_gate)
            self.W0 = nn.Parameter(torch.empty(sum(self.sizes), self.d_phi))
        else:
            # columns of P: [q (d), k (n_h·d), v (n_h·d), β̃ (n_h), g̃ (n_gate)]
            self.sizes = (d, n_h * d, n_h * d, n_h, self.n_gate)
            self.proj = nn.Linear(config.d_model, sum(self.sizes))
            if config.kind == "recurrent":
                self.feedback = nn.Linear(d, sum(self.sizes), bias=False)
        self.readout = nn.Linear(d, self.task.n_out)
        self.reset_parameters(generator)

    # ------------------------------------------------------------------ parameters
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Seeded initialisation: embeddings N(0, 1), linear maps U(±1/√fan_in), biases 0; β and gate
        weights 0 with biases 2 and 3, so every token starts with β_t = σ(2)·β_max and gate σ(3)."""
        g = generator if generator is not None else torch.Generator().manual_seed(0)

        def uniform(t: torch.Tensor, bound: float) -> torch.Tensor:
            return (torch.rand(t.shape, generator=g, dtype=torch.float64) * 2 - 1).mul(bound).to(t)

        with torch.no_grad():
            self.embed.weight.copy_(torch.randn(self.embed.weight.shape, generator=g, dtype=torch.float64))
            for name, p in self.named_parameters():
                if name == "embed.weight":
                    continue
                if name.endswith("bias"):
                    p.zero_()
                elif name == "W0":
                    p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) / self.d_phi**0.5)
                else:
                    p.copy_(uniform(p, 1.0 / p.shape[-1] ** 0.5))
            if self.config.kind != "self_referential":
                # β and the gate start the same for every token (their weights at 0) and high: a token
                # whose random embedding gave it a small β would be stored weakly and its value class
                # never learned (measured: associative recall then stalls near 70%)
                first = sum(self.sizes[:3])
                for layer in (self.proj, getattr(self, "feedback", None)):
                    if layer is not None:
                        layer.weight[first:] = 0.0
                self.proj.bias[first : first + self.sizes[3]] = 2.0  # β starts at σ(2)·β_max ≈ 0.88·β_max
                if self.n_gate:
                    self.proj.bias[-self.n_gate :] = 3.0  # gates start at σ(3) ≈ 0.95: remember

    # ------------------------------------------------------------------ pieces
    def _split(self, z: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """z (..., sum(sizes)) -> the five emitted parts, shaped for the rule (keys/values per sub-step)."""
        a, b, c, bt, gt = torch.split(z, self.sizes, dim=-1)
        if self.config.kind == "self_referential":
            return a, b, c, bt.squeeze(-1), gt  # y, k, q, β̃, g̃
        if self.rule.substeps:
            n_h = self.config.n_h
            b = b.unflatten(-1, (n_h, -1))  # (..., n_h, d)
            c = c.unflatten(-1, (n_h, -1))  # (..., n_h, d)
            return a, b, c, bt, gt  # q, k, v, β̃ (..., n_h), g̃
        return a, b, c, bt.squeeze(-1), gt

    def _beta(self, raw: torch.Tensor) -> torch.Tensor:
        return self.config.beta_max * torch.sigmoid(raw)

    def _gate(self, raw: torch.Tensor) -> torch.Tensor | None:
        if not self.n_gate:
            return None
        g = torch.sigmoid(raw)
        return g if self.rule.gate_kind == "channel" else g.squeeze(-1)  # (..., d_phi) or (...,)

    def _default_gate(self, like: torch.Tensor) -> torch.Tensor | None:
        g = self.rule.default_gate()
        return None if g is None else torch.full(like.shape[:1], float(g), dtype=like.dtype, device=like.device)

    # ------------------------------------------------------------------ the three kinds
    @property
    def uses_parallel(self) -> bool:
        """Whether ``forward`` reads the fast net through ``rule.parallel`` (linear kind, rules with a
        parallel form): the same outputs as ``rule.run`` (the tests check it), many times faster on CPU."""
        return self.config.kind == "linear" and self.rule.has_parallel

    def emit(self, inputs: torch.Tensor, *, form: str = "auto") -> Emitted:
        """inputs (B, T, d_in) -> the emitted episode, the fast net's outputs and the logits.

        ``form``: "run" reads the fast net token by token (``Rule.run``), "auto" uses the parallel form
        where ``uses_parallel``."""
        if form not in ("auto", "run"):
            raise ValueError(f"form={form!r} is not allowed; use 'auto' or 'run'")
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3 or inputs.shape[-1] != self.task.d_in:
            shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
            raise ValueError(f"inputs must have shape (B, T, {self.task.d_in}) for task {self.task.name!r}, got {shape}")
        e = self.embed(inputs.to(self.embed.weight.dtype))  # (B, T, d_model)
        kind = self.config.kind
        if kind == "linear":
            return self._linear(e, parallel=form == "auto" and self.uses_parallel)
        if kind == "recurrent":
            return self._recurrent(e)
        return self._self_referential(e)

    def _linear(self, e: torch.Tensor, parallel: bool) -> Emitted:
        q, k, v, braw, graw = self._split(self.proj(e))  # q (B, T, d); k, v (B, T, [n_h,] d)
        beta, gate = self._beta(braw), self._gate(graw)
        if parallel:
            y, meta = self.rule.parallel(q, k, v, beta=beta, gate=gate).outputs, {}
        else:
            trace = self.rule.run(q, k, v, beta=beta, gate=gate)
            y, meta = trace.outputs, {"diverged_at": trace.diverged_at}  # y (B, T, d)
        ep = Episode(q=q, k=k, v=v, beta=beta, gate=gate, meta=meta)
        return Emitted(ep, y, self.readout(y))

    def _fresh(self, B: int, rows: int, like: torch.Tensor, W0: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        W = torch.zeros(B, rows, self.d_phi, dtype=like.dtype, device=like.device) if W0 is None else W0.expand(B, *W0.shape)
        return self.rule._fresh_state(W)

    def _recurrent(self, e: torch.Tensor) -> Emitted:
        B, T, _ = e.shape
        d = self.config.d
        base = self.proj(e)  # (B, T, P)
        state = self._fresh(B, d, e)
        y = torch.zeros(B, d, dtype=e.dtype, device=e.device)
        parts: list[tuple[torch.Tensor, ...]] = []
        outs = []
        for t in range(T):
            q, k, v, braw, graw = self._split(base[:, t] + self.feedback(torch.tanh(y)))
            beta, gate = self._beta(braw), self._gate(graw)
            g = gate if gate is not None else self._default_gate(e)
            state, _, y, _ = self.rule._step(state, self.rule.phi(q) * self.rule.scale, self.rule.phi(k), v, beta, g)
            parts.append((q, k, v, beta) + ((gate,) if gate is not None else ()))
            outs.append(y)
        q, k, v, beta, *rest = (torch.stack(x, dim=1) for x in zip(*parts))
        Y = torch.stack(outs, dim=1)  # (B, T, d)
        ep = Episode(q=q, k=k, v=v, beta=beta, gate=rest[0] if rest else None)
        return Emitted(ep, Y, self.readout(Y))

    def _self_referential(self, e: torch.Tensor) -> Emitted:
        B, T, _ = e.shape
        state = self._fresh(B, self.W0.shape[0], e, self.W0)
        parts: list[tuple[torch.Tensor, ...]] = []
        outs = []
        for t in range(T):
            W = state["W"]  # (B, rows, d_phi)
            y, k, q, braw, graw = self._split(mv(W, self.rule.phi(e[:, t])))  # read with the old matrix
            beta, gate = self._beta(braw), self._gate(graw)
            fq = self.rule.phi(q) * self.rule.scale
            v = mv(W, fq)  # (B, rows): the value W_{t−1} φ(q_t) the matrix teaches itself
            g = gate if gate is not None else self._default_gate(e)
            state, _, _, _ = self.rule._step(state, fq, self.rule.phi(k), v, beta, g)
            parts.append((q, k, v, beta) + ((gate,) if gate is not None else ()))
            outs.append(y)
        q, k, v, beta, *rest = (torch.stack(x, dim=1) for x in zip(*parts))
        Y = torch.stack(outs, dim=1)  # (B, T, d)
        ep = Episode(q=q, k=k, v=v, beta=beta, gate=rest[0] if rest else None, meta={"initial_state": self.W0})
        return Emitted(ep, Y, self.readout(Y))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """inputs (B, T, d_in) -> logits (B, T, n_out) (predictions of y for regression)."""
        return self.emit(inputs).logits

    # ------------------------------------------------------------------ for the app
    @torch.no_grad()
    def programme(self, tokens: Any) -> Episode:
        """The q, k, v, beta, gate this programmer writes for ``tokens``, as an ``Episode``.

        ``tokens``: a ``TaskBatch`` (batched episode, shapes (B, T, ...); ``tokens`` holds the labels of
        its first sequence), a float tensor of features
        (T, d_in) or (B, T, d_in), or for bit tasks a typed string such as ``"0110"`` (BOS prepended).
        Tensors are detached. ``meta`` holds kind, rule, rule_hparams, task, ``outputs`` y_t (…, T, d),
        ``logits`` (…, T, n_out) and, for ``self_referential``, ``initial_state`` W_0 (rows, d_phi): pass
        it to ``Rule.run(..., initial_state=...)`` to replay the matrix's own updates.
        ``make_rule(meta["rule"], **meta["rule_hparams"]).run(ep.q, ep.k, ep.v, **ep.run_kwargs())``
        reproduces the fast weights (and, for linear and recurrent kinds, ``meta["outputs"]``).
        """
        labels: tuple[str, ...] = ()
        if isinstance(tokens, TaskBatch):
            if tokens.task != self.task.name:
                raise ValueError(f"this programmer was trained on {self.task.name!r}, not {tokens.task!r}")
            x, labels = tokens.inputs, tokens.labels[0] if tokens.labels else ()
        elif isinstance(tokens, torch.Tensor):
            x = tokens
        else:
            batch = encode_bits(self.task.name, tokens)
            x, labels = batch.inputs[0], batch.labels[0]
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() not in (2, 3):
            raise ValueError(f"tokens must be features of shape (T, {self.task.d_in}) or (B, T, {self.task.d_in})")
        max_T = self.task.seq_len(self.task.max_length)
        if x.shape[-2] > max_T:
            raise ValueError(f"the sequence has {x.shape[-2]} tokens; at most {max_T} are allowed for task {self.task.name!r}")
        unbatched = x.dim() == 2
        device = self.embed.weight.device
        out = self.emit(x.unsqueeze(0).to(device) if unbatched else x.to(device), form="run")
        cut = (lambda t: t[0]) if unbatched else (lambda t: t)  # noqa: E731
        ep = out.episode
        meta: dict[str, Any] = {
            "source": "programmer", "task": self.task.name, "kind": self.config.kind, "rule": self.config.rule,
            "rule_hparams": dict(self.config.rule_hparams), "beta_max": self.config.beta_max,
            "outputs": cut(out.outputs).detach(), "logits": cut(out.logits).detach(),
        }
        if "initial_state" in ep.meta:
            meta["initial_state"] = ep.meta["initial_state"].detach().clone()
        if "diverged_at" in ep.meta:
            meta["diverged_at"] = ep.meta["diverged_at"]
        opt = lambda t: None if t is None else cut(t).detach()  # noqa: E731
        return Episode(
            q=cut(ep.q).detach(), k=cut(ep.k).detach(), v=cut(ep.v).detach(), beta=opt(ep.beta), gate=opt(ep.gate),
            tokens=tuple(labels), meta=meta,
        )
