"""Explorer: step through one sequence token by token with one rule."""

from __future__ import annotations

from fwp_core.experiments import explorer
from app import cache

import inspect

import numpy as np
import streamlit as st

import fwp_core
from app import export, figures, state, widgets
from app import explorer_view as view
from app.layout import caption, guarded, projecting
from app.lessons.readout import lesson_readout
from app.page_tables import EXPLORER, EXPLORER_VIEWS
from app.player import smooth_player
from app.stepper import follow_url, play_settings, play_tick, step_controls

st.title("Explorer")
st.caption("Step through the sequence: ← / → keys, the buttons, the scrubber or Play." if projecting() else
           "Pick a rule and a sequence in the sidebar, then step through it: ← / → keys, the buttons, the scrubber or Play.")
for warning in EXPLORER.warnings(st.session_state, st.query_params.to_dict()):
    st.warning(warning)

with st.sidebar:
    cfg, upload = widgets.explorer_controls()

if cfg.sequence == "upload" and upload is None:
    st.info("Choose a CSV or NPZ file in the sidebar: arrays k and v (and optionally q, beta, gate), one row per token.")
    st.stop()
try:
    res = cache.explorer_result(cfg, upload)
except ValueError as exc:
    st.error(f"This configuration cannot run: {exc}")
    st.stop()

spec = fwp_core.get_spec(cfg.rule)
st.markdown(f"#### {spec.title} — {spec.teaches}")
st.latex(spec.step_latex)
if spec.parallel_latex:
    st.latex(r"\text{parallel form: }" + spec.parallel_latex)

if res.trace.diverged_at is not None:
    st.warning(explorer.explain_divergence(res))  # a run that diverges is a result to explain, not an error
    fix = cache.suggest_fix(cfg, upload)
    if fix is not None:
        st.button(f"Fix it: normalise keys ({fix[0]}) and use β = {fix[1]:g}", on_click=state.fix_divergence,
                  args=(st.session_state, *fix), type="primary")
    if res.valid == 0:
        st.stop()
if cfg.sequence == "upload":
    st.info(f"Uploaded sequence: T = {res.T}, d_v = {res.trace.outputs.shape[-1]} (the T, d_k, d_v controls do not apply).")

T, valid = res.T, res.valid
WEIGHTS, ATTENTION, ERROR, EQUATIONS, ALL = EXPLORER_VIEWS
dark = st.context.theme.type == "dark"  # the self-styled charts follow the app's light or dark theme
trace = res.trace
playing, speed = play_settings(st.session_state)
follow_url(st.session_state)


