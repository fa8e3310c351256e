"""Episode generators: the sequences of keys, values and queries that the rules read and write.

Every generator is seeded and pure. ``SOURCES`` is the one table of sequence sources that the app's
picker reads; ``make_episode(source, **params)`` dispatches through it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .ssm import mamba2_as_fwp, random_head

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Uploads larger than this are refused before parsing."""

MAX_TOKENS_TEXT = 1024


@dataclass(frozen=True)
class Episode:
    """One sequence: what the programmer emits for each token, ready for ``Rule.run``."""

    q: torch.Tensor  # (..., T, d_k)
    k: torch.Tensor  # (..., T, d_k)
    v: torch.Tensor  # (..., T, d_v)
    beta: torch.Tensor | None = None  # (..., T) write strengths; None = the rule's default
    gate: torch.Tensor | None = None  # (..., T) or (..., T, d_k); None = no gate
    tokens: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def T(self) -> int:
        return int(self.q.shape[-2])  # q never has a sub-step axis (k and v do for delta_product)

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Rule.run`` / ``parallel`` / ``chunked``."""
        return {"beta": self.beta, "gate": self.gate}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def _check_dims(T: int, d_k: int, d_v: int) -> None:
    for name, x in (("T", T), ("d_k", d_k), ("d_v", d_v)):
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
            raise ValueError(f"{name} must be a positive integer, got {x!r}")


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(1e-12)


def _finish(q, k, v, dtype, device, tokens, beta=None, gate=None, **meta) -> Episode:
    cast = dict(dtype=dtype, device=device)
    return Episode(
        q=q.to(**cast), k=k.to(**cast), v=v.to(**cast),
        beta=None if beta is None else beta.to(**cast), gate=None if gate is None else gate.to(**cast),
        tokens=tuple(tokens), meta=dict(meta),
    )


def random_episode(T: int, d_k: int, d_v: int, seed: int = 0, *, dtype=torch.float32, device="cpu", batch: tuple[int, ...] = ()) -> Episode:
    """Standard Gaussian keys, values and queries (entries N(0, 1), so E‖k‖² = d_k: what an untrained linear
    layer emits). Rules that need unit keys normalise them (``normalize="l2"``); without it the delta rule's
    eigenvalue 1 − β‖k‖² falls below −1 and the state blows up — a lesson the Explorer shows."""
    _check_dims(T, d_k, d_v)
    g = _gen(seed)
    k = torch.randn(*batch, T, d_k, generator=g, dtype=torch.float64)
    v = torch.randn(*batch, T, d_v, generator=g, dtype=torch.float64)
    q = torch.randn(*batch, T, d_k, generator=g, dtype=torch.float64)
    return _finish(q, k, v, dtype, device, [f"x{t + 1}" for t in range(T)], source="random")


def orthogonal_episode(T: int, d_k: int, d_v: int, seed: int = 0, *, dtype=torch.float32, device="cpu", batch: tuple[int, ...] = ()) -> Episode:
    """Orthonormal keys (needs T ≤ d_k); each query repeats its token's key, so y_t recalls v_t."""
    _check_dims(T, d_k, d_v)
    if T > d_k:
        raise ValueError(f"orthogonal keys need T ≤ d_k, got T={T} > d_k={d_k}")
    g = _gen(seed)
    Q, _ = torch.linalg.qr(torch.randn(*batch, d_k, d_k, generator=g, dtype=torch.float64))
    k = Q.transpose(-1, -2)[..., :T, :]  # (..., T, d_k) orthonormal rows
    v = torch.randn(*batch, T, d_v, generator=g, dtype=torch.float64)
    return _finish(k.clone(), k, v, dtype, device, [f"x{t + 1}" for t in range(T)], source="orthogonal")


def correlated_keys(n: int, d_k: int, rho: float, g: torch.Generator, batch: tuple[int, ...] = ()) -> torch.Tensor:
    """n unit keys whose pairwise cosines are ρ on average: k_i ∝ √ρ c + √(1−ρ) e_i."""
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"cosine rho must lie in [0, 1), got {rho!r}")
    c = _unit(torch.randn(*batch, 1, d_k, generator=g, dtype=torch.float64))
    e = _unit(torch.randn(*batch, n, d_k, generator=g, dtype=torch.float64))
    return _unit(rho**0.5 * c + (1 - rho) ** 0.5 * e)


