"""The language models of fwp_core.language: the corpus, the model's forms, bits per character, saving, the
shipped models. Training here takes a handful of steps on tiny models; the benchmark trains for real."""

from __future__ import annotations

import io
import math

import pytest
import torch

import fwp_core
from fwp_core import language as lm
from fwp_core.language import pretrain

TINY = {"d_model": 16, "d_head": 8, "n_heads": 2, "context": 16, "batch": 4, "chunk": 4}
SMALL = lm.default_corpus()[:20_000]  # its held-out part (2,000 characters) keeps each evaluation short


def tiny(rule: str = "delta", steps: int = 2, seed: int = 0, **kw) -> lm.TrainResult:
    return lm.train(rule, steps=steps, seed=seed, device="cpu", **{"text": SMALL, **TINY, **kw})


# ------------------------------------------------------------------------- corpus
def test_default_corpus_is_long_prose_in_the_vocabulary_and_deterministic() -> None:
    text = lm.default_corpus()
    assert len(text) >= 100_000
    assert set(text) <= set(lm.VOCAB) and len(lm.VOCAB) == lm.V == 96 and len(set(lm.VOCAB)) == lm.V
    letters = sum(c.isalpha() or c == " " for c in text) / len(text)
    assert letters > 0.8  # mostly letters and spaces
    assert "  " not in text and "\n\n\n" not in text
    lm.default_corpus.cache_clear()
    lm.corpus._all.cache_clear()
    assert lm.default_corpus() == text  # rebuilt from the standard library: the same characters
    train, val = lm.default_corpus("train"), lm.default_corpus("val")
    assert (train, val) == lm.split_corpus(text)
    assert len(train) + len(val) == len(text) and 0.08 < len(val) / len(text) < 0.12
    with pytest.raises(ValueError, match="part"):
        lm.default_corpus("test")


def test_split_interleaves_blocks_and_normalisation_maps_onto_the_vocabulary() -> None:
    text = "".join(chr(ord("a") + i % 26) * lm.corpus.BLOCK for i in range(40))
    train, val = lm.split_corpus(text, held_out=0.25)
    assert len(val) == 10 * lm.corpus.BLOCK and set(val) == {chr(ord("a") + i % 26) for i in range(3, 40, 4)}
    assert lm.normalize_text("caf\u00e9 \u2014 \u201cquoted\u201d\t x   y \r\n\n\n\nz") == 'cafe - "quoted" x y\n\nz'
    with pytest.raises(ValueError, match="fraction"):
        lm.split_corpus(text, held_out=1.0)


def test_bigram_entropy_is_below_uniform_and_above_its_in_sample_value() -> None:
    h = lm.bigram_entropy()
    h_in = lm.bigram_entropy(in_sample=True)
    assert 2.0 < h_in < h < math.log2(lm.V)
    assert lm.bigram_entropy("ab" * 5000) < 0.02 and lm.bigram_entropy("ab" * 5000, in_sample=True) == 0.0


# ------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("text, match", [
    ("", "empty"), ("   \n ", "empty"), ("".join(chr(i % 32) for i in range(5000)), "does not look like text"),
    (b"bytes are not text" * 500, "must be a str"), ("too short", "too short"), (12345, "must be a str"),
])
def test_bad_text_is_refused(text, match) -> None:
    with pytest.raises(ValueError, match=match):
        tiny(text=text)


@pytest.mark.parametrize("rule, kw, match", [
    ("nonsense", {}, "unknown mixer"), ("delta", {"d_model": 0}, "d_model"), ("delta", {"context": 2.5}, "context"),
    ("delta", {"widht": 3}, "unknown setting"), ("delta", {"lr": -1.0}, "lr"), ("delta", {"n_h": 2}, "sub-steps"),
    ("softmax", {"rule_hparams": {"normalize": "l2"}}, "softmax"), ("delta", {"rule_hparams": {"gamma": 0.5}}, "gamma"),
    ("delta", {"device": "tpu"}, "device"), ("delta", {"progress": 3}, "progress"), ("delta", {"seed": -1}, "seed"),
])
def test_bad_settings_are_refused(rule, kw, match) -> None:
    with pytest.raises(ValueError, match=match):
        lm.train(rule, steps=1, **{**TINY, **kw})


