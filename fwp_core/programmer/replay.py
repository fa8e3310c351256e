"""Stepping through what a trained programmer writes: the episode it emits for one test sequence, the fast-weight
trace of running it, which tokens it gets right, and each step's smallest eigenvalue. Pure (no Streamlit).

    batch = stepping_batch("parity", "0110", length=64, seed=1)
    r = replay(model, batch)        # r.episode, r.rule, r.trace (None if the first token already blew up), r.emitted
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import metrics
from ..registry import make_rule
from ..rules.base import Rule
from ..sequences import Episode
from ..trace import Trace
from .models import FastWeightProgrammer
from .tasks import TaskBatch, encode_bits, get_task, sample


@dataclass(frozen=True)
class Replay:
    episode: Episode  # one sequence: its finite leading tokens (a self-referential programmer can blow up)
    rule: Rule
    trace: Trace | None  # the fast weights over those tokens; None when not even the first token is finite
    emitted: int  # how many tokens the programmer emitted in all
    logits: torch.Tensor  # (T, n_out) the readout for every emitted token


def stepping_batch(task: str, bits: str, length: int, seed: int) -> TaskBatch:
    """The sequence to step through: the typed bits for a bit task, else a seeded sample of ``length``."""
    if get_task(task).symbols:
        return encode_bits(task, bits)
    return sample(task, length, n=1, seed=seed, labels=True)


def finite_prefix(ep: Episode) -> int:
    """How many leading tokens of ``ep`` hold only finite numbers in q, k, v, β and the gate."""
    ok = None
    for x in (ep.q, ep.k, ep.v, ep.beta, ep.gate):
        if x is not None:
            fin = torch.isfinite(x.reshape(x.shape[0], -1)).all(-1)  # (T,)
            ok = fin if ok is None else ok & fin
    bad = torch.nonzero(~ok)
    return int(bad[0, 0]) if len(bad) else int(ok.shape[0])


def _prefix(ep: Episode, n: int) -> Episode:
    cut = lambda x: None if x is None else x[:n]  # noqa: E731
    return Episode(q=ep.q[:n], k=ep.k[:n], v=ep.v[:n], beta=cut(ep.beta), gate=cut(ep.gate), tokens=tuple(ep.tokens[:n]),
                   meta=ep.meta)


def replay(model: FastWeightProgrammer, batch: TaskBatch) -> Replay:
    """The episode ``model`` emits for the first sequence of ``batch`` (up to its first non-finite token) and the
    trace of the model's own rule over it, from the model's initial state."""
    ep = model.programme(batch)
    one = Episode(q=ep.q[0], k=ep.k[0], v=ep.v[0], beta=None if ep.beta is None else ep.beta[0],
                  gate=None if ep.gate is None else ep.gate[0], tokens=batch.labels[0] if batch.labels else (), meta=ep.meta)
    emitted = int(one.q.shape[0])
    n = finite_prefix(one)
    one = one if n == emitted else _prefix(one, n)
    rule = make_rule(ep.meta["rule"], **ep.meta["rule_hparams"])
    trace = rule.run(one.q, one.k, one.v, **one.run_kwargs(), initial_state=ep.meta.get("initial_state")) if n else None
    logits = ep.meta["logits"][0] if ep.meta["logits"].dim() == 3 else ep.meta["logits"]
    return Replay(one, rule, trace, emitted, logits)


def correctness(r: Replay, batch: TaskBatch) -> np.ndarray:
    """1 / 0 per scored token (right / wrong prediction), NaN elsewhere and for regression tasks."""
    mask = batch.mask[0].numpy()
    out = np.full(mask.shape, np.nan)
    if batch.targets.dim() == 2:
        pred = r.logits.argmax(-1).numpy()
        out[mask] = (pred == batch.targets[0].numpy())[mask].astype(float)
    return out


def min_real_eigs(r: Replay) -> np.ndarray:
    """The smallest real part of each valid step's transition eigenvalues (empty where nothing is finite)."""
    if r.trace is None:
        return np.array([])
    return np.array([float(metrics.transition_eigenvalues(r.rule, r.trace, t).real.min())
                     for t in range(1, r.trace.valid_steps + 1)])
