"""The programmers the app ships, and the script that trains them.

    python -m fwp_core.programmer.pretrain            # retrain every entry of SHIPPED, rewrite the files
    python -m fwp_core.programmer.pretrain --check    # retrain, compare with the recorded scores, write nothing
    python -m fwp_core.programmer.pretrain --missing  # train only the entries the manifest lacks, keep the rest

Each entry of ``SHIPPED`` is trained by ``train`` with the task's default steps and seed 0 (deterministic:
local generators only), saved weights-only with ``save`` (read back with ``torch.load(weights_only=True)``)
under ``pretrained/``, and recorded in ``pretrained/manifest.json`` with its training history and its
score at the task's training and test lengths. ``shipped(...)`` returns the recorded run as a
``TrainResult`` so that the app can show a trained programmer before anyone presses Train.
Never imports Streamlit or Plotly.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .io import load, save
from .tasks import get_task
from .train import History, TrainResult, evaluate, train

DIR = Path(__file__).resolve().parent / "pretrained"
MANIFEST = DIR / "manifest.json"
SEED = 0
EVAL_N = 512
"""Sequences each recorded score is measured on (``evaluate``'s default seed)."""
CHECK_TOLERANCE = 0.02
"""How far a retrained programmer's score may be from the recorded one (float summation order differs
between CPUs, so retraining is reproducible to about this, not bit for bit)."""


@dataclass(frozen=True)
class Entry:
    """One shipped programmer: what it is trained on and why it is shipped."""

    task: str
    rule: str
    kind: str
    beta_max: float
    why: str

    @property
    def steps(self) -> int:
        return int(get_task(self.task).defaults["steps"])

    @property
    def file(self) -> str:
        return f"{self.task}__{self.rule}__{self.kind}__beta{self.beta_max:g}.pt"

    @property
    def lengths(self) -> tuple[int, ...]:
        spec = get_task(self.task)
        return tuple(sorted({spec.train_lengths[1], spec.eval_length}))


SHIPPED: tuple[Entry, ...] = (
    Entry("parity", "delta", "linear", 2.0, "the page's default: reflections (β up to 2) track parity"),
    Entry("parity", "delta", "linear", 1.0, "the same with β ∈ (0, 1): no reflection, parity is lost"),
    Entry("modular_count", "delta", "linear", 2.0, "one reflection per token is not enough to count mod 3 in one layer"),
    Entry("modular_count", "delta_product", "linear", 2.0, "two generalised Householder factors per token count mod 3"),
    Entry("associative_recall", "delta", "linear", 2.0, "recall of key→value pairs written in context"),
    Entry("regression", "delta", "linear", 2.0, "in-context linear regression against least squares"),
    Entry("parity", "delta", "recurrent", 2.0, "expressivity: the slow net also sees its last output"),
    Entry("parity", "delta", "self_referential", 2.0, "expressivity: one matrix that programmes itself"),
    Entry("modular_count", "delta", "recurrent", 2.0, "expressivity: recurrence in the slow net"),
    Entry("modular_count", "delta", "self_referential", 2.0, "expressivity: a self-referential weight matrix"),
)
EXPRESSIVITY_TASKS = ("parity", "modular_count")
"""The tasks the Programmer page compares programmer kinds on (every kind of each is shipped)."""


def _record(entry: Entry, result: TrainResult) -> dict[str, Any]:
    return {
        "file": entry.file, "task": entry.task, "rule": entry.rule, "kind": entry.kind, "beta_max": entry.beta_max,
        "steps": result.steps, "seed": result.seed, "seconds": round(result.seconds, 2), "why": entry.why,
        "metric_name": result.history.metric_name, "torch": torch.__version__,
        "scores": {str(L): evaluate(result.model, entry.task, length=L, n=EVAL_N) for L in entry.lengths},
        "loss": [round(x, 6) for x in result.history.loss],
        "metric": [round(x, 6) for x in result.history.metric],
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in result.settings.items()},
    }


def train_entry(entry: Entry) -> TrainResult:
    return train(entry.task, entry.rule, kind=entry.kind, beta_range=(0.0, entry.beta_max), seed=SEED)


@functools.lru_cache(maxsize=1)
def manifest() -> dict[str, dict[str, Any]]:
    """The recorded runs, by file name ({} where nothing was pretrained)."""
    if not MANIFEST.is_file():
        return {}
    return {rec["file"]: rec for rec in json.loads(MANIFEST.read_text())["programmers"]}


