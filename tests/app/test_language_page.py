"""The Language page (pages/language.py): shipped models on arrival, their numbers from their files, one sentence read
by every model, your own text checked, training through the server's queue (a handful of steps only)."""

from __future__ import annotations

import pytest
import torch

from app import language_view as view
from fwp_core import language as lm
from fwp_core.language import pretrain
from tests.helpers import chart, decode, no_errors, open_page

TIMEOUT = 300


def models_table(at):
    """The page's table of trained models (index: the mixer)."""
    return next(df.value for df in at.dataframe if "held-out bits/char" in df.value.columns)
SHIPPED = [e.rule for e in pretrain.SHIPPED]


def test_the_page_opens_with_the_shipped_models_and_their_numbers() -> None:
    at = open_page("language", TIMEOUT)
    no_errors(at)
    curves = chart(at, "lang_curves")
    names = {tr["name"] for tr in curves["data"] if tr.get("showlegend", True) is not False}
    assert names == set(SHIPPED)
    table = models_table(at)
    for rule in SHIPPED:
        rec = pretrain.manifest()[f"{rule}.pt"]
        assert table.loc[rule, "held-out bits/char"] == pytest.approx(rec["val_bpc"])
        assert table.loc[rule, "second occurrence"] == pytest.approx(rec["copy_gain"]["second"])
        drawn = next(tr for tr in curves["data"] if tr["name"] == rule)
        assert list(decode(drawn["y"])) == pytest.approx([h["val_bpc"] for h in rec["history"]])
    assert not [b for b in at.button if b.key == "lang_train"]  # nothing to train on arrival


def test_each_model_reads_the_sentence_as_the_core_does() -> None:
    at = open_page("language", TIMEOUT, lang_t="30")
    no_errors(at)
    chars = lm.normalize_text(at.text_input(key="lang_text").value)
    for rule in SHIPPED:
        rd = lm.read(pretrain.shipped(rule), chars)
        p = float(rd.probs[29, lm.VOCAB.index(chars[30])])
        line = next(m.value for m in at.markdown if m.value.startswith(f"**{rule}**"))
        assert f"= **{p:.3f}**" in line, (rule, line)
        top = chart(at, f"lang_pred_{rule}")["data"][0]
        assert decode(top["x"])[-1] == pytest.approx(rd.top(29)[0][1])  # the likeliest character, drawn at the top
    mem = chart(at, "lang_mem_delta")["data"][0]
    W = lm.read(pretrain.shipped("delta"), chars).traces[-1].weights[0, 30].numpy()
    assert torch.allclose(torch.from_numpy(decode(mem["z"])).double(), torch.from_numpy(W).double(), atol=1e-6)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"", "is empty"),
    ("bin.txt", b"\x00\x01\x02" * 1000, "binary"),
    ("latin.txt", b"caf\xe9 " * 1000, "not UTF-8"),
    ("short.txt", b"a few words", "at least 2000 are needed"),
    ("big.txt", b"a" * (view.MAX_UPLOAD_BYTES + 1), "at most 2,000,000"),
])
def test_your_own_text_is_checked_with_a_clear_message(name: str, data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        view.own_text(name, data)


def test_pasted_text_too_short_is_refused_on_the_page() -> None:
    at = open_page("language", TIMEOUT, lang_source="your text")
    at.text_area(key="lang_own_text").input("only a short paragraph").run()
    assert any("This text cannot be used" in e.value and "at least 2000" in e.value for e in at.error)
    assert not at.exception


def test_training_states_its_cost_then_runs_through_the_queue_and_is_shared() -> None:
    at = open_page("language", TIMEOUT, lang_rules=["hebbian", "delta"], lang_softmax="false", lang_steps="10")
    no_errors(at)
    cost = next(c.value for c in at.caption if c.value.startswith("Not trained yet"))
    assert "hebbian" in cost and "delta" in cost and " s" in cost
    at.button(key="lang_train").click().run(timeout=TIMEOUT)
    no_errors(at)
    table = models_table(at)
    assert set(table.index) == {"hebbian", "delta"} and set(table["from"]) == {"trained on this server"}
    # another session with the same settings finds them trained: identical configurations train once
    other = open_page("language", TIMEOUT, lang_rules=["hebbian", "delta"], lang_softmax="false", lang_steps="10")
    assert not [b for b in other.button if b.key == "lang_train"]
    assert set(models_table(other)["from"]) == {"trained on this server"}


def test_a_bad_url_says_what_is_allowed() -> None:
    at = open_page("language", TIMEOUT, lang_steps="3", lang_rules=["delta", "nope"])
    assert any("lang_steps='3' is out of range" in w.value for w in at.warning)
    assert any("nope not known" in w.value for w in at.warning)


def test_the_readme_table_of_shipped_models_is_the_manifests() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert pretrain.markdown_table() in readme
