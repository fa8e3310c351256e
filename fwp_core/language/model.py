r"""A character-level language model whose token mixer is one fast-weight rule (or softmax attention).

    e_t = E[x_t]                                         embedding of the character
    for each layer:  h = LN(e);  u_t = [h_t, h_{t−1}]    the programmer sees this and the previous position
                     [q, k, v, β̃, g̃]_t = P u_t + b       a learned *linear* programmer, n_heads heads
                     β_t = β_max σ(β̃_t),  gate σ(g̃_t)     (gate only where the rule needs one: ``needs_gate``)
                     y = rule(q, k, v, β, gate)            the fast net: per head, W_t written and read
                     e ← e + O · RMSNorm_head(y)
                     e ← e + MLP(LN(e))
    logits_t = R · LN(e_t)                               over ``VOCAB``, predicting x_{t+1}

Queries and keys go through the rule's own feature map and normalisation; the model's default rule
hyper-parameters are the registry's with ``normalize="l2"`` (``RULE_DEFAULTS``): unit keys keep every
delta-type step I − βkkᵀ stable for β < 2 and bound the additive rules' scores. Values are L2-normalised per
head too: Oja's step I − βvvᵀ then stays stable, and every rule writes pairs of one size.
The mixer's ``forward`` uses the rule's chunked form where it has one (``Rule.chunked``, which differentiates
correctly: tests/core/test_language.py compares it with the token loop), else the token loop ``Rule.run``;
``form="run"`` forces the loop (``read`` uses it to record traces). The softmax mixer is causal softmax
attention with scale 1/√d_head; with no positional encoding its only sense of order is the shifted input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import RULES, get_spec, make_rule
from ..rules.base import Rule
from ..rules.softmax import softmax_attention
from .corpus import V

SOFTMAX = "softmax"
RULE_DEFAULTS: dict[str, Any] = {"normalize": "l2"}
"""Rule hyper-parameters the language model uses unless ``rule_hparams`` says otherwise."""
MAX_N_H = 4


def mixer_names() -> list[str]:
    """Every registered rule, then "softmax"."""
    return [*RULES, SOFTMAX]


@dataclass(frozen=True)
class LanguageConfig:
    """The architecture (plain values, so it saves as JSON)."""

    rule: str
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    d_head: int = 32
    context: int = 128
    beta_max: float = 1.0
    n_h: int = 1  # sub-steps per token, rules with sub-steps only (delta_product: 2)
    chunk: int = 32
    rule_hparams: tuple[tuple[str, Any], ...] = ()  # the resolved overrides passed to make_rule, sorted
    vocab: int = V

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["rule_hparams"] = dict(self.rule_hparams)
        return d

    @classmethod
    def from_dict(cls, data: Any) -> LanguageConfig:
        if not isinstance(data, Mapping):
            raise ValueError(f"a language model config must be a dict, got {type(data).__name__}")
        fields = set(cls.__dataclass_fields__)
        if set(data) != fields:
            raise ValueError(f"language model config: expected keys {sorted(fields)}, got {sorted(map(str, data))}")
        hp = data["rule_hparams"]
        if not isinstance(hp, Mapping):
            raise ValueError("language model config: rule_hparams must be a dict")
        if data["vocab"] != V:
            raise ValueError(f"language model config: vocab must be {V}, got {data['vocab']!r}")
        sizes = {k: data[k] for k in SIZE_KEYS if k in data}
        return make_config(data["rule"], rule_hparams=dict(hp), **sizes)


SIZE_LIMITS: dict[str, tuple[type, float, float]] = {
    "d_model": (int, 8, 512), "n_layers": (int, 1, 4), "n_heads": (int, 1, 8), "d_head": (int, 4, 128),
    "context": (int, 8, 1024), "beta_max": (float, 1.0, 2.0), "n_h": (int, 1, MAX_N_H), "chunk": (int, 1, 1024),
}
SIZE_KEYS = tuple(SIZE_LIMITS)


def check_size(name: str, value: Any, kind: type, lo: float, hi: float) -> Any:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(float(value))
    if ok and kind is int:
        ok = float(value) == int(value)
    if not ok or not lo <= float(value) <= hi:
        what = "an integer" if kind is int else "a number"
        raise ValueError(f"{name}={value!r} is not allowed; {name} must be {what} in [{lo:g}, {hi:g}]")
    return kind(value)


def make_config(rule: str, *, rule_hparams: Mapping[str, Any] | None = None, **sizes: Any) -> LanguageConfig:
    """A checked ``LanguageConfig``; unknown rules, sizes or hyper-parameters raise ValueError."""
    if not isinstance(rule, str) or (rule != SOFTMAX and rule not in RULES):
        raise ValueError(f"unknown mixer {rule!r}; allowed: {', '.join(mixer_names())}")
    unknown = sorted(set(sizes) - set(SIZE_KEYS))
    if unknown:
        raise ValueError(f"unknown size(s) {', '.join(unknown)}; allowed: {', '.join(SIZE_KEYS)}")
    vals = {k: check_size(k, v, *SIZE_LIMITS[k]) for k, v in sizes.items()}
    substeps = rule != SOFTMAX and get_spec(rule).substeps
    if "n_h" not in vals:
        vals["n_h"] = 2 if substeps else 1
    elif vals["n_h"] != 1 and not substeps:
        raise ValueError(f"n_h={vals['n_h']} is only for rules with sub-steps; {rule!r} takes n_h=1")
    if rule_hparams is not None and not isinstance(rule_hparams, Mapping):
        raise ValueError(f"rule_hparams must be a dict, got {type(rule_hparams).__name__}")
    hp: dict[str, Any] = {}
    if rule == SOFTMAX:
        if rule_hparams:
            raise ValueError("softmax attention takes no rule hyper-parameters")
    else:
        given = {**RULE_DEFAULTS, **dict(rule_hparams or {})}
        resolved = make_rule(rule, **given).hparams  # checks names and ranges
        hp = {k: resolved[k] for k in given}
    return LanguageConfig(rule=rule, rule_hparams=tuple(sorted(hp.items())), **vals)


def rms_norm(y: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + eps)


class Mixer(nn.Module):
    """One layer's token mixer: the linear programmer, the rule (or softmax attention), the output map."""

    def __init__(self, config: LanguageConfig) -> None:
        super().__init__()
        c = self.config = config
        self.rule: Rule | None = None if c.rule == SOFTMAX else make_rule(c.rule, **dict(c.rule_hparams))
        H, d, n_h = c.n_heads, c.d_head, c.n_h
        self.n_gate = 0
        if self.rule is not None and self.rule.gate_kind is not None and self.rule.default_gate() is None:
            self.n_gate = self.rule.phi.out_dim(d) if self.rule.gate_kind == "channel" else 1
        n_beta = 0 if self.rule is None else n_h
        self.sizes = (H * d, H * n_h * d, H * n_h * d, H * n_beta, H * self.n_gate)
        self.proj = nn.Linear(2 * c.d_model, sum(self.sizes))
        self.head_scale = nn.Parameter(torch.ones(H, d))
        self.out = nn.Linear(H * d, c.d_model, bias=False)

    def programme(self, h: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """h (B, T, d_model), normalised -> q (B, H, T, d), k, v (B, H, T, [n_h,] d), beta (B, H, T[, n_h]) or
        None for softmax, gate (B, H, T[, d_phi]) or None."""
        c = self.config
        prev = F.pad(h, (0, 0, 1, 0))[:, :-1]  # h_{t−1}, zero before the first position
        z = self.proj(torch.cat([h, prev], dim=-1))
        q, k, v, b, g = torch.split(z, self.sizes, dim=-1)
        B, T = h.shape[:2]
        heads = lambda x, *inner: x.reshape(B, T, c.n_heads, *inner).transpose(1, 2)  # noqa: E731
        sub = (c.n_h,) if self.rule is not None and self.rule.substeps else ()
        q, k, v = heads(q, c.d_head), heads(k, *sub, c.d_head), heads(v, *sub, c.d_head)
        v = F.normalize(v, dim=-1)  # unit values (module docstring)
        beta = gate = None
        if self.rule is not None:
            beta = c.beta_max * torch.sigmoid(heads(b, *(sub or (1,))))
            beta = beta if sub else beta.squeeze(-1)
        if self.n_gate:
            gate = torch.sigmoid(heads(g, self.n_gate))
            gate = gate.squeeze(-1) if self.rule.gate_kind == "scalar" else gate
        return {"q": q, "k": k, "v": v, "beta": beta, "gate": gate}

    def mix(self, p: Mapping[str, torch.Tensor | None], form: str = "auto") -> torch.Tensor:
        """The fast net's outputs y (B, H, T, d) for programmed inputs ``p``: "auto" = chunked where the rule
        has it, else the token loop; "run" = the token loop; "parallel" = the attention form."""
        if self.rule is None:
            return softmax_attention(p["q"], p["k"], p["v"], scale=self.config.d_head ** -0.5).outputs
        kw = {"beta": p["beta"], "gate": p["gate"]}
        if form == "auto" and self.rule.has_parallel:
            return self.rule.chunked(p["q"], p["k"], p["v"], chunk_size=self.config.chunk, **kw)[0]
        if form == "parallel":
            return self.rule.parallel(p["q"], p["k"], p["v"], **kw).outputs
        if form not in ("auto", "run"):
            raise ValueError(f"form={form!r} is not allowed; use 'auto', 'run' or 'parallel'")
        return self.rule.run(p["q"], p["k"], p["v"], **kw).outputs

    def combine(self, y: torch.Tensor) -> torch.Tensor:
        """y (B, H, T, d) -> the residual update (B, T, d_model)."""
        y = rms_norm(y) * self.head_scale[:, None, :]
        return self.out(y.transpose(1, 2).flatten(2))

    def forward(self, h: torch.Tensor, form: str = "auto") -> torch.Tensor:
        return self.combine(self.mix(self.programme(h), form))


class Block(nn.Module):
    def __init__(self, config: LanguageConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(config.d_model), nn.LayerNorm(config.d_model)
        self.mixer = Mixer(config)
        self.mlp = nn.Sequential(nn.Linear(config.d_model, 4 * config.d_model), nn.GELU(),
                                 nn.Linear(4 * config.d_model, config.d_model))

    def forward(self, x: torch.Tensor, form: str = "auto") -> torch.Tensor:
        x = x + self.mixer(self.ln1(x), form)
        return x + self.mlp(self.ln2(x))


class CharModel(nn.Module):
    """embedding → ``n_layers`` blocks (fast-weight mixer, MLP) → readout over ``VOCAB`` (module docstring)."""

    def __init__(self, config: LanguageConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.readout = nn.Linear(config.d_model, config.vocab)
        self.reset_parameters(generator)

    @property
    def rule(self) -> str:
        return self.config.rule

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Seeded: embeddings N(0, 1); linear maps U(±1/√fan_in), the residual outputs and the readout scaled by
        1/√(2·n_layers) and 0.5; biases 0, except β̃'s (0: β starts at β_max/2) and the gate's (3: σ(3) ≈ 0.95)."""
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        depth = (2 * self.config.n_layers) ** -0.5
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name == "embed.weight":
                    p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
                elif name.endswith("bias") or name.startswith("ln") or ".ln" in name:
                    p.fill_(1.0 if name.endswith("weight") else 0.0)
                elif name.endswith("head_scale"):
                    p.fill_(1.0)
                else:
                    scale = depth if (name.endswith("mixer.out.weight") or name.endswith("mlp.2.weight")) else 1.0
                    scale = 0.5 if name == "readout.weight" else scale
                    bound = scale / p.shape[-1] ** 0.5
                    p.copy_((torch.rand(p.shape, generator=g, dtype=torch.float64) * 2 - 1) * bound)
            for block in self.blocks:
                m = block.mixer
                if m.n_gate:
                    m.proj.bias[-m.sizes[-1]:] = 3.0

    def forward(self, ids: torch.Tensor, form: str = "auto") -> torch.Tensor:
        """ids (B, T) int64 -> logits (B, T, V) for the next character at every position."""
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, form)
        return self.readout(self.ln_f(x))
