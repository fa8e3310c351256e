"""Saving and loading trained programmers: a state dict plus a small plain config dict.

The file is ``torch.save({"format": FORMAT, "version": VERSION, "config": {...}, "state_dict": {...}})``
and is read back with ``torch.load(..., weights_only=True)``, which never runs code from the file.
Anything that is not exactly this format (a corrupted file, another torch file, a text file, wrong
shapes, non-finite numbers) raises ValueError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import BinaryIO

import torch

from ..weights_io import read_model_file
from .models import FastWeightProgrammer, ProgrammerConfig

FORMAT = "fwp_core.programmer"
VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Files larger than this are refused before reading (a programmer is a few kilobytes)."""


def save(model: FastWeightProgrammer, path: str | os.PathLike | BinaryIO) -> None:
    """Write ``model`` to ``path`` (a file name or a writable binary file object)."""
    if not isinstance(model, FastWeightProgrammer):
        raise ValueError(f"only a FastWeightProgrammer can be saved, got {type(model).__name__}")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    torch.save(payload, path)


def load(source: str | os.PathLike | bytes | bytearray | BinaryIO) -> FastWeightProgrammer:
    """Read a programmer written by ``save`` (a path, the file's bytes, or a binary file object).

    Returns the model in eval mode on the CPU. Raises ValueError for anything else."""
    obj = read_model_file(source, what="programmer file", fmt=FORMAT, version=VERSION, max_bytes=MAX_FILE_BYTES,
                          saver="fwp_core.programmer.save")
    try:
        config = ProgrammerConfig.from_dict(obj["config"])
    except ValueError as exc:
        raise ValueError(f"programmer file: bad config: {exc}") from exc
    model = FastWeightProgrammer(config)
    state = obj["state_dict"]
    expected = model.state_dict()
    if not isinstance(state, Mapping) or set(state) != set(expected):
        got = sorted(map(str, state)) if isinstance(state, Mapping) else type(state).__name__
        raise ValueError(f"programmer file: the weights do not match its config; expected {sorted(expected)}, got {got}")
    for name, ref in expected.items():
        t = state[name]
        if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.shape != ref.shape:
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"programmer file: weight {name!r} must be a float tensor of shape {tuple(ref.shape)}, got {shape}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"programmer file: weight {name!r} contains NaN or inf")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)
    model.eval()
    return model
