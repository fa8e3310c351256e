"""One text read by a trained model, everything recorded for stepping through it in a UI.

``read(model, text)`` runs the text as one sequence through the token loop (``Rule.run``) of every layer and
returns a ``Reading``: the characters, the next-character probabilities at every position, each layer's
``Trace`` (per head: the batch axis of every field is the head) and, where the rule has a parallel form (and
for softmax attention), each layer's attention matrix per head. The probabilities come from the very outputs
the traces record, so what a UI steps through and what it predicts are one computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..rules.softmax import softmax_attention
from ..trace import Trace
from .corpus import VOCAB, check_text, encode
from .model import CharModel

MAX_READ = 2048
"""The longest text ``read`` takes (the traces hold every head's fast weights at every step)."""


@dataclass(frozen=True)
class Reading:
    """What a model did with one text of T characters (V = ``len(VOCAB)``, H heads, L layers)."""

    chars: str  # the normalised text that was read (T characters)
    ids: torch.Tensor  # (T,) indices into VOCAB
    probs: torch.Tensor  # (T, V): probs[t] is the model's distribution over the character after chars[t]
    traces: list[Trace] | None  # L traces, batch axis = heads (weights (H, T+1, d_v, d_phi)); None for softmax
    attention: list[torch.Tensor] | None  # L tensors (H, T, T) where the mixer has an attention form, else None
    rule: str

    @property
    def surprisal(self) -> torch.Tensor:
        """(T − 1,): bits the model spent on each character after the first."""
        p = self.probs[:-1].gather(1, self.ids[1:, None].to(self.probs.device)).squeeze(1)
        return -torch.log2(p.to(torch.float64))

    @property
    def bpc(self) -> float:
        return float(self.surprisal.mean()) if len(self.chars) > 1 else float("nan")

    def top(self, t: int, n: int = 5) -> list[tuple[str, float]]:
        """The ``n`` likeliest next characters after position t, with their probabilities."""
        p, i = self.probs[t].topk(n)
        return [(VOCAB[int(j)], float(x)) for x, j in zip(p, i)]


@torch.no_grad()
def read(model: CharModel, text: str) -> Reading:
    """Read ``text`` (normalised like the corpus; 1 to ``MAX_READ`` characters) with ``model`` (see module)."""
    if not isinstance(model, CharModel):
        raise ValueError(f"model must be a fwp_core.language CharModel, got {type(model).__name__}")
    chars = check_text(text, 1)
    if len(chars) > MAX_READ:
        raise ValueError(f"the text has {len(chars)} characters after normalisation; read takes at most {MAX_READ}")
    ids = encode(chars)
    dev = model.embed.weight.device
    was = model.training
    model.eval()
    x = model.embed(ids[None].to(dev))
    traces: list[Trace] = []
    attention: list[torch.Tensor] = []
    for block in model.blocks:
        mixer = block.mixer
        p = mixer.programme(block.ln1(x))
        one = {k: None if v is None else v[0] for k, v in p.items()}  # batch of one: heads become the batch
        if mixer.rule is None:
            form = softmax_attention(one["q"], one["k"], one["v"], scale=model.config.d_head ** -0.5)
            y = form.outputs
            attention.append(form.attention)
        else:
            trace = mixer.rule.run(one["q"], one["k"], one["v"], beta=one["beta"], gate=one["gate"])
            traces.append(trace)
            y = trace.outputs
            if mixer.rule.has_parallel:
                attention.append(mixer.rule.parallel(one["q"], one["k"], one["v"], beta=one["beta"], gate=one["gate"]).attention)
        x = x + mixer.combine(y[None])
        x = x + block.mlp(block.ln2(x))
    probs = F.softmax(model.readout(model.ln_f(x))[0].float(), dim=-1)
    model.train(was)
    has_attention = len(attention) == len(model.blocks)
    return Reading(chars, ids, probs.cpu(), traces or None, attention if has_attention else None, model.config.rule)
