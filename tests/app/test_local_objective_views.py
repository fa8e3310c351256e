"""AppTest: the local objective each write steps on, on the Explorer (metric, equations) and the Compare page (table),
with the numbers ``Rule.local_loss`` gives on the page's own trace."""

from __future__ import annotations

from app import cache

import numpy as np
import pytest

import fwp_core

from app.compare_presets import PRESETS, preset_values
from app.lessons import compare_config, explorer_config
from tests.helpers import no_errors, open_page

TIMEOUT = 90
LABEL = "local loss ℓ_t: before → after"


def expected(params: dict[str, str], t: int) -> tuple[float, float]:
    """ℓ_t(W_{t−1}), ℓ_t(W_t) straight from the core, on the trace the Explorer runs for these URL values."""
    res = cache.explorer_result(explorer_config(params))
    rule = fwp_core.make_rule(res.cfg.rule, **dict(res.cfg.hparams))
    tr = res.trace
    k, v = tr.token_keys[t - 1].double(), tr.token_values[t - 1].double()
    if fwp_core.get_spec(res.cfg.rule).substeps:  # per token: the sum over its sub-steps
        k, v = tr.keys[t - 1].double(), tr.values[t - 1].double()
        loss = lambda W: float(rule.local_loss(W.double(), k, v).sum())  # noqa: E731
    else:
        loss = lambda W: float(rule.local_loss(W.double(), k, v))  # noqa: E731
    return loss(tr.weights[t - 1]), loss(tr.weights[t])


@pytest.mark.parametrize("rule", fwp_core.rule_names())
def test_explorer_shows_the_local_loss_before_and_after_the_write(rule: str) -> None:
    params = dict(rule=rule, T="8", d_k="5", d_v="4", t="5", beta="0.3", view="Equations")
    at = open_page("explorer", TIMEOUT, **params)
    no_errors(at)
    spec = fwp_core.get_spec(rule)
    metric = next(m for m in at.metric if m.label == LABEL)
    before, after = expected(params, 5)
    shown = [float(x) for x in metric.value.split("→")]
    assert shown == pytest.approx([before, after], rel=1e-3, abs=1e-6)
    latex = [x.value.strip("$\n") for x in at.latex]
    assert spec.objective.loss_latex in latex and spec.objective.step_latex in latex
    assert any(spec.objective.kind in m.value for m in at.markdown)


def test_delta_at_large_beta_raises_its_own_loss_on_the_explorer() -> None:
    at = open_page("explorer", TIMEOUT, rule="delta", sequence="random", T="8", beta="2.5", t="6")
    no_errors(at)
    metric = next(m for m in at.metric if m.label == LABEL)
    before, after = (float(x) for x in metric.value.split("→"))
    assert after == pytest.approx(2.25 * before, rel=2e-3)


def test_compare_tables_the_local_objective_of_every_rule_live() -> None:
    name = "local_objective"
    at = open_page("compare", TIMEOUT)
    at.button(key=f"cmp_preset_{name}").click().run()
    no_errors(at)
    table = at.table[0].value
    cfg = compare_config(preset_values(name)[0])
    assert cfg == PRESETS[name].cfg
    assert list(table["rule"]) == ["1·delta β=2.5", "2·longhorn β=2.5"]
    t = cfg.T
    for row, slot in zip(table.to_dict("records"), cfg.slots):
        spec = fwp_core.get_spec(slot.rule)
        assert row["ℓ_t(W)"] == spec.objective.loss and row["step"] == spec.objective.kind
        loc = cache.local_losses(cfg.explorer_config(slot))
        before, after = float(row["ℓ_t(W_{t−1})"]), float(row["ℓ_t(W_t)"])
        assert [before, after] == pytest.approx([loc.before[t - 1], loc.after[t - 1]], rel=1e-3)
        assert float(row["change"]) == pytest.approx(after - before, rel=1e-3, abs=1e-3)
    rows = {r["rule"]: r for r in table.to_dict("records")}
    assert float(rows["1·delta β=2.5"]["change"]) > 0 > float(rows["2·longhorn β=2.5"]["change"])
    at.button(key="cmp_back").click().run()  # the table follows the step
    assert not np.allclose(at.table[0].value["ℓ_t(W_t)"].astype(float), table["ℓ_t(W_t)"].astype(float))


def test_the_lesson_quantities_are_the_pages_numbers() -> None:
    from app import lessons

    params = dict(rule="longhorn", T="8", t="3", beta="2")
    vals = lessons.evaluate("explorer", params, {"local_before", "local_after"})
    assert [vals["local_before"], vals["local_after"]] == pytest.approx(list(expected(params, 3)), rel=1e-9)
    assert vals["local_after"] <= vals["local_before"]
