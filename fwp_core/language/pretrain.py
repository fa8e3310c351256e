"""The language models the app ships, and the script that trains them.

    python -m fwp_core.language.pretrain            # retrain every entry of SHIPPED, rewrite the files
    python -m fwp_core.language.pretrain --check    # retrain, compare with the recorded held-out bpc, write nothing
    python -m fwp_core.language.pretrain --missing  # train only the entries the manifest lacks, keep the rest

Each entry is trained by ``train`` with the defaults (seed 0, the default corpus), saved weights-only in
float16 under ``pretrained/`` and recorded in ``pretrained/manifest.json``: its history, its held-out bits per
character and copy gain measured on the model as loaded back from its file (so the record reproduces from the
file exactly), the training time, the config and settings, and which corpus it saw (``corpus_info``: the
docstrings depend on the Python version). Never imports Streamlit or Plotly.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .corpus import bigram_entropy, corpus_info
from .io import load, save
from .model import CharModel
from .train import bits_per_char, copy_gain, train

DIR = Path(__file__).resolve().parent / "pretrained"
MANIFEST = DIR / "manifest.json"
SEED = 0
CHECK_TOLERANCE = 0.05
"""How far a retrained model's held-out bpc may be from the recorded one (float summation order differs
between CPUs and thread counts, so retraining is reproducible to about this, not bit for bit)."""


@dataclass(frozen=True)
class Entry:
    rule: str
    why: str

    @property
    def file(self) -> str:
        return f"{self.rule}.pt"


SHIPPED: tuple[Entry, ...] = (
    Entry("softmax", "the baseline: causal softmax attention, whose memory is every key and value so far"),
    Entry("linear_attention", "the normalised linear transformer: additive fast weights"),
    Entry("delta", "DeltaNet: error-correcting writes"),
    Entry("gated_delta", "Gated DeltaNet: forgetting and correcting together"),
)


def _round(x: float) -> float:
    return round(float(x), 6)


def record(entry: Entry, result: Any, model: CharModel) -> dict[str, Any]:
    """The manifest line of ``entry``: ``model`` is the trained model as loaded back from its file."""
    g = copy_gain(model)
    return {
        "file": entry.file, "rule": entry.rule, "why": entry.why, "seed": SEED,
        "val_bpc": _round(bits_per_char(model)), "seconds": round(result.seconds, 2),
        "copy_gain": {"first": _round(g.first), "second": _round(g.second), "gain": _round(g.gain), "words": g.words},
        "config": model.config.to_dict(), "settings": result.settings, "torch": torch.__version__,
        "history": [{k: (int(v) if k == "step" else _round(v)) for k, v in h.items()} for h in result.history],
    }


@functools.lru_cache(maxsize=1)
def manifest_info() -> dict[str, Any]:
    """The whole manifest ({} where nothing was pretrained)."""
    return json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}


def manifest() -> dict[str, dict[str, Any]]:
    """The recorded models, by file name."""
    return {rec["file"]: rec for rec in manifest_info().get("models", [])}


@functools.lru_cache(maxsize=len(SHIPPED))
def _load(file: str) -> CharModel:
    return load(DIR / file)


def shipped(rule: str) -> CharModel | None:
    """The shipped, already trained model whose mixer is ``rule`` (None if none is shipped). Its record
    (history, held-out bpc, seconds) is ``manifest()[f"{rule}.pt"]``."""
    entry = next((e for e in SHIPPED if e.rule == rule), None)
    return None if entry is None or entry.file not in manifest() else _load(entry.file)


def markdown_table() -> str:
    """A README table of the shipped models, from the manifest."""
    info = manifest_info()
    rows = ["| mixer | held-out bpc | copy gain (first → second occurrence) | training time |", "|---|---:|---:|---:|"]
    for e in SHIPPED:
        rec = manifest()[e.file]
        g = rec["copy_gain"]
        rows.append(f"| {e.rule} | {rec['val_bpc']:.3f} | {g['first']:.2f} → {g['second']:.2f} ({g['gain']:+.2f}) | "
                    f"{rec['seconds']:.0f} s |")
    rows.append(f"| bigram (held-out) | {info['bigram_entropy']:.3f} | | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fwp_core.language.pretrain", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="retrain and compare with the recorded bpc; write nothing")
    ap.add_argument("--missing", action="store_true", help="train only the entries the manifest lacks; keep the others")
    args = ap.parse_args(argv)
    records, failures = [], 0
    for entry in SHIPPED:
        if args.missing and entry.file in manifest():
            records.append(manifest()[entry.file])
            continue
        result = train(entry.rule, seed=SEED, device="cpu")
        path = DIR / entry.file
        if args.check:
            buf = io.BytesIO()
            save(result.model, buf, dtype=torch.float16)
            model = load(buf.getvalue())
        else:
            DIR.mkdir(exist_ok=True)
            save(result.model, path, dtype=torch.float16)
            model = load(path)
        rec = record(entry, result, model)
        line = f"{entry.file}: {result.seconds:.1f} s, held-out bpc {rec['val_bpc']:.4f}, copy gain {rec['copy_gain']['gain']:+.3f}"
        if args.check:
            old = manifest().get(entry.file, {}).get("val_bpc")
            bad = old is None or abs(rec["val_bpc"] - old) > CHECK_TOLERANCE
            failures += bad
            line += f"  recorded {old}: " + ("FAIL" if bad else "PASS")
        else:
            records.append(rec)
        print(line, flush=True)
    if not args.check:
        head = {"seed": SEED, "corpus": corpus_info(), "bigram_entropy": _round(bigram_entropy()),
                "bigram_entropy_in_sample": _round(bigram_entropy(in_sample=True))}
        rows = ",\n".join(json.dumps(rec) for rec in records)  # one model per line
        MANIFEST.write_text(json.dumps(head)[:-1] + f', "models": [\n{rows}\n]}}\n')
        manifest_info.cache_clear()
        _load.cache_clear()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
