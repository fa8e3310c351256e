"""The shipped programmers: every entry has its weights-only file and its record; each file loads with
torch.load(weights_only=True) and scores what the manifest says; retraining one reproduces its score."""

from __future__ import annotations

import pytest
import torch

from fwp_core import programmer as prog
from fwp_core.programmer import pretrain


def test_every_shipped_entry_has_a_file_and_a_record() -> None:
    recorded = pretrain.manifest()
    assert set(recorded) == {e.file for e in pretrain.SHIPPED}
    for e in pretrain.SHIPPED:
        rec = recorded[e.file]
        assert (rec["task"], rec["rule"], rec["kind"], rec["beta_max"], rec["steps"], rec["seed"]) == (
            e.task, e.rule, e.kind, e.beta_max, e.steps, pretrain.SEED)
        assert len(rec["loss"]) == len(rec["metric"]) == e.steps
        assert (pretrain.DIR / e.file).stat().st_size < 64 * 1024  # small files


@pytest.mark.parametrize("entry", pretrain.SHIPPED, ids=lambda e: e.file)
def test_shipped_file_is_weights_only_and_scores_as_recorded(entry: pretrain.Entry) -> None:
    raw = torch.load(pretrain.DIR / entry.file, weights_only=True)  # plain tensors and a config dict: nothing to unpickle
    assert set(raw) == {"format", "version", "config", "state_dict"}
    result = pretrain.shipped(entry.task, entry.rule, entry.kind, entry.beta_max, entry.steps, pretrain.SEED)
    assert result is not None and result.config.rule == entry.rule and result.config.beta_max == entry.beta_max
    for L, score in pretrain.recorded_scores(entry).items():
        assert prog.evaluate(result.model, entry.task, length=L, n=pretrain.EVAL_N) == pytest.approx(score, abs=2e-3)


def test_what_the_shipped_programmers_show() -> None:
    """The facts the page's choice of shipped programmers rests on, read from the recorded scores."""
    score = {(e.task, e.kind, e.rule, e.beta_max): pretrain.recorded_scores(e)[prog.get_task(e.task).eval_length]
             for e in pretrain.SHIPPED}
    assert len(score) == len(pretrain.SHIPPED)
    assert score[("parity", "linear", "delta", 2.0)] > 0.99 and score[("parity", "linear", "delta", 1.0)] < 0.6
    assert score[("modular_count", "linear", "delta_product", 2.0)] > 0.99
    assert score[("modular_count", "linear", "delta", 2.0)] < 0.5


def test_retraining_the_default_programmer_reproduces_its_recorded_accuracy() -> None:
    entry = pretrain.SHIPPED[0]
    assert (entry.task, entry.rule, entry.beta_max) == ("parity", "delta", 2.0)
    result = pretrain.train_entry(entry)
    for L, score in pretrain.recorded_scores(entry).items():
        got = prog.evaluate(result.model, entry.task, length=L, n=pretrain.EVAL_N)
        assert abs(got - score) <= pretrain.CHECK_TOLERANCE, (L, got, score)


def test_no_shipped_programmer_for_other_configurations() -> None:
    assert pretrain.shipped("parity", "delta", "linear", 2.0, 1500, 1) is None  # another seed
    assert pretrain.shipped("parity", "delta", "linear", 2.0, 1000, 0) is None  # other steps
    assert pretrain.shipped("parity", "hebbian", "linear", 2.0, 1500, 0) is None


def test_readme_table_of_shipped_programmers_is_the_manifest() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert pretrain.markdown_table() in readme
