"""The SSM view in real Chromium: the Forms page of the gated rule shows four forms that agree with the Mamba2 head's
scan, its pair table and its mapping table; the Explorer steps the "Mamba2 head" source with no error."""

from __future__ import annotations

import numpy as np
import pytest

from fwp_core import forms as core
from fwp_core import ssm
from tests.browser.conftest import errors_on, plotly_traces, wait_idle

pytestmark = pytest.mark.browser


def test_forms_gated_shows_the_ssm_scan(server, page) -> None:
    page.goto(server + "/forms?forms_rule=gated&forms_T=20&forms_dk=4&forms_dv=3&forms_seed=2&forms_A=-0.5")
    wait_idle(page, timeout_ms=60000)
    assert errors_on(page) == []
    out = {tr["name"]: tr["z"] for tr in plotly_traces(page, "forms_outputs")}
    assert list(out) == list(core.FORMS)
    y = ssm.mamba2_scan(**ssm.random_head(20, 3, 4, 2, A=-0.5)).numpy()
    for z in out.values():
        assert z.shape == (20, 3) and np.abs(z - y).max() <= core.AGREE
    body = page.inner_text("body")
    assert "Every pair of forms" in body and core.FORM_TITLES["ssm"] in body
    assert "the one A with" in body  # the mapping table's caption, filled in from this run
    assert page.locator("[data-testid='stDataFrame']").count() >= 3  # pairs, mapping, costs (drawn on a canvas)


def test_explorer_steps_the_mamba2_head(server, page) -> None:
    page.goto(server + "/explorer?rule=gated&sequence=mamba2&T=12&d_k=4&d_v=3&seed=5&beta=1&t=12")
    wait_idle(page, timeout_ms=60000)
    assert errors_on(page) == []
    W = next(tr["z"] for tr in plotly_traces(page, "weights") if tr["name"] == "W_t")
    h = ssm.mamba2_states(**ssm.random_head(12, 3, 4, 5)).numpy()[-1]
    assert np.abs(W - h).max() <= 1e-6 * max(1.0, float(np.abs(h).max()))
