"""The Explorer's views at step t: the equations with the step's numbers, what each attention panel is, and one
chart with its caption. The page passes what it computed; nothing here runs the model."""

from __future__ import annotations

import numpy as np
import streamlit as st

import fwp_core

from . import figures
from fwp_core.experiments.explorer import ExplorerResult
from .layout import caption


def vec_tex(x: np.ndarray, n: int = 6) -> str:
    vals = [f"{v:.3f}" for v in np.asarray(x, dtype=float).reshape(-1)[:n]]
    more = r",\ \dots" if np.asarray(x).size > n else ""
    return r"\begin{bmatrix}" + r" & ".join(vals) + more + r"\end{bmatrix}"


def local_tex(res: ExplorerResult, t: int) -> str:
    """Step t's local objective in numbers: ℓ_t(W_{t−1}) → ℓ_t(W_t)."""
    before, after = res.local.before[t - 1], res.local.after[t - 1]
    return rf"\ell_{{{t}}}(W_{{{t - 1}}}) = {before:.4g} \;\to\; \ell_{{{t}}}(W_{{{t}}}) = {after:.4g}"


def step_numbers(spec: fwp_core.RuleSpec, res: ExplorerResult, t: int, key: np.ndarray, value: np.ndarray,
                 beta_t: np.ndarray, err: float, ev: np.ndarray | None) -> None:
    """The rule's equation and its local objective, then step t's quantities with their numbers."""
    i, trace = t - 1, res.trace
    st.latex(spec.step_latex)
    if spec.objective is not None:
        st.markdown(f"**Local objective** — the write is one step on the fit term ℓ_t: *{spec.objective.kind}*")
        st.latex(spec.objective.loss_latex)
        st.latex(spec.objective.step_latex)
        if res.local is not None:
            st.latex(local_tex(res, t))
    st.latex(rf"\phi(k_{{{t}}}) = {vec_tex(key)},\quad \|\phi(k_{{{t}}})\| = {np.linalg.norm(key):.4f},\quad \beta_{{{t}}} = {beta_t[0]:.4f}")
    read = spec.read_latex.replace("_{t-1}", f"_{{{t - 1}}}").replace("k_t", f"k_{{{t}}}")  # the rule's read at step t
    st.latex(rf"v_{{{t}}} = {vec_tex(value)},\quad r_{{{t}}} = {read} = {vec_tex(trace.retrieved[i].numpy())}")
    st.latex(rf"e_{{{t}}} = \|v_{{{t}}} - r_{{{t}}}\| = {err:.4f},\qquad y_{{{t}}} = {vec_tex(trace.outputs[i].numpy())}")
    if ev is not None:
        shown = ", ".join(f"{x.real + 0.0:.3f}".replace("-0.000", "0.000") + (f"{x.imag:+.3f}i" if abs(x.imag) > 1e-9 else "")
                          for x in ev[:8])
        st.latex(r"\lambda(\text{transition}) \in \{" + shown + (r", \dots" if len(ev) > 8 else "") + r"\}")


def attention_caption(spec: fwp_core.RuleSpec, panels: dict) -> str:
    """What each panel of the attention view is (``explorer.attention_panels``); W_0 = 0."""
    same = (" The y∥ column of the fast-weights view is y_t computed this way; it matches the recurrent y to the "
            "max |difference| above.")
    if panels.get("contributions") is not None:
        g, a = ("Γ ⊙ ", "α_s ") if panels["gated"] else ("", "")
        b = panels["step"]
        gamma = ", Γ_ts = α_{s+1}⋯α_t the gate's decay" if panels["gated"] else ""
        step = f" Here {spec.step_help}." if spec.step_help else ""  # what a step other than β stands for
        return (f"y_t = Σ_s A_ts u_s = Σ_s C_ts v_s. A = QKᵀ ⊙ {g}M weights the pseudo-values u_s, not the values "
                f"(M the causal mask{gamma}; keys and queries after φ). The correction T = (I + L)⁻¹ diag({b}), "
                f"L = tril₋₁(diag({b}){'(KKᵀ ⊙ Γ)' if g else ' KKᵀ'}), is how the delta rule turns values into pseudo-values "
                f"U = T V: u_s = {b}_s (v_s − {a}W_{{s−1}} φ(k_s)), the error each write corrects times its step.{step} "
                f"C = A T: row t (boxed) is how much each value v_s (s ≤ t) contributes to y_t." + same)
    if panels.get("attention") is not None:
        return ("y_t = Σ_s A_ts v_s: row t (boxed) is how much each value v_s (s ≤ t) contributes to y_t, with β_s and "
                "whatever else the rule applies (decay, normaliser, RLS's inverse key covariance) folded into A." + same)
    if panels.get("substeps"):
        return ("This rule's parallel form runs over its T·n_h interleaved sub-steps; drawn here are only the "
                "token-level scores QKᵀ ⊙ M with each token's first sub-step key (no gate, no correction): row t (boxed) "
                "is how φ(q_t) aligns with the earlier keys, not what each token contributes to y_t.")
    return ("This rule has no parallel form, so only the causal scores QKᵀ ⊙ M are drawn: row t (boxed) is how φ(q_t) "
            "aligns with the earlier keys, not what each token contributes to y_t.")


def view_chart(fig, key: str, text: str, dark: bool, scale: str | None = None) -> None:
    """One view's chart, sent self-styled (``figures.page_spec``), with its caption; ``scale``: the label of the
    colour scale drawn above a chart built without its colorbar."""
    fig = figures.page_spec(fig, dark)
    if scale is not None:
        st.html(figures.legend_for(fig, scale))
    st.plotly_chart(fig, key=key, theme=None, config=figures.CHART_CONFIG)
    caption(text)