def find(task: str, rule: str, kind: str, beta_max: float, steps: int, seed: int) -> Entry | None:
    """The shipped entry for exactly this configuration, or None."""
    for e in SHIPPED:
        if (e.task, e.rule, e.kind, float(e.beta_max), e.steps, SEED) == (task, rule, kind, float(beta_max), steps, seed):
            return e if e.file in manifest() else None
    return None


@functools.lru_cache(maxsize=len(SHIPPED))
def _load(entry: Entry) -> TrainResult:
    rec = manifest()[entry.file]
    model = load(DIR / entry.file)
    hist = History(metric_name=rec["metric_name"], loss=list(rec["loss"]))
    (hist.accuracy if rec["metric_name"] == "accuracy" else hist.error_ratio).extend(rec["metric"])
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in rec["settings"].items()}
    return TrainResult(model, hist, model.config, rec["seed"], rec["steps"], rec["seconds"], settings)


def shipped(task: str, rule: str, kind: str, beta_max: float, steps: int, seed: int) -> TrainResult | None:
    """The shipped, already trained programmer for this configuration (None if there is none).
    Its ``seconds`` is the training time on the machine that ran the script."""
    entry = find(task, rule, kind, beta_max, steps, seed)
    return None if entry is None else _load(entry)


def recorded_scores(entry: Entry) -> dict[int, float]:
    return {int(L): float(s) for L, s in manifest()[entry.file]["scores"].items()}


def expressivity(task: str) -> list[dict[str, Any]]:
    """The shipped programmers of ``task`` with β ∈ (0, 2), one row per kind and rule: scores at the training and
    the test length (measured now, on EVAL_N fresh sequences), the recorded training time, and whether the fast
    net runs over all tokens at once (a linear programmer with a rule that has a parallel form) or must go token
    by token (a recurrent or self-referential programmer: each token's k, v, q depend on the step before)."""
    spec = get_task(task)
    rows = []
    for e in SHIPPED:
        if e.task != task or e.beta_max != 2.0 or e.file not in manifest():
            continue
        res = _load(e)
        rows.append({
            "kind": e.kind, "rule": e.rule,
            f"{spec.metric_name} at length {spec.train_lengths[1]}": evaluate(res.model, task, length=spec.train_lengths[1], n=EVAL_N),
            f"{spec.metric_name} at length {spec.eval_length}": evaluate(res.model, task, length=spec.eval_length, n=EVAL_N),
            "training time (s)": float(manifest()[e.file]["seconds"]),
            "all tokens at once": bool(res.model.uses_parallel),
        })
    return rows


def markdown_table() -> str:
    """The README's table of shipped programmers, from the manifest (a test keeps the README in sync)."""
    rows = ["| task (test length) | programmer | rule | β range | score | training time |", "|---|---|---|---|---:|---:|"]
    for e in SHIPPED:
        rec, spec = manifest()[e.file], get_task(e.task)
        score = recorded_scores(e)[spec.eval_length]
        name = "accuracy" if rec["metric_name"] == "accuracy" else rec["metric_name"]
        rows.append(f"| {spec.title} ({spec.eval_length}) | {e.kind} | {e.rule} | (0, {e.beta_max:g}) | {name} {score:.3f} | "
                    f"{rec['seconds']:.1f} s |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fwp_core.programmer.pretrain", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="retrain and compare with the recorded scores; write nothing")
    ap.add_argument("--missing", action="store_true", help="train only the entries the manifest lacks; keep the others")
    args = ap.parse_args(argv)
    records, failures = [], 0
    for entry in SHIPPED:
        if args.missing and entry.file in manifest():
            records.append(manifest()[entry.file])
            continue
        result = train_entry(entry)
        rec = _record(entry, result)
        line = f"{entry.file}: {result.seconds:.1f} s, " + ", ".join(f"{rec['metric_name']} at {L} = {s:.4f}" for L, s in rec["scores"].items())
        if args.check:
            old = recorded_scores(entry) if entry.file in manifest() else {}
            bad = [L for L, s in rec["scores"].items() if int(L) not in old or abs(s - old[int(L)]) > CHECK_TOLERANCE]
            failures += bool(bad)
            line += f"  recorded {old}: " + ("FAIL" if bad else "PASS")
        else:
            DIR.mkdir(exist_ok=True)
            save(result.model, DIR / entry.file)
            records.append(rec)
        print(line, flush=True)
    if not args.check:
        rows = ",\n".join(json.dumps(rec, ensure_ascii=False) for rec in records)  # one programmer per line
        MANIFEST.write_text(f'{{"seed": {SEED}, "eval_n": {EVAL_N}, "programmers": [\n{rows}\n]}}\n')
        manifest.cache_clear()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
