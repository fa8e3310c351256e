"""The Explorer's attention view draws matrices that multiply out to the recurrent outputs, with true titles.

Delta-type rules: y_t = Σ_s A_ts u_s over the pseudo-values U = T V, so the drawn A (with the gate's decay Γ where
there is a gate) times the drawn U, and the drawn contributions C = A T times the values V, are the outputs of
``rule.run`` (W_0 = 0); T's diagonal is the step the correction folds in (Longhorn: ε_t = β_t/(1 + β_t‖φ(k_t)‖²)).
Additive rules: A (β and decay folded in) times V is the output.
"""

from __future__ import annotations

from fwp_core.experiments import explorer
from app import cache

import numpy as np
import pytest
import torch

import fwp_core
from app import figures
from tests.helpers import chart, decode, expected_trace, no_errors, open_page, trace_named

TOL = 1e-4  # the app runs in float32
PARAMS = dict(T="12", d_k="4", d_v="4", t="5", view="Attention form")
CASES = {  # rule -> extra URL parameters
    "gated_delta": dict(gate="0.9"),
    "delta": {},
    "longhorn": {},
    "hebbian": {},
    "decay": {},
}


def _cfg(rule: str, gate: float = 0.9) -> explorer.ExplorerConfig:
    return explorer.ExplorerConfig(rule=rule, hparams=tuple(sorted(fwp_core.registry.resolve_hparams(rule).items())),
                                  T=12, d_k=4, d_v=4, gate=gate)


def _titles(spec: dict) -> list[str]:
    return [a["text"] for a in spec["layout"].get("annotations", [])]


def _check_delta(drawn: dict[str, np.ndarray], trace: fwp_core.Trace, titles: list[str], rule: str) -> None:
    """The drawn delta panels multiply out to the trace's outputs; titles say Γ and the step symbol truthfully."""
    spec = fwp_core.get_spec(rule)
    A, T, U, C = (drawn[k] for k in ("attention", "correction", "pseudo_values", "contributions"))
    Y, V, K, Q = (x.double().numpy() for x in (trace.outputs, trace.token_values, trace.token_keys, trace.queries))
    np.testing.assert_allclose(A @ U, Y, atol=TOL)  # y_t = Σ_s A_ts u_s over the pseudo-values
    np.testing.assert_allclose(C @ V, Y, atol=TOL)  # y_t = Σ_s C_ts v_s over the values
    np.testing.assert_allclose(T @ V, U, atol=TOL)  # U = T V
    np.testing.assert_allclose(A @ T, C, atol=TOL)
    gamma = np.ones_like(A)
    if trace.gate is not None:  # Γ_ts = Π_{r=s+1..t} α_r
        logs = np.cumsum(np.log(trace.gate.double().numpy()))
        gamma = np.exp(logs[:, None] - logs[None, :])
    np.testing.assert_allclose(A, np.tril(Q @ K.T) * np.tril(gamma), atol=TOL)
    beta = trace.beta.double().numpy()
    step = beta / (1 + beta * (K * K).sum(-1)) if spec.step_symbol == "ε" else beta
    np.testing.assert_allclose(np.diag(T), step, atol=TOL)  # (I + L)⁻¹ is unit lower triangular
    qk = "A = QKᵀ ⊙ Γ ⊙ M" if spec.gate_kind is not None else "A = QKᵀ ⊙ M"
    assert titles == [qk, f"correction T = (I + L)⁻¹ diag({spec.step_symbol})", "pseudo-values U = T V",
                      "contributions C = A T"]


@pytest.mark.parametrize("rule", CASES)
def test_attention_view_multiplies_out_to_the_outputs(rule: str) -> None:
    at = open_page("explorer", 90, rule=rule, **PARAMS, **CASES[rule])
    no_errors(at)
    spec = chart(at, "attention")
    names = [tr["name"] for tr in spec["data"]]
    trace = expected_trace(_cfg(rule))
    captions = " ".join(c.value for c in at.caption)
    assert "contributes to y_t" in captions and "each earlier token contributes" not in captions
    if fwp_core.get_spec(rule).family == "delta":
        assert names == ["attention", "correction", "pseudo_values", "contributions"]
        drawn = {n: decode(trace_named(spec, n)["z"]) for n in names}
        _check_delta(drawn, trace, _titles(spec), rule)
        assert "y_t = Σ_s A_ts u_s = Σ_s C_ts v_s" in captions
        assert ("Γ_ts = α_{s+1}⋯α_t" in captions) == (rule == "gated_delta")
        assert ("ε_t = β_t/(1 + β_t‖φ(k_t)‖²)" in captions) == (rule == "longhorn")
        boxed = {sh["xref"] for sh in spec["layout"]["shapes"]}
        assert boxed == {"x", "x2", "x4"}  # row t of A, T and C
    else:
        assert names == ["attention"]
        A = decode(trace_named(spec, "attention")["z"])
        np.testing.assert_allclose(A @ trace.values.double().numpy(), trace.outputs.double().numpy(), atol=TOL)
        assert _titles(spec) == ["attention A: y_t = Σ_s A_ts v_s"]
        assert "y_t = Σ_s A_ts v_s" in captions


@pytest.mark.parametrize("rule", fwp_core.rule_names())
def test_attention_panels_and_figure_for_every_rule(rule: str) -> None:
    """Without AppTest: attention_panels of every rule, drawn by attention_figure, keep the identities above."""
    res = cache.explorer_result.__wrapped__(_cfg(rule, gate=0.8))
    spec = fwp_core.get_spec(rule)
    panels = explorer.attention_panels(res.trace, res.form, rule)
    fig = figures.attention_figure(3, **panels).to_dict()
    drawn = {tr["name"]: decode(tr["z"]) for tr in fig["data"]}
    Y, V = res.trace.outputs.double().numpy(), res.trace.token_values.double().numpy()
    if res.form is not None and res.form.correction is not None and not spec.substeps:
        assert panels["gated"] == (spec.gate_kind is not None) and panels["step"] == spec.step_symbol
        _check_delta(drawn, res.trace, _titles(fig), rule)
    elif res.form is not None and not spec.substeps:
        assert list(drawn) == ["attention"]
        np.testing.assert_allclose(drawn["attention"] @ V, res.form.outputs.double().numpy(), atol=TOL)
        if spec.family == "additive":
            np.testing.assert_allclose(drawn["attention"] @ V, Y, atol=TOL)
    else:  # token-level scores only, and the title says so
        assert list(drawn) == ["scores"]
        q, k = res.trace.queries.double(), res.trace.token_keys.double()
        np.testing.assert_allclose(drawn["scores"], torch.tril(q @ k.T).numpy(), atol=TOL)
        assert _titles(fig) == ["QKᵀ ⊙ M, token-level scores only (first sub-step keys)" if spec.substeps
                                else "QKᵀ ⊙ M (this rule has no parallel form)"]


def test_attention_panels_of_a_diverged_run_stop_before_it() -> None:
    cfg = explorer.ExplorerConfig(rule="delta", hparams=(("normalize", "none"),), sequence="random", beta=1.0, d_k=8, T=16)
    res = cache.explorer_result.__wrapped__(cfg)
    n = res.trace.valid_steps
    assert 0 < n < 16
    panels = explorer.attention_panels(res.trace, res.form, "delta")
    assert panels["contributions"].shape == (n, n) and np.isfinite(panels["contributions"]).all()
    np.testing.assert_allclose(panels["contributions"] @ res.trace.values[:n].double().numpy(),
                               res.trace.outputs[:n].double().numpy(), rtol=TOL, atol=TOL)  # outputs grow to ~1e3
