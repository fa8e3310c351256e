"""Train a character-level language model with every mixer at the defaults and compare them (run by hand).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_language.py                      # every rule + softmax
    PYTHONPATH=. .venv/bin/python benchmarks/bench_language.py --rules delta softmax
    PYTHONPATH=. .venv/bin/python benchmarks/bench_language.py --steps 300          # a quicker, weaker run

Every model is ``fwp_core.language.train(rule)`` with the defaults (seed 0, the default corpus: Python's
docstrings), measured on the held-out part: bits per character, and the copy gain (bits per character on a
word's first occurrence in a window minus on its second: what the memory buys). Targets (issue #19):
  delta: training time < 180 s on this machine's CPUs (2 threads unless --threads says otherwise)
  delta: held-out bits per character < the bigram entropy (add-½ bigram fitted on the training part)
The load average is printed: other processes on a shared machine change the times. A markdown table for the
README is printed last.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from fwp_core import language as lm  # noqa: E402

TIME_LIMIT_S = 180.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", nargs="+", default=None, help=f"mixers to train (default: all of {', '.join(lm.mixer_names())})")
    ap.add_argument("--steps", type=int, default=None, help=f"training steps (default {lm.DEFAULTS['steps']})")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rules = args.rules or lm.mixer_names()
    unknown = [r for r in rules if r not in lm.mixer_names()]
    if unknown:
        ap.error(f"unknown mixer(s) {', '.join(unknown)}; choose from {', '.join(lm.mixer_names())}")
    torch.set_num_threads(args.threads)
    info = lm.corpus_info()
    h_bigram, h_in = lm.bigram_entropy(), lm.bigram_entropy(in_sample=True)
    print(f"torch {torch.__version__}, Python {info['python']}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"corpus: {info['chars']} characters ({info['train_chars']} train, {info['val_chars']} held out), "
          f"V = {lm.V}, uniform {torch.log2(torch.tensor(float(lm.V))):.3f} bits")
    print(f"bigram entropy: {h_bigram:.3f} bits per character on held-out text (in-sample H(X_t | X_t-1) {h_in:.3f})")
    head = f"{'mixer':<18}{'held-out bpc':>13}{'train bpc':>11}{'seconds':>9}{'copy: 1st':>11}{'2nd':>7}{'gain':>7}{'words':>7}  load"
    print(head + "\n" + "-" * len(head), flush=True)
    rows = []
    for rule in rules:
        t0 = time.perf_counter()
        res = lm.train(rule, steps=args.steps, seed=args.seed, device="cpu")
        wall = time.perf_counter() - t0
        g = lm.copy_gain(res.model)
        h = res.history[-1]
        rows.append((rule, h["val_bpc"], h["train_bpc"], res.seconds, g, res.skipped))
        skipped = f"  ({res.skipped} steps skipped)" if res.skipped else ""
        print(f"{rule:<18}{h['val_bpc']:>13.3f}{h['train_bpc']:>11.3f}{res.seconds:>9.1f}{g.first:>11.2f}{g.second:>7.2f}"
              f"{g.gain:>+7.2f}{g.words:>7}  {os.getloadavg()[0]:.2f}{skipped}  (wall {wall:.0f} s)", flush=True)
    failures = 0
    delta = next((r for r in rows if r[0] == "delta"), None)
    if delta is not None:
        ok_t, ok_b = delta[3] < TIME_LIMIT_S, delta[1] < h_bigram
        failures += (not ok_t) + (not ok_b)
        print(f"\n{'PASS' if ok_t else 'FAIL'}: delta trains in {delta[3]:.1f} s (target < {TIME_LIMIT_S:.0f} s)")
        print(f"{'PASS' if ok_b else 'FAIL'}: delta held-out {delta[1]:.3f} bits per character < bigram entropy {h_bigram:.3f}")
    else:
        print("\n(delta not in --rules: no PASS / FAIL lines)")
    steps = lm.DEFAULTS["steps"] if args.steps is None else args.steps
    print(f"\nMarkdown (seed {args.seed}, {steps} steps, {torch.get_num_threads()} threads, CPU):\n")
    print("| mixer | held-out bits per character | training time | copy gain: first → second occurrence (bits per character) |")
    print("|---|---:|---:|---:|")
    for rule, val, _, sec, g, _ in rows:
        print(f"| `{rule}` | {val:.3f} | {sec:.0f} s | {g.first:.2f} → {g.second:.2f} ({g.gain:+.2f}) |")
    print(f"| bigram (add-½, fitted on the training part) | {h_bigram:.3f} | | |")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
