"""Saving and loading language models: a state dict plus the config as plain data, read weights-only.

The file is ``torch.save({"format": FORMAT, "version": VERSION, "config": {...}, "state_dict": {...}})`` and
is read back with ``torch.load(..., weights_only=True)``, which never runs code from the file. Anything else
(another torch file, a text file, wrong shapes, non-finite numbers) raises ValueError. ``save(..., dtype=
torch.float16)`` halves the file (the shipped models); ``load`` always returns float32 weights.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import BinaryIO

import torch

from ..weights_io import read_model_file
from .model import CharModel, LanguageConfig

FORMAT = "fwp_core.language"
VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024


def save(model: CharModel, path: str | os.PathLike | BinaryIO, *, dtype: torch.dtype = torch.float32) -> None:
    """Write ``model`` to ``path`` (a file name or a writable binary file object)."""
    if not isinstance(model, CharModel):
        raise ValueError(f"only a fwp_core.language CharModel can be saved, got {type(model).__name__}")
    if dtype not in (torch.float32, torch.float16, torch.float64):
        raise ValueError(f"dtype={dtype!r} is not allowed; use torch.float32, torch.float16 or torch.float64")
    payload = {
        "format": FORMAT, "version": VERSION, "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu().to(dtype).clone() for k, v in model.state_dict().items()},
    }
    torch.save(payload, path)


def load(source: str | os.PathLike | bytes | bytearray | BinaryIO) -> CharModel:
    """Read a model written by ``save``; returns it in eval mode on the CPU, float32. ValueError otherwise."""
    obj = read_model_file(source, what="language model file", fmt=FORMAT, version=VERSION, max_bytes=MAX_FILE_BYTES,
                          saver="fwp_core.language.save")
    try:
        config = LanguageConfig.from_dict(obj["config"])
    except ValueError as exc:
        raise ValueError(f"language model file: bad config: {exc}") from exc
    model = CharModel(config)
    state, expected = obj["state_dict"], model.state_dict()
    if not isinstance(state, Mapping) or set(state) != set(expected):
        raise ValueError("language model file: the weights do not match its config")
    for name, ref in expected.items():
        t = state[name]
        if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.shape != ref.shape:
            raise ValueError(f"language model file: weight {name!r} must be a float tensor of shape {tuple(ref.shape)}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"language model file: weight {name!r} contains NaN or inf")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)
    model.eval()
    return model
