"""The Language page in real Chromium: the shipped models' curves and readings on arrival, a deep link to one
character of the sentence; no error elements."""

from __future__ import annotations

import numpy as np

from app.page_tables import LANGUAGE_SENTENCE
from fwp_core import language as lm
from fwp_core.language import pretrain
from tests.browser.conftest import ARTIFACTS, errors_on, plotly_traces, wait_idle


def test_language_opens_with_trained_models_and_reads_the_sentence(server, page) -> None:
    page.goto(server + "/language?lang_t=38")
    wait_idle(page, timeout_ms=120000)
    page.get_by_role("heading", name="Read a sentence, character by character").wait_for(timeout=60000)
    curves = {tr["name"]: tr for tr in plotly_traces(page, "lang_curves")}
    for e in pretrain.SHIPPED:
        rec = pretrain.manifest()[e.file]
        np.testing.assert_allclose(curves[e.rule]["y"], [h["val_bpc"] for h in rec["history"]], atol=1e-9)
    chars = lm.normalize_text(LANGUAGE_SENTENCE)
    p = float(lm.read(pretrain.shipped("delta"), chars).probs[37, lm.VOCAB.index(chars[38])])
    page.get_by_text(f"p(next = {chars[38]}) = {p:.3f}", exact=False).first.wait_for(timeout=60000)
    assert plotly_traces(page, "lang_pred_delta") and plotly_traces(page, "lang_attn_delta")
    assert plotly_traces(page, "lang_mem_gated_delta")
    assert errors_on(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "language.png"), full_page=True)