# ------------------------------------------------------------------------- every mixer
def test_every_registered_rule_and_softmax_trains() -> None:
    names = lm.mixer_names()
    assert names == [*fwp_core.RULES, "softmax"]
    for rule in names:
        entries = []
        res = tiny(rule, progress=lambda s, n, e: entries.append((s, n, e)))
        assert [s for s, _, _ in entries] == [1, 2] and entries[-1][2] is res.history[-1]
        h = res.history[-1]
        assert set(h) >= {"step", "train_bpc", "val_bpc", "seconds"} and h["step"] == 2
        assert math.isfinite(h["val_bpc"]) and res.skipped == 0, rule
        assert h["val_bpc"] == pytest.approx(lm.bits_per_char(res.model, lm.split_corpus(SMALL)[1]), abs=1e-9)
        r = lm.read(res.model, "Return the value.")
        assert r.probs.shape == (17, lm.V) and (r.traces is None) == (rule == "softmax")
        assert (r.attention is None) == (rule != "softmax" and not fwp_core.RULES[rule].has_parallel)


@pytest.mark.parametrize("rule", lm.mixer_names())
def test_the_mixer_the_model_trains_with_is_the_token_loop(rule: str) -> None:
    """In float64, the mixer's training path (chunked where the rule has it) gives the outputs of the rule's
    recurrent ``run`` on the same q, k, v, β, gate, and the whole model's logits and gradients agree."""
    model = lm.CharModel(lm.make_config(rule, **{k: TINY[k] for k in ("d_model", "d_head", "context", "chunk")}),
                         torch.Generator().manual_seed(3)).double()
    ids = torch.randint(0, lm.V, (2, 16), generator=torch.Generator().manual_seed(4))
    mixer = model.blocks[0].mixer
    p = mixer.programme(model.blocks[0].ln1(model.embed(ids)))
    fast = mixer.mix(p)
    if mixer.rule is not None:
        ref = mixer.rule.run(p["q"], p["k"], p["v"], beta=p["beta"], gate=p["gate"]).outputs
        assert (fast - ref).abs().max() < 1e-9
        if mixer.rule.has_parallel:
            assert (mixer.mix(p, "parallel") - ref).abs().max() < 1e-9
    grads = []
    for form in ("auto", "run"):
        model.zero_grad()
        logits = model(ids, form)
        logits.sin().sum().backward()
        grads.append((logits.detach(), torch.cat([q.grad.flatten() for q in model.parameters()])))
    assert (grads[0][0] - grads[1][0]).abs().max() < 1e-9
    assert (grads[0][1] - grads[1][1]).abs().max() < 1e-8


def test_reading_records_traces_probabilities_and_attention() -> None:
    res = tiny("gated_delta")
    text = "The delta rule corrects what the memory got wrong."
    r = lm.read(res.model, text)
    T, H = len(text), TINY["n_heads"]
    assert r.chars == text and r.ids.shape == (T,) and r.probs.shape == (T, lm.V)
    assert torch.allclose(r.probs.sum(-1), torch.ones(T), atol=1e-5)
    assert len(r.traces) == len(r.attention) == res.config.n_layers
    for trace, A in zip(r.traces, r.attention):
        assert trace.weights.shape == (H, T + 1, TINY["d_head"], TINY["d_head"]) and trace.diverged_at is None
        assert A.shape == (H, T, T)
    logits = res.model(r.ids[None])[0]  # the training path gives the same predictions
    assert torch.allclose(torch.softmax(logits, -1), r.probs, atol=1e-5)
    assert r.bpc == pytest.approx(float(r.surprisal.mean())) and len(r.top(0, 3)) == 3
    soft = lm.read(tiny("softmax").model, text)
    assert soft.traces is None and soft.attention[0].shape == (H, T, T)
    assert lm.read(tiny("oja").model, text).attention is None
    with pytest.raises(ValueError, match="at most"):
        lm.read(res.model, "x" * (lm.MAX_READ + 1))


