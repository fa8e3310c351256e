"""Character-level language models whose token mixer is a fast-weight rule (issue #19, the core).

    from fwp_core import language as lm
    text = lm.default_corpus()                         # Python's own docstrings, offline, ~430k characters
    train, val = lm.split_corpus(text)                 # or lm.default_corpus("train") / ("val")
    lm.bigram_entropy()                                # the target: bigram bits per character on held-out text
    result = lm.train("delta", progress=None)          # result.model, result.history [{step, train_bpc, val_bpc, seconds}]
    lm.bits_per_char(result.model)                     # held-out bits per character
    lm.copy_gain(result.model).gain                    # bits saved on a word's second occurrence in the window
    reading = lm.read(result.model, "The delta rule")  # .chars, .probs (T, V), .traces (per layer), .attention
    lm.save(result.model, "delta.pt"); lm.load("delta.pt")

``rule`` is any name in ``fwp_core.RULES`` or "softmax" (``mixer_names()``). Shipped, already trained
models: ``fwp_core.language.pretrain`` (``shipped(rule)``). Never imports Streamlit or Plotly.
"""

from .corpus import (
    MODULES, VOCAB, V, bigram_entropy, corpus_info, decode, default_corpus, encode, normalize_text, split_corpus,
)
from .io import FORMAT, load, save
from .model import RULE_DEFAULTS, SOFTMAX, CharModel, LanguageConfig, make_config, mixer_names
from .reading import MAX_READ, Reading, read
from .train import DEFAULTS, CopyGain, TrainResult, bits_per_char, copy_gain, train

__all__ = [
    "CharModel", "CopyGain", "DEFAULTS", "FORMAT", "LanguageConfig", "MAX_READ", "MODULES", "RULE_DEFAULTS",
    "Reading", "SOFTMAX", "TrainResult", "V", "VOCAB", "bigram_entropy", "bits_per_char", "copy_gain",
    "corpus_info", "decode", "default_corpus", "encode", "load", "make_config", "mixer_names", "normalize_text",
    "read", "save", "split_corpus", "train",
]
