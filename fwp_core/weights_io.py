"""Reading a weights-only model file safely: the one reader behind ``fwp_core.programmer.load`` and
``fwp_core.language.load``. Nothing is unpickled beyond tensors and plain containers (``torch.load(weights_only=True)``).
Both write ``{"format", "version", "config", "state_dict"}``; ``read_model_file`` checks that envelope."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any, BinaryIO

import torch


def read_weights_only(source: str | os.PathLike | bytes | bytearray | BinaryIO, *, what: str, max_bytes: int,
                      saver: str) -> Any:
    """The object saved in ``source`` (a path, the file's bytes, or a binary file object), or ValueError naming
    ``what`` the file should have been (e.g. "programmer file") and ``saver``, the function that writes one."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise ValueError(f"no {what} at {os.fspath(source)!r}")
        if os.path.getsize(source) > max_bytes:
            raise ValueError(f"the file is larger than {max_bytes // 2**20} MB; it is not a {what}")
        with open(source, "rb") as fh:
            data = fh.read()
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError("the file object must be opened in binary mode")
    else:
        raise ValueError(f"load takes a path, bytes or a binary file object, got {type(source).__name__}")
    if len(data) > max_bytes:
        raise ValueError(f"the file is larger than {max_bytes // 2**20} MB; it is not a {what}")
    if not data:
        raise ValueError(f"the file is empty; it is not a {what}")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to unpickle safely means "not our file"
        raise ValueError(f"not a readable {what} ({type(exc).__name__}); save one with {saver}") from exc


def read_model_file(source: str | os.PathLike | bytes | bytearray | BinaryIO, *, what: str, fmt: str, version: int,
                    max_bytes: int, saver: str) -> Mapping[str, Any]:
    """``read_weights_only``, then the envelope every model file of this project has: a dict with ``format`` = ``fmt``,
    ``version`` = ``version``, and exactly the entries format, version, config and state_dict (ValueError otherwise)."""
    obj = read_weights_only(source, what=what, max_bytes=max_bytes, saver=saver)
    if not isinstance(obj, Mapping) or obj.get("format") != fmt:
        raise ValueError(f"not a {what}: expected a dict with format {fmt!r}")
    if obj.get("version") != version:
        raise ValueError(f"unsupported {what} version {obj.get('version')!r}; this version reads {version}")
    if set(obj) != {"format", "version", "config", "state_dict"}:
        raise ValueError(f"{what} has unexpected entries {sorted(map(str, obj))}")
    return obj