# ------------------------------------------------------------------------- measures
def test_a_uniform_model_scores_log2_of_the_vocabulary() -> None:
    model = tiny().model
    with torch.no_grad():
        model.readout.weight.zero_()
        model.readout.bias.zero_()
    assert abs(lm.bits_per_char(model) - math.log2(lm.V)) < 1e-6
    gain = lm.copy_gain(model)
    assert gain.words > 0 and gain.first == pytest.approx(gain.second) and abs(gain.gain) < 1e-9


def test_copy_gain_counts_second_occurrences_in_the_window() -> None:
    model = tiny(context=64).model
    text = "alpha beta gamma alpha delta gamma " * 40
    g = lm.copy_gain(model, text)
    assert g.words > 0 and g.chars > 0 and math.isfinite(g.gain)
    with pytest.raises(ValueError, match="repeated"):
        lm.copy_gain(model, "one two six ten " * 3)


# ------------------------------------------------------------------------- determinism, saving
def test_training_is_deterministic_for_a_seed() -> None:
    a, b, c = tiny(seed=5), tiny(seed=5), tiny(seed=6)
    for (_, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y)
    assert [h["val_bpc"] for h in a.history] == [h["val_bpc"] for h in b.history]
    assert not torch.equal(a.model.embed.weight, c.model.embed.weight)


def test_save_load_round_trip_is_exact(tmp_path) -> None:
    model = tiny("gla").model
    path = tmp_path / "m.pt"
    lm.save(model, path)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"format", "version", "config", "state_dict"}
    back = lm.load(path)
    assert back.config == model.config
    for (k, x), (k2, y) in zip(model.state_dict().items(), back.state_dict().items()):
        assert k == k2 and torch.equal(x, y)
    assert lm.bits_per_char(back, SMALL) == lm.bits_per_char(model, SMALL)
    buf = io.BytesIO()
    lm.save(model, buf)
    assert lm.load(buf.getvalue()).config == model.config
    for bad in (b"", b"not a torch file", str(tmp_path / "missing.pt")):
        with pytest.raises(ValueError):
            lm.load(bad)


# ------------------------------------------------------------------------- shipped models
def test_shipped_models_load_and_reproduce_their_recorded_bpc() -> None:
    info = pretrain.manifest_info()
    recorded = pretrain.manifest()
    assert set(recorded) == {e.file for e in pretrain.SHIPPED}
    total = 0
    for e in pretrain.SHIPPED:
        path = pretrain.DIR / e.file
        total += path.stat().st_size
        raw = torch.load(path, weights_only=True)
        assert raw["format"] == lm.FORMAT
        rec = recorded[e.file]
        model = pretrain.shipped(e.rule)
        assert model is not None and model.config.rule == e.rule == rec["rule"]
        assert abs(rec["history"][-1]["val_bpc"] - rec["val_bpc"]) < 0.01  # float16 weights: as good as the model trained
        if info["corpus"]["sha256"] == lm.corpus_info()["sha256"]:  # another Python: other docstrings
            assert lm.bits_per_char(model) == pytest.approx(rec["val_bpc"], abs=1e-4)
    assert total < 2.5 * 2**20
    assert pretrain.shipped("hebbian_nonexistent") is None


def test_every_shipped_model_beats_the_bigram_entropy() -> None:
    info = pretrain.manifest_info()
    assert info["bigram_entropy_in_sample"] < info["bigram_entropy"] < math.log2(lm.V)
    for rec in pretrain.manifest().values():
        assert rec["val_bpc"] < info["bigram_entropy_in_sample"], rec["rule"]
        assert rec["config"] == lm.make_config(rec["rule"]).to_dict()  # the defaults
        assert rec["history"][-1]["step"] == rec["settings"]["steps"] == lm.DEFAULTS["steps"]
    if info["corpus"]["sha256"] == lm.corpus_info()["sha256"]:
        assert info["bigram_entropy"] == pytest.approx(lm.bigram_entropy(), abs=1e-6)