def correlated_episode(
    T: int, d_k: int, d_v: int, seed: int = 0, *, rho: float = 0.5, dtype=torch.float32, device="cpu", batch: tuple[int, ...] = ()
) -> Episode:
    """Unit keys with pairwise cosine ≈ ρ (crosstalk made visible); queries repeat the keys."""
    _check_dims(T, d_k, d_v)
    g = _gen(seed)
    k = correlated_keys(T, d_k, float(rho), g, batch)
    v = torch.randn(*batch, T, d_v, generator=g, dtype=torch.float64)
    return _finish(k.clone(), k, v, dtype, device, [f"x{t + 1}" for t in range(T)], source="correlated", rho=float(rho))


def overwrite_episode(T: int, d_k: int, d_v: int, seed: int = 0, *, dtype=torch.float32, device="cpu", batch: tuple[int, ...] = ()) -> Episode:
    """m = ⌈T/2⌉ unit keys written with values v, then the same keys again with new values.

    Additive memory ends up holding v_old + v_new; the delta rule with β = 1 holds v_new."""
    _check_dims(T, d_k, d_v)
    if T < 2:
        raise ValueError("the overwrite sequence needs T ≥ 2 (a write and its overwrite)")
    g = _gen(seed)
    m = -(-T // 2)
    keys = _unit(torch.randn(*batch, m, d_k, generator=g, dtype=torch.float64))
    idx = torch.tensor([t if t < m else t - m for t in range(T)])
    k = keys[..., idx, :]
    v = torch.randn(*batch, T, d_v, generator=g, dtype=torch.float64)
    tokens = [f"write {i + 1}" if t < m else f"overwrite {i + 1}" for t, i in enumerate(idx.tolist())]
    return _finish(k.clone(), k, v, dtype, device, tokens, source="overwrite", n_keys=m, key_index=idx.tolist())


def recall_episode(T: int, d_k: int, d_v: int, seed: int = 0, *, dtype=torch.float32, device="cpu", batch: tuple[int, ...] = ()) -> Episode:
    """Associative recall: N = ⌈T/2⌉ key/value writes (β = 1), then T − N reads (β = 0) of earlier keys.

    In the read phase k_t = q_t is a stored key and v_t its stored value, so the retrieval error
    there is exactly the recall error of that pair."""
    _check_dims(T, d_k, d_v)
    if T < 2:
        raise ValueError("the recall task needs T ≥ 2 (at least one write and one read)")
    g = _gen(seed)
    n = -(-T // 2)
    keys = _unit(torch.randn(*batch, n, d_k, generator=g, dtype=torch.float64))
    vals = torch.randn(*batch, n, d_v, generator=g, dtype=torch.float64)
    targets = torch.randint(0, n, (T - n,), generator=g)
    idx = torch.cat([torch.arange(n), targets])
    k, v = keys[..., idx, :], vals[..., idx, :]
    beta = torch.cat([torch.ones(n, dtype=torch.float64), torch.zeros(T - n, dtype=torch.float64)]).expand(*batch, T)
    tokens = [f"k{i + 1}→v{i + 1}" for i in range(n)] + [f"?k{i + 1}" for i in targets.tolist()]
    return _finish(k.clone(), k, v, dtype, device, tokens, beta=beta, source="recall", n_pairs=n, targets=targets.tolist())


MAMBA2_A = -1.0
"""The state matrix A of the "Mamba2 head" source (a scalar, negative): its gate is α_t = exp(Δ_t A)."""


def mamba2_episode(
    T: int, d_k: int, d_v: int, seed: int = 0, *, A: float = MAMBA2_A, dt: float | None = None, dtype=torch.float32,
    device="cpu", batch: tuple[int, ...] = (),
) -> Episode:
    """One Mamba2 head's random selective parameters (``ssm.random_head`` with N = d_k, P = d_v) as an FWP episode
    (``ssm.mamba2_as_fwp``): k = B, q = C, v = x, β_t = Δ_t and gate α_t = exp(Δ_t A). The ``gated`` rule (identity
    φ, no normalisation) with exactly this β and gate computes the head: its W_t is the SSM state h_t. ``dt``: one
    step size for every token (a non-selective head, constant α) in place of the drawn Δ_t. ``meta`` keeps A and dt."""
    _check_dims(T, d_k, d_v)
    head = random_head(int(T), int(d_v), int(d_k), int(seed), A=A, batch=batch, dt=dt)
    q, k, v, beta, gate = mamba2_as_fwp(**head)
    return _finish(q, k, v, dtype, device, [f"x{t + 1}" for t in range(T)], beta=beta, gate=gate, source="mamba2",
                   A=float(A), dt=dt)


_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks."""
    return _TOKEN_RE.findall(text.lower())


def text_episode(
    text: str, d_k: int, d_v: int, seed: int = 0, *, d_embed: int = 32, dtype=torch.float32, device="cpu"
) -> Episode:
    """A typed sentence: each token gets a fixed embedding seeded by (token, seed); seeded random
    projections turn it into k, v and q, so the same word always writes with the same key."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the text is empty: type at least one word")
    tokens = tokenize(text)
    if not tokens:
        raise ValueError("the text has no words or punctuation to turn into tokens")
    if len(tokens) > MAX_TOKENS_TEXT:
        raise ValueError(f"the text has {len(tokens)} tokens; at most {MAX_TOKENS_TEXT} are allowed")
    _check_dims(len(tokens), d_k, d_v)
    emb = torch.stack(
        [torch.randn(d_embed, generator=_gen(zlib.crc32(tok.encode()) ^ int(seed)), dtype=torch.float64) for tok in tokens]
    )  # (T, d_embed)
    g = _gen(seed + 7919)
    Wk = torch.randn(d_embed, d_k, generator=g, dtype=torch.float64) / (d_embed * d_k) ** 0.5
    Wv = torch.randn(d_embed, d_v, generator=g, dtype=torch.float64) / d_embed**0.5
    Wq = torch.randn(d_embed, d_k, generator=g, dtype=torch.float64) / (d_embed * d_k) ** 0.5
    return _finish(emb @ Wq, emb @ Wk, emb @ Wv, dtype, device, tokens, source="text", text=text)


def from_arrays(arrays: Mapping[str, Any], *, dtype=torch.float32, device="cpu", max_T: int | None = None, max_d: int | None = None) -> Episode:
    """User arrays: ``k`` (T, d_k) and ``v`` (T, d_v) required; ``q`` (T, d_k), ``beta`` (T,), ``gate``
    (T,) or (T, d_k) optional. Everything is checked; anything wrong raises ValueError."""
    known = {"q", "k", "v", "beta", "gate"}
    unknown = sorted(set(arrays) - known)
    if unknown:
        raise ValueError(f"unknown array(s) {', '.join(unknown)}; allowed names: k, v, q, beta, gate")
    for need in ("k", "v"):
        if need not in arrays:
            raise ValueError(f"array {need!r} is missing; k (T, d_k) and v (T, d_v) are required")
    out: dict[str, np.ndarray] = {}
    for name, a in arrays.items():
        arr = np.asarray(a)
        if arr.dtype.kind not in "fiu":
            raise ValueError(f"array {name!r} must hold numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"array {name!r} contains NaN or inf; only finite numbers are allowed")
        out[name] = arr
    k, v = out["k"], out["v"]
    if k.ndim != 2 or v.ndim != 2:
        raise ValueError(f"k and v must be 2-D (T, d); got k {k.shape} and v {v.shape}")
    T, d_k = k.shape
    if T < 1 or d_k < 1 or v.shape[1] < 1:
        raise ValueError("k and v must have at least one row and one column")
    if v.shape[0] != T:
        raise ValueError(f"k and v must have the same number of rows T; got {T} and {v.shape[0]}")
    q = out.get("q", k)
    if q.shape != k.shape:
        raise ValueError(f"q must have the shape of k {k.shape}; got {q.shape}")
    if max_T is not None and T > max_T:
        raise ValueError(f"the sequence has T={T} tokens; at most {max_T} are allowed here")
    if max_d is not None and max(d_k, v.shape[1]) > max_d:
        raise ValueError(f"d_k={d_k}, d_v={v.shape[1]}; at most {max_d} dimensions are allowed here")
    beta = out.get("beta")
    if beta is not None and beta.shape != (T,):
        raise ValueError(f"beta must have shape (T,) = ({T},); got {beta.shape}")
    gate = out.get("gate")
    if gate is not None:
        if gate.shape not in ((T,), (T, d_k)):
            raise ValueError(f"gate must have shape (T,) or (T, d_k) = ({T},) or ({T}, {d_k}); got {gate.shape}")
        if (gate < 0).any() or (gate > 1).any():
            raise ValueError("gate values must lie in [0, 1]")
    t = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    return _finish(
        t(q), t(k), t(v), dtype, device, [f"x{i + 1}" for i in range(T)], beta=t(beta), gate=t(gate), source="upload"
    )


def _parse_csv(data: bytes) -> dict[str, np.ndarray]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("the CSV file is not UTF-8 text") from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ValueError(f"the CSV file cannot be read: {exc}") from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise ValueError("the CSV needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        raise ValueError("the CSV header repeats a column name")
    groups: dict[str, list[tuple[int, int]]] = {}
    for col, h in enumerate(header):
        m = re.fullmatch(r"(k|v|q)(\d+)|(beta|gate)", h)
        if not m:
            raise ValueError(f"unknown CSV column {h!r}; use k0..k{{d_k-1}}, v0..v{{d_v-1}}, optional q0.., beta, gate")
        if m.group(3):
            groups.setdefault(m.group(3), []).append((0, col))
        else:
            groups.setdefault(m.group(1), []).append((int(m.group(2)), col))
    try:
        table = np.array([[float(c) for c in r] for r in rows[1:]], dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"every CSV cell must be a number: {exc}") from exc
    if table.ndim != 2 or table.shape[1] != len(header):
        raise ValueError("every CSV row must have as many cells as the header")
    arrays: dict[str, np.ndarray] = {}
    for name, cols in groups.items():
        idx = sorted(cols)
        if name in ("k", "v", "q"):
            if [i for i, _ in idx] != list(range(len(idx))):
                raise ValueError(f"CSV columns {name}0..{name}{len(idx) - 1} must be numbered from 0 without gaps")
            arrays[name] = table[:, [c for _, c in idx]]
        else:
            arrays[name] = table[:, idx[0][1]]
    return arrays


def _parse_npz(data: bytes) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            names = list(npz.files)
            if len(names) > 5:
                raise ValueError(f"the NPZ holds {len(names)} arrays; expected at most k, v, q, beta, gate")
            return {name: npz[name] for name in names}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise ValueError("the NPZ holds Python objects; only plain numeric arrays are accepted") from exc
        raise
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError("the file is not a readable NPZ archive") from exc


def parse_upload(
    filename: str, data: bytes, *, dtype=torch.float32, device="cpu", max_bytes: int = MAX_UPLOAD_BYTES,
    max_T: int | None = None, max_d: int | None = None,
) -> Episode:
    """A CSV or NPZ upload → Episode. Never unpickles; anything malformed raises ValueError."""
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError("the upload must be raw bytes")
    if len(data) > max_bytes:
        raise ValueError(f"the file is {len(data) / 1e6:.1f} MB; at most {max_bytes / 1e6:.1f} MB are allowed")
    if len(data) == 0:
        raise ValueError("the file is empty")
    name = (filename or "").lower()
    if name.endswith(".npz"):
        arrays = _parse_npz(bytes(data))
    elif name.endswith(".csv"):
        arrays = _parse_csv(bytes(data))
    else:
        raise ValueError(f"unsupported file type {filename!r}; upload a .csv or .npz file")
    return from_arrays(arrays, dtype=dtype, device=device, max_T=max_T, max_d=max_d)


@dataclass(frozen=True)
class SourceSpec:
    """One sequence source: its generator and the extra parameters it takes."""

    name: str
    title: str
    make: Callable[..., Episode]
    help: str
    needs_text: bool = False
    needs_rho: bool = False
    max_T_is_d_k: bool = False
    own_gate: str = ""  # what the episode's own gate α_t is, where it brings one (it replaces the gate slider and γ)


SOURCES: dict[str, SourceSpec] = {
    s.name: s
    for s in (
        SourceSpec("random", "Random Gaussian", random_episode, "independent Gaussian keys, values and queries"),
        SourceSpec("orthogonal", "Orthogonal keys", orthogonal_episode, "orthonormal keys (T ≤ d_k): no crosstalk", max_T_is_d_k=True),
        SourceSpec("correlated", "Correlated keys", correlated_episode, "unit keys with pairwise cosine ρ", needs_rho=True),
        SourceSpec("overwrite", "Overwrite", overwrite_episode, "the same keys written again with new values"),
        SourceSpec("recall", "Recall task", recall_episode, "N key/value writes, then reads of earlier keys (β = 0)"),
        SourceSpec("text", "Text", text_episode, "a typed sentence with seeded token embeddings", needs_text=True),
        SourceSpec("mamba2", "Mamba2 head", mamba2_episode,
                   f"a Mamba2 head's random selective parameters as fast weights (k = B, q = C, v = x, β = Δ, "
                   f"gate α = exp(Δ A), A = {MAMBA2_A:g}); the gated rule with β = 1 steps the head exactly",
                   own_gate=f"exp(Δ_t A) with A = {MAMBA2_A:g}"),
    )
}


def make_episode(source: str, **params: Any) -> Episode:
    """Dispatch to a generator of ``SOURCES`` (upload goes through ``parse_upload``)."""
    if source not in SOURCES:
        raise ValueError(f"unknown sequence source {source!r}; known: {', '.join(SOURCES)}, upload")
    spec = SOURCES[source]
    if spec.needs_text:
        params.pop("T", None)
    if not spec.needs_rho:
        params.pop("rho", None)
    return spec.make(**params)
