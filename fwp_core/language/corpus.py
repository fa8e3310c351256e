"""The text the language models read: Python's own documentation strings, offline and deterministic.

``default_corpus()`` is the module, class and function docstrings of a fixed list of standard-library
modules (``MODULES``), in a fixed order: prose written by people, shipped with every Python, no download. It
depends only on the Python version (``corpus_info()`` records the version, the size and a SHA-256).

Every text a model sees goes through ``normalize_text``: NFKD-decomposed, common typographic marks mapped to
ASCII (’ → ', — → -, …), tabs to spaces, other characters outside the vocabulary dropped; each line stripped
and its runs of spaces collapsed, at most one blank line in a row. The vocabulary ``VOCAB`` is the newline
plus the 95 printable ASCII characters (V = 96; a uniform model scores log2 96 ≈ 6.585 bits per character).

``split_corpus(text, held_out=0.1)`` splits a text into a training and a held-out part by interleaved blocks
of ``BLOCK`` characters (block i goes to the held-out part when ⌊(i+1)h⌋ > ⌊ih⌋: a fraction h of the blocks,
spread evenly over the text, so every module is in both parts). ``default_corpus(part=...)`` gives
"all", "train" or "val" (the split at ``HELD_OUT``).

``bigram_entropy(text)`` is the target a model must beat: the cross-entropy, in bits per character, of the
add-α bigram model p(x_t | x_{t−1}) fitted on the training part and evaluated on the held-out part.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import math
import re
import sys
import unicodedata
import warnings
from typing import Any

import torch

MODULES: tuple[str, ...] = (
    "builtins", "collections", "functools", "itertools", "re", "string", "textwrap", "json", "argparse",
    "pathlib", "os", "shutil", "subprocess", "threading", "logging", "typing", "inspect", "difflib", "decimal",
    "fractions", "statistics", "random", "datetime", "calendar", "enum", "dataclasses", "contextlib",
    "unittest.case", "urllib.parse", "http.client", "email.message", "tarfile", "zipfile", "configparser",
    "csv", "heapq", "queue", "traceback", "pdb", "ast", "codecs", "optparse", "socket", "ipaddress",
)
"""The standard-library modules whose docstrings make the default corpus, in this order (all of them are
part of every CPython build; none does anything on import)."""

VOCAB: str = "\n" + "".join(chr(c) for c in range(32, 127))
"""The characters a model reads and predicts: newline and printable ASCII (index = position here)."""
V: int = len(VOCAB)
INDEX: dict[str, int] = {c: i for i, c in enumerate(VOCAB)}
BLOCK = 1000
HELD_OUT = 0.1
MIN_CORPUS = 100_000
MAX_BAD_FRACTION = 0.1
"""A text in which more than this fraction of characters are control or undecodable characters (not
tab, newline or carriage return) is refused as not text."""

_TYPOGRAPHY = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u00d7": "x", "\u2022": "*", "\u00b7": "*", "\t": " ", "\r": "",
}
_SPACES = re.compile(r" {2,}")
_BLANKS = re.compile(r"\n{3,}")


def _map_char(c: str) -> str:
    if c in INDEX:
        return c
    if c in _TYPOGRAPHY:
        return _TYPOGRAPHY[c]
    return "".join(ch for ch in unicodedata.normalize("NFKD", c) if ch in INDEX)


def _bad_fraction(text: str) -> float:
    bad = sum(1 for c in text if (unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\t\n\r")
              or c == "\ufffd")
    return bad / max(1, len(text))


def normalize_text(text: Any) -> str:
    """``text`` mapped onto ``VOCAB`` (see the module docstring). ValueError if it is not a str or looks like
    binary data (more than ``MAX_BAD_FRACTION`` control characters)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    if text and _bad_fraction(text) > MAX_BAD_FRACTION:
        raise ValueError(
            f"the text does not look like text: {_bad_fraction(text):.0%} of its characters are control or undecodable "
            f"characters (at most {MAX_BAD_FRACTION:.0%} allowed); give prose, e.g. fwp_core.language.default_corpus()")
    mapped = "".join(_map_char(c) for c in text)
    lines = (_SPACES.sub(" ", line).strip() for line in mapped.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")


def check_text(text: Any, min_chars: int, what: str = "text") -> str:
    """The normalised text, or ValueError if it is empty, binary or shorter than ``min_chars`` characters."""
    if isinstance(text, str) and not text.strip():
        raise ValueError(f"{what} is empty; give at least {min_chars} characters of prose")
    out = normalize_text(text)
    if len(out) < min_chars:
        raise ValueError(f"{what} is too short: {len(out)} characters after normalisation (newline and printable "
                         f"ASCII), at least {min_chars} are needed")
    return out


def encode(text: str) -> torch.Tensor:
    """A normalised text as indices into ``VOCAB`` (int64, shape (T,))."""
    missing = sorted({c for c in text if c not in INDEX})
    if missing:
        raise ValueError(f"characters outside the vocabulary: {missing[:10]!r}; pass the text through normalize_text")
    return torch.tensor([INDEX[c] for c in text], dtype=torch.int64)


def decode(ids: Any) -> str:
    return "".join(VOCAB[int(i)] for i in ids)


def _docstrings(module_name: str) -> list[str]:
    """The module's docstring, then those of its public classes (each followed by its public methods and
    properties) and functions, in definition order; only objects the module itself defines."""
    mod = importlib.import_module(module_name)
    docs = [mod.__doc__]
    with warnings.catch_warnings():  # typing.io and typing.re warn when touched
        warnings.simplefilter("ignore", DeprecationWarning)
        for name, obj in vars(mod).items():
            docs.extend(_object_docs(mod, name, obj))
    return [d for d in docs if isinstance(d, str)]


def _object_docs(mod: Any, name: str, obj: Any) -> list[Any]:
    """One public object's docstring (a class's followed by its public methods' and properties'), if the module
    defines it."""
    if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
        return []
    if inspect.isroutine(obj):
        return [obj.__doc__]
    if not inspect.isclass(obj):
        return []
    return [obj.__doc__] + [getattr(m, "__doc__", None) for a, m in vars(obj).items()
                            if not a.startswith("_") and (inspect.isroutine(m) or isinstance(m, property))]


@functools.lru_cache(maxsize=1)
def _all() -> str:
    seen: set[str] = set()
    parts = []
    for name in MODULES:
        for doc in _docstrings(name):
            text = normalize_text(inspect.cleandoc(doc))
            if len(text) >= 20 and text not in seen:  # one-line stubs and repeated docstrings add nothing
                seen.add(text)
                parts.append(text)
    corpus = "\n\n".join(parts)
    if len(corpus) < MIN_CORPUS:  # python -OO strips docstrings
        raise RuntimeError(f"the standard library's docstrings give only {len(corpus)} characters (is Python running "
                           f"with -OO?); the default corpus needs at least {MIN_CORPUS}")
    return corpus


def split_corpus(text: str, held_out: float = HELD_OUT) -> tuple[str, str]:
    """(train, held_out) parts of ``text`` by interleaved blocks of ``BLOCK`` characters (module docstring)."""
    if isinstance(held_out, bool) or not isinstance(held_out, (int, float)) or not 0.0 < float(held_out) < 1.0:
        raise ValueError(f"held_out={held_out!r} is not allowed; it must be a fraction in (0, 1)")
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    h = float(held_out)
    train, val = [], []
    for i in range(0, -(-len(text) // BLOCK)):
        (val if math.floor((i + 1) * h) > math.floor(i * h) else train).append(text[i * BLOCK:(i + 1) * BLOCK])
    return "".join(train), "".join(val)


@functools.lru_cache(maxsize=3)
def default_corpus(part: str = "all") -> str:
    """The default corpus (module docstring): ``part`` is "all", "train" or "val" (held-out, ``HELD_OUT``)."""
    if part == "all":
        return _all()
    if part not in ("train", "val"):
        raise ValueError(f"part={part!r} is not allowed; use 'all', 'train' or 'val'")
    train, val = split_corpus(_all(), HELD_OUT)
    return train if part == "train" else val


def corpus_info() -> dict[str, Any]:
    """What identifies the default corpus: Python version, modules, sizes, SHA-256 (JSON-able)."""
    text = default_corpus()
    return {
        "python": sys.version.split()[0], "modules": list(MODULES), "chars": len(text),
        "train_chars": len(default_corpus("train")), "val_chars": len(default_corpus("val")),
        "sha256": hashlib.sha256(text.encode("ascii")).hexdigest(),
    }


def _counts(ids: torch.Tensor) -> torch.Tensor:
    pairs = ids[:-1] * V + ids[1:]
    return torch.bincount(pairs, minlength=V * V).reshape(V, V).to(torch.float64)


def bigram_entropy(text: str | None = None, *, held_out: float = HELD_OUT, alpha: float = 0.5,
                   in_sample: bool = False) -> float:
    """Bits per character of the best bigram model, the target a language model must beat.

    Default (``in_sample=False``): ``text`` (default: the default corpus) is split by ``split_corpus``; the add-α
    bigram p(b | a) = (n_ab + α) / (n_a + αV) is fitted on the training part and its cross-entropy
    −mean log2 p(x_t | x_{t−1}) is measured on the held-out part. ``in_sample=True``: the plug-in conditional
    entropy H(X_t | X_{t−1}) of ``text`` itself (no smoothing, no split): a lower figure no bigram model reaches
    on unseen text."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < float(alpha) <= 10.0:
        raise ValueError(f"alpha={alpha!r} is not allowed; it must be a number in (0, 10]")
    text = default_corpus() if text is None else check_text(text, 2 * BLOCK)
    if in_sample:
        n = _counts(encode(text))
        p = n / n.sum()
        cond = n / n.sum(1, keepdim=True).clamp_min(1)
        return float(-(p * torch.where(n > 0, torch.log2(cond.clamp_min(1e-300)), torch.zeros_like(p))).sum())
    train, val = split_corpus(text, held_out)
    if len(val) < 2:
        raise ValueError("the held-out part is too short to measure a bigram entropy")
    n = _counts(encode(train)) + float(alpha)
    logp = torch.log2(n / n.sum(1, keepdim=True))
    ids = encode(val)
    return float(-logp[ids[:-1], ids[1:]].mean())
