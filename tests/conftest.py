"""Shared test set-up: the repository root on sys.path, so `import app` and `import fwp_core` work, and one torch
thread per test process (`make test` runs one xdist worker per core; two threads each would oversubscribe the
cores, and torch's spinning threads then slow both workers many times over)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)