@st.fragment(run_every=1.0 / speed if playing else None)
@guarded
def stepper() -> None:
    play_tick(st.session_state, valid, playing, speed)
    t = step_controls(st.session_state, valid, caption_T=T, play_help="Advance by itself at the chosen speed (server-side).")

    i = t - 1
    tok = res.tokens[i] if i < len(res.tokens) else str(t)
    beta_t = trace.beta[i].reshape(-1).numpy()
    gate_txt = ""
    if trace.gate is not None:
        g = trace.gate[i].reshape(-1).numpy()
        gate_txt = f" · gate α_t = {g[0]:.3f}" if g.size == 1 else f" · gate a_t ∈ [{g.min():.3f}, {g.max():.3f}]"
    st.markdown(f"**Token {t}: `{tok}`** · β_t = {', '.join(f'{b:.3f}' for b in beta_t)}{gate_txt}")

    key = trace.token_keys[i].numpy()
    value = trace.token_values[i].numpy()
    err = float(trace.retrieval_error[i])
    m1, m2, m3, *m4 = st.columns(3 if res.local is None else 4)
    m1.metric("retrieval error ‖v_t − r_t‖", f"{err:.4f}",
              help="r_t is the rule's own read of its memory with this key, before the write (its formula is in the equations).")
    m2.metric("‖W_t‖_F", f"{float(np.linalg.norm(trace.weights[t].numpy())):.4f}")
    if res.parallel_outputs is not None:
        diff = float(np.abs(trace.outputs[i].numpy() - res.parallel_outputs[i]).max())
        m3.metric("max |y_t recurrent − y_t parallel|", f"{diff:.1e}")
    else:
        m3.metric("parallel form", "none", help="This rule's step is not linear in the old state's inputs; it has no attention form.")
    if m4:  # the local objective the write steps on: ℓ_t(W_{t−1}) → ℓ_t(W_t)
        before, after = float(res.local.before[i]), float(res.local.after[i])
        m4[0].metric("local loss ℓ_t: before → after", f"{before:.4g} → {after:.4g}", delta=f"{after - before:+.3g}",
                     delta_color="inverse",
                     help=f"ℓ_t(W) = {spec.objective.loss}, the fit term of the new pair; the write's step on it: "
                          f"{spec.objective.kind} (Equations view). Before: ℓ_t of the memory W_{{t−1}}; after: of W_t.")

    lesson_readout("explorer")  # the numbers an open lesson step quotes, at this t

    # one tab per view, bound to the URL (?view=...); only the open tab is drawn, so a step redraws one chart
    tabs = st.tabs(EXPLORER_VIEWS, key="view", bind=state.QP)
    shown = next((v for v, tab in zip(EXPLORER_VIEWS, tabs) if tab.open), WEIGHTS)
    ev = explorer.eigenvalues_at(res, t) if shown in (ERROR, EQUATIONS, ALL) else None
    with tabs[EXPLORER_VIEWS.index(shown)]:
        if shown in (WEIGHTS, ALL):
            view.view_chart(figures.weights_figure_at(res, t, hover=True, as_spec=True), "weights",
                       "The memory before the write, what step t changed, and after; on the right v (stored), "
                       "r (the rule's read with φ(k) before writing: W_{t−1}φ(k), divided by z_{t−1}ᵀφ(k) + ε for linear "
                       "attention), y (read-out) and y∥ (the same read-out from the attention "
                       "form). Hover a cell of W_t to see which tokens wrote it.", dark, scale="colour scale, the same at every t:")
        if shown in (ATTENTION, ALL):
            view.view_chart(figures.attention_figure(t=t, tokens=res.tokens, **res.panels, as_spec=True, colorbar=False),
                       "attention", view.attention_caption(spec, res.panels), dark, scale="colour scale:")
        if shown in (ERROR, ALL):
            view.view_chart(figures.retrieval_error_figure(
                {cfg.rule: trace.retrieval_error[:valid].numpy()}, t, eigenvalues=ev, T=T,
                diverged_at={cfg.rule: trace.diverged_at}, as_spec=True), "retrieval_error",
                "How wrong the memory was about each key before learning it; on the right, the eigenvalues of the "
                "step's transition: inside the unit circle memories fade, outside they grow, negative ones flip.", dark)
        if shown in (EQUATIONS, ALL):
            with st.container(key="numbers"):
                view.step_numbers(spec, res, t, key, value, beta_t, err, ev)

    # in the stepper, so that the link and the figure download are those of the step on screen
    share = st.expander("Export and share", key="export", on_change="rerun")
    if share.open:  # lazy: the link's code block loads a syntax highlighter (~0.3 s of the first render)
        with share:
            st.markdown("**Link to this view** (copy with the button on the right):")
            st.code(state.share_url(st.context.url, st.query_params.to_dict()), language=None)
            c1, c2, c3, c4 = st.columns(4)
            # the data callables run only when a button is clicked, not on every rerun
            c1.download_button("Trace (NPZ)", lambda: export.trace_npz(trace, res.tokens), f"fwp_{cfg.rule}_trace.npz",
                               "application/octet-stream", on_click="ignore")
            c2.download_button("Trace (CSV)", lambda: export.trace_csv(trace, res.tokens), f"fwp_{cfg.rule}_trace.csv", "text/csv",
                               on_click="ignore")
            c3.download_button("Configuration (JSON)", export.config_json(cfg), f"fwp_{cfg.rule}_config.json", "application/json",
                               on_click="ignore")
            c4.download_button("Weights figure (HTML)", lambda: export.figure_html(figures.weights_figure_at(res, t)),
                               f"fwp_{cfg.rule}_weights_t{t}.html", "text/html", on_click="ignore")


stepper()

st.divider()
smooth_ok = valid <= state.LIMITS.max_smooth_T and max(trace.weights.shape[-2:]) <= state.LIMITS.max_smooth_d
if st.toggle("Smooth playback in the browser (no server round trip)", key="smooth"):
    if smooth_ok:
        W = trace.weights.numpy()
        fig_s = figures.smooth_playback_figure(W[: valid + 1], (W[1:] - W[:-1])[:valid], res.zmax, as_spec=True)
        smooth_player("smooth_fig", valid, res.tokens, res.zmax)
        st.plotly_chart(figures.page_spec(fig_s, dark), key="smooth_fig", theme=None, config=figures.CHART_CONFIG)
        caption("Every step is in the page already: press ▶ Play, step with Back / Step or drag the slider; nothing is "
                "recomputed and the server is not asked. The update of step t on the left, the memory W_t after it on the "
                "right, both on the colour scale shown beside the controls.")
    else:
        st.warning(f"Smooth playback sends every frame at once, so it is limited to T ≤ {state.LIMITS.max_smooth_T} and "
                   f"d ≤ {state.LIMITS.max_smooth_d}; use Play above for larger runs.")

code = st.expander("Show the code of this rule", key="rule_code", on_change="rerun")
if code.open:  # lazy: highlighting the source costs ~0.3 s of the page's first render in the browser
    with code:
        st.code(inspect.getsource(spec.cls), language="python")
