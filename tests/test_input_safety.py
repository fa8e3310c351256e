"""Bad input never breaks anything: the upload parser and the URL-state parser either accept or raise
ValueError (hypothesis fuzzing), and the code base never unpickles or renders user HTML."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.page_tables import EXPLORER, STATES
from app.state import share_url
from fwp_core.sequences import Episode, parse_upload

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def accepts_or_value_error(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


@FUZZ
@given(name=st.sampled_from(["x.csv", "x.npz", "x.txt", "", "X.CSV"]), data=st.binary(max_size=4096))
def test_upload_parser_on_random_bytes(name: str, data: bytes) -> None:
    ep = accepts_or_value_error(parse_upload, name, data, max_T=1024, max_d=128)
    assert ep is None or isinstance(ep, Episode)


csv_cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=5), st.integers().map(str))
csv_header = st.lists(st.one_of(st.sampled_from(["k0", "k1", "v0", "v1", "q0", "q1", "beta", "gate", "k2", "v7"]), st.text(max_size=4)),
                      min_size=1, max_size=6)


@FUZZ
@given(header=csv_header, rows=st.lists(st.lists(csv_cell, max_size=7), max_size=6))
def test_upload_parser_on_csv_like_text(header: list[str], rows: list[list[str]]) -> None:
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)])
    ep = accepts_or_value_error(parse_upload, "seq.csv", text.encode(), max_T=1024, max_d=128)
    if ep is not None:
        assert np.isfinite(ep.k.numpy()).all() and np.isfinite(ep.v.numpy()).all()
        assert ep.k.shape[0] == ep.v.shape[0] >= 1


arrays = st.dictionaries(
    st.sampled_from(["k", "v", "q", "beta", "gate", "extra"]),
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["f8", "f4", "i4", "U3", "b1"]), st.floats(-1e3, 1e3)),
    max_size=5,
)


@FUZZ
@given(spec=arrays)
def test_upload_parser_on_random_npz(spec: dict) -> None:
    buf = io.BytesIO()
    payload = {}
    for name, (a, b, dtype, fill) in spec.items():
        shape = (a, b) if name in ("k", "v", "q") else (a,)
        payload[name] = np.full(shape, fill).astype(dtype) if dtype != "U3" else np.full(shape, "abc")
    np.savez(buf, **payload)
    ep = accepts_or_value_error(parse_upload, "seq.npz", buf.getvalue(), max_T=1024, max_d=128)
    assert ep is None or isinstance(ep, Episode)


def test_pickled_npz_is_refused_not_loaded() -> None:
    buf = io.BytesIO()
    np.savez(buf, k=np.array([{"evil": 1}], dtype=object), v=np.ones((1, 1)))
    with pytest.raises(ValueError, match="Python objects|numeric"):
        parse_upload("evil.npz", buf.getvalue())


def test_upload_size_cap() -> None:
    with pytest.raises(ValueError, match="at most"):
        parse_upload("big.csv", b"k0,v0\n" + b"1,1\n" * 10, max_bytes=16)


PAGE_PARAMS = [(page, name) for page, state in sorted(STATES.items()) for name in state.params()]


@FUZZ
@given(which=st.sampled_from(PAGE_PARAMS), raw=st.one_of(st.text(max_size=60), st.lists(st.text(max_size=8), max_size=3)))
def test_url_param_parser_accepts_or_raises_value_error(which: tuple[str, str], raw) -> None:
    page, name = which
    param = STATES[page].param(name)
    value = accepts_or_value_error(param.parse, raw)
    if value is None:
        return
    if param.kind == "choice":
        assert value in param.choices
    elif param.kind in ("int", "float") and param.hparam is None:
        assert param.low <= value <= param.high


@FUZZ
@given(page=st.sampled_from(sorted(STATES)),
       raw=st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=20), st.lists(st.text(max_size=5), max_size=2)), max_size=8))
def test_url_query_parser_never_raises(page: str, raw: dict) -> None:
    parsed = STATES[page].parse(raw)
    table = STATES[page].params(parsed.values)
    assert set(parsed.values) == set(table)  # every parameter of the page, a default where the URL had none or a bad one
    assert parsed.given <= set(raw)
    assert all(isinstance(w, str) and w for w in parsed.warnings)


def test_hand_edited_url_nonsense() -> None:
    parsed = EXPLORER.parse({"T": "-5", "rule": "<script>", "d_k": "1e9", "beta": "nan", "t": "3.5"})
    assert parsed.given == frozenset()
    assert parsed.values == EXPLORER.defaults()
    text = " ".join(parsed.warnings)
    for fragment in ("T='-5' is out of range", "rule='<script>' is not known", "d_k='1e9' is out of range",
                     "beta='nan' is not finite", "t='3.5' is not a whole number"):
        assert fragment in text


def test_share_url_round_trips_the_query() -> None:
    url = share_url("http://host:8501/explorer?old=1", {"rule": "delta", "t": "5"})
    assert url == "http://host:8501/explorer?rule=delta&t=5"


SOURCE_DIRS = ("app", "pages", "fwp_core")


def _sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text()) for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py")]


def test_no_pickle_no_unsafe_html_weights_only_torch_load() -> None:
    for path, text in _sources():
        rel = path.relative_to(ROOT)
        assert not re.search(r"^\s*import pickle|^\s*from pickle|pickle\.loads?\(", text, re.M), f"{rel} uses pickle"
        assert "allow_pickle=True" not in text, f"{rel} allows pickle in numpy"
        assert "unsafe_allow_html=True" not in text, f"{rel} renders raw HTML"
        for m in re.finditer(r"torch\.load\(", text):
            call = _call_text(text, m.end() - 1)
            assert "weights_only=True" in call, f"{rel}: torch.load{call} must pass weights_only=True"


def _call_text(text: str, open_paren: int) -> str:
    """The balanced-parenthesis argument text of the call whose '(' is at ``open_paren``."""
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren : i + 1]
    return text[open_paren:]
