"""Builders of the Biology page (pages/biology.py). Each takes one result of ``fwp_core.biology`` (frozen, read-only
numpy arrays; duck-typed, nothing is imported from the core here) and draws only finite values."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ._spec import FONT, OUTLINE, RULE_COLORS

_BIO_GREY = "#7f8c8d"


def _bio_xy(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """dict(x=..., y=...) of the points where both are finite (for ``go.Scatter(**_bio_xy(x, y))``)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    return dict(x=x[ok], y=y[ok])


def bio_three_factor_figure(res) -> go.Figure:
    """Three-factor learning over time (a ``ThreeFactorResult``). Top: the items (pre·post coincidences; traces
    ``rewarded item`` and ``unrewarded item``), the eligibility trace ‖E_t‖ (trace ``eligibility ‖E_t‖``) and the
    neuromodulator M_t (trace ``M_t``). Bottom: ‖W_t‖ of the three-factor rule (trace ``three-factor ‖W_t‖``), of the
    causal FWP with two fast weights (markers ``two fast weights ‖W_t‖``, on the red line at every step), of plain
    Hebbian learning (trace ``Hebbian ‖W_t‖``), and of the non-causal β-weighted Hebbian sum Σ_{s≤t} β_s v_s k_sᵀ
    (trace ``β-weighted Hebbian sum``), which jumps at an item before its reward and meets W_t only at T."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("coincidences leave an eligibility trace; the neuromodulator M_t converts it",
                                        "what is written: ‖W_t‖ (dots: the two-fast-weight FWP)"))
    t = np.asarray(res.time, dtype=float)
    items = np.asarray(res.item_times, dtype=float)
    rew = np.asarray(res.rewarded, dtype=bool)
    fig.add_trace(go.Bar(x=t, y=res.modulator, name="M_t", marker_color=RULE_COLORS[4], width=0.7,
                         hovertemplate="step %{x}: M = %{y:.3f}<extra>neuromodulator</extra>"), 1, 1)
    fig.add_trace(go.Scatter(**_bio_xy(t, res.eligibility_norm), mode="lines", name="eligibility ‖E_t‖",
                             line=dict(color=RULE_COLORS[2], width=2),
                             hovertemplate="step %{x}: ‖E‖ = %{y:.3f}<extra></extra>"), 1, 1)
    for mask, name, symbol in ((rew, "rewarded item", "star"), (~rew, "unrewarded item", "circle-open")):
        if mask.any():
            idx = np.flatnonzero(mask)
            fig.add_trace(go.Scatter(x=items[mask], y=np.full(mask.sum(), 1.12), mode="markers+text", name=name,
                                     text=[f"item {i + 1}" for i in idx], textposition="top center",
                                     marker=dict(symbol=symbol, size=12, color="#17202a"),
                                     hovertemplate="item presented at step %{x}<extra></extra>"), 1, 1)
    for name, y, color, dash in (("three-factor ‖W_t‖", res.weight_norm, RULE_COLORS[0], None),
                                 ("Hebbian ‖W_t‖", res.hebbian_weight_norm, RULE_COLORS[1], "dash"),
                                 ("β-weighted Hebbian sum", res.beta_sum_norm, _BIO_GREY, "dot")):
        fig.add_trace(go.Scatter(**_bio_xy(t, y), mode="lines", name=name, line=dict(color=color, width=2, dash=dash),
                                 line_shape="hv", hovertemplate="step %{x}: ‖W‖ = %{y:.3f}<extra>" + name + "</extra>"), 2, 1)
    fig.add_trace(go.Scatter(**_bio_xy(t, res.fwp_weight_norm), mode="markers", name="two fast weights ‖W_t‖",
                             marker=dict(symbol="circle", size=4, color="#17202a"),
                             hovertemplate="step %{x}: ‖W‖ = %{y:.3f}<extra>causal FWP, two fast weights</extra>"), 2, 1)
    top = max(1.45, float(np.nanmax(np.asarray(res.modulator, dtype=float))) * 1.1)
    fig.update_yaxes(title_text="activity", range=[0, top], row=1, col=1)
    fig.update_yaxes(title_text="‖W_t‖_F", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="time step t", row=2, col=1)
    fig.update_layout(height=480, margin=dict(l=60, r=20, t=40, b=40), font=FONT, bargap=0,
                      legend=dict(orientation="h", y=-0.14))
    return fig


def bio_stored_figure(res) -> go.Figure:
    """How strongly each item ended up stored, v_iᵀ W_T k_i (a ``ThreeFactorResult``): bars ``Hebbian`` and
    ``three-factor`` (overlaid, the narrow one in front), and the non-causal write strength β_s = Σ_{t≥s} M_t λ^{t−s}
    of each item (markers ``β_s (non-causal)``). β_s equals the final three-factor bar (keys orthonormal, values
    unit), but it sums rewards that arrive after the item, so it matches W_T only, not W_t on the way."""
    n = len(res.stored)
    rew = np.asarray(res.rewarded, dtype=bool)
    labels = [f"item {i + 1}" + (" ★" if rew[i] else "") for i in range(n)]
    beta = np.asarray(res.beta_equivalent, dtype=float)[np.asarray(res.item_times, dtype=int) - 1]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=res.hebbian_stored, name="Hebbian", marker_color=RULE_COLORS[1], opacity=0.35, width=0.75,
                         hovertemplate="%{x}: Hebbian stores %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Bar(x=labels, y=res.stored, name="three-factor", marker_color=RULE_COLORS[0], width=0.35,
                         hovertemplate="%{x}: three-factor stores %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=labels, y=beta, mode="markers", name="β_s (non-causal)",
                             marker=dict(symbol="diamond", size=11, color="#17202a"),
                             hovertemplate="%{x}: β_s = Σ_{t≥s} M_t λ^(t−s) = %{y:.4f} (uses later rewards)<extra></extra>"))
    fig.update_yaxes(title_text="stored strength v_iᵀ W_T k_i", rangemode="tozero")
    fig.update_layout(barmode="overlay", height=340, margin=dict(l=60, r=20, t=20, b=40), font=FONT,
                      legend=dict(orientation="h", y=-0.18))
    return fig


def bio_oja_figure(res) -> go.Figure:
    """Oja vs plain Hebbian growth over the inputs (an ``OjaResult``). Left: log₁₀ ‖w_t‖ (traces ``Oja`` and
    ``Hebbian``; 0 means ‖w‖ = 1; the log is finite even where the Hebbian norm overflows). Right: the angle between
    w_t and the top eigenvector (traces ``Oja angle``, ``Hebbian angle``)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("weight norm: log₁₀ ‖w_t‖ (0 means ‖w‖ = 1)", "angle to the top eigenvector"))
    steps = res.steps
    with np.errstate(divide="ignore"):
        log_oja = np.log10(np.asarray(res.norm_oja, dtype=float))
    series = (("Oja", log_oja, res.angle_oja, RULE_COLORS[0]),
              ("Hebbian", res.log10_norm_hebbian, res.angle_hebbian, RULE_COLORS[1]))
    for (name, lognorm, angle, color), dash in zip(series, (None, "dash")):
        xy = _bio_xy(steps, lognorm)
        fig.add_trace(go.Scatter(**xy, mode="lines", name=name, legendgroup=name, line=dict(color=color, width=2, dash=dash),
                                 customdata=np.power(10.0, np.clip(xy["y"], -300, 300)),
                                 hovertemplate=f"{name}: step %{{x}}, ‖w‖ = %{{customdata:.4g}}<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(**_bio_xy(steps, angle), mode="lines", name=f"{name} angle", legendgroup=name,
                                 showlegend=False, line=dict(color=color, width=2, dash=dash),
                                 hovertemplate=f"{name}: step %{{x}}, angle %{{y:.2f}}°<extra></extra>"), 1, 2)
    fig.add_hline(y=0.0, line=dict(color="#555", dash="dot"), row=1, col=1)
    fig.update_xaxes(title_text="inputs seen t", row=1, col=1)
    fig.update_xaxes(title_text="inputs seen t", row=1, col=2)
    fig.update_yaxes(title_text="log₁₀ ‖w_t‖", row=1, col=1)
    fig.update_yaxes(title_text="degrees", range=[0, 92], row=1, col=2)
    fig.update_layout(height=340, margin=dict(l=60, r=20, t=40, b=40), font=FONT, legend=dict(orientation="h", y=-0.22))
    return fig


def bio_oja_inputs_figure(res, max_points: int = 800) -> go.Figure:
    """The input cloud (first two coordinates; trace ``inputs``), the top eigenvector's axis (trace ``top
    eigenvector``), the unit circle, and the path of Oja's weights w_0 → w_T (traces ``Oja path`` and ``Oja w_T``)."""
    x = np.asarray(res.inputs, dtype=float)[:, :2]
    if len(x) > max_points:
        x = x[np.linspace(0, len(x) - 1, max_points).astype(int)]
    x = x[np.isfinite(x).all(axis=1)]
    u = np.asarray(res.top_eigenvector, dtype=float)[:2]
    w = np.asarray(res.weights_oja, dtype=float)[:, :2]
    w = w[np.isfinite(w).all(axis=1)]
    r = max(1.5, float(np.percentile(np.abs(x), 98)) if x.size else 1.5)
    th = np.linspace(0, 2 * np.pi, 181)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x[:, 0], y=x[:, 1], mode="markers", name="inputs", marker=dict(size=4, color=_BIO_GREY, opacity=0.45),
                             hovertemplate="k = (%{x:.2f}, %{y:.2f})<extra></extra>"))
    fig.add_trace(go.Scatter(x=[-r * u[0], r * u[0]], y=[-r * u[1], r * u[1]], mode="lines", name="top eigenvector",
                             line=dict(color="#17202a", dash="dash"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=np.cos(th), y=np.sin(th), mode="lines", name="‖w‖ = 1", line=dict(color="#999", dash="dot"),
                             hoverinfo="skip"))
    if len(w):
        fig.add_trace(go.Scatter(x=w[:, 0], y=w[:, 1], mode="lines", name="Oja path", line=dict(color=RULE_COLORS[0], width=1.5),
                                 hovertemplate="w = (%{x:.3f}, %{y:.3f})<extra></extra>"))
        fig.add_trace(go.Scatter(x=[w[-1, 0]], y=[w[-1, 1]], mode="markers+text", name="Oja w_T", text=["w_T"],
                                 textposition="top right", marker=dict(size=12, color=RULE_COLORS[0], line=dict(color=OUTLINE, width=1)),
                                 hovertemplate="w_T = (%{x:.3f}, %{y:.3f})<extra></extra>"))
        fig.add_trace(go.Scatter(x=[w[0, 0]], y=[w[0, 1]], mode="markers+text", name="w_0", text=["w_0"], textposition="bottom right",
                                 marker=dict(size=9, color="#fff", line=dict(color=RULE_COLORS[0], width=2)),
                                 hovertemplate="w_0 = (%{x:.3f}, %{y:.3f})<extra></extra>"))
    fig.update_xaxes(title_text="input dim 1", range=[-r, r], zeroline=True)
    fig.update_yaxes(title_text="input dim 2", range=[-r, r], scaleanchor="x", zeroline=True)
    fig.update_layout(height=380, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.2))
    return fig


def bio_stp_figure(res) -> go.Figure:
    """Tsodyks–Markram synapse beside two fast-weight rules (an ``STPResult``). Top: u (trace ``u (facilitation)``),
    x (``x (resources)``), the efficacy u·x (``efficacy u·x``) and the presynaptic spikes (``spikes``). Bottom: the
    strength vᵀW_t k of one item in the ``decay`` rule (trace ``decay rule``) and the ``gated`` rule (``gated rule``)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("the synapse (Tsodyks–Markram): facilitation u, resources x, efficacy u·x",
                                        "the same item held in fast weights: vᵀ W_t k"))
    t = np.asarray(res.time, dtype=float)
    for name, y, color, width in (("u (facilitation)", res.u, RULE_COLORS[0], 1.5), ("x (resources)", res.x, RULE_COLORS[1], 1.5),
                                  ("efficacy u·x", res.efficacy, "#17202a", 2.5)):
        fig.add_trace(go.Scatter(**_bio_xy(t, y), mode="lines", name=name, line=dict(color=color, width=width),
                                 hovertemplate=f"t = %{{x:.2f}} s: {name.split(' ')[0]} = %{{y:.3f}}<extra></extra>"), 1, 1)
    st_ = np.asarray(res.spike_times, dtype=float)
    fig.add_trace(go.Scatter(x=st_, y=np.full(st_.shape, 1.06), mode="markers", name="spikes",
                             marker=dict(symbol="line-ns-open", size=10, color="#555"),
                             hovertemplate="spike at %{x:.3f} s<extra></extra>"), 1, 1)
    fig.add_hline(y=res.baseline, line=dict(color="#555", dash="dot"), annotation_text="rest U", annotation_position="bottom right",
                  row=1, col=1)
    for name, y, color, dash in (("decay rule", res.decay_strength, RULE_COLORS[2], None),
                                 ("gated rule", res.gated_strength, RULE_COLORS[3], "dash")):
        fig.add_trace(go.Scatter(**_bio_xy(t, y), mode="lines", name=name, line=dict(color=color, width=2, dash=dash),
                                 hovertemplate=f"t = %{{x:.2f}} s: {name} vᵀWk = %{{y:.3f}}<extra></extra>"), 2, 1)
    for row in (1, 2):
        fig.add_vline(x=res.last_spike, line=dict(color="#999", dash="dot"), row=row, col=1)
    if res.clear_time is not None:
        fig.add_vline(x=res.clear_time, line=dict(color=RULE_COLORS[3], dash="dash"), annotation_text="gate α = 0 (clear)",
                      annotation_position="top right", row=2, col=1)
    fig.update_yaxes(title_text="u, x, u·x", range=[0, 1.12], row=1, col=1)
    fig.update_yaxes(title_text="vᵀ W_t k", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(height=520, margin=dict(l=60, r=20, t=40, b=40), font=FONT, legend=dict(orientation="h", y=-0.12))
    return fig


def bio_btsp_fields_figure(res) -> go.Figure:
    """Place fields along the track (a ``BTSPResult``), field(x) = Σ w_i r_i(x) / Σ r_i(x): before the lap
    (trace ``before``, drawn when non-zero), after one BTSP lap (``BTSP (1 lap)``), after one and after all Hebbian
    laps (``Hebbian (1 lap)``, ``Hebbian (n laps)``) and after one delta-rule write (``delta rule (1 write)``)."""
    pos = np.asarray(res.positions, dtype=float)
    hf = np.asarray(res.hebbian_fields, dtype=float)
    n = hf.shape[0] - 1
    fig = go.Figure()
    before = np.asarray(res.field_before, dtype=float)
    if np.abs(before[np.isfinite(before)]).max(initial=0.0) > 1e-12:
        fig.add_trace(go.Scatter(**_bio_xy(pos, before), mode="lines", name="before", line=dict(color=_BIO_GREY, dash="dot", width=2)))
    curves = (("Hebbian (1 lap)", hf[min(1, n)], RULE_COLORS[1], "dot", 1.5),
              (f"Hebbian ({n} laps)", hf[n], RULE_COLORS[1], None, 2),
              ("delta rule (1 write)", res.field_delta, RULE_COLORS[2], "dash", 2),
              ("BTSP (1 lap)", res.field_btsp, RULE_COLORS[0], None, 3))
    for name, y, color, dash, width in curves:
        fig.add_trace(go.Scatter(**_bio_xy(pos, y), mode="lines", name=name, line=dict(color=color, dash=dash, width=width),
                                 hovertemplate=f"{name}: %{{x:.0f}} cm, field %{{y:.3f}}<extra></extra>"))
    fig.add_vline(x=res.plateau_position, line=dict(color="#17202a", dash="dash"), annotation_text="plateau",
                  annotation_position="top left")
    peak = max(float(np.nanmax(np.where(np.isfinite(y := np.asarray(c[1], dtype=float)), y, 0.0))) for c in curves)
    fig.add_annotation(x=0.0, y=1.07, xref="paper", yref="paper", showarrow=False, xanchor="left",
                       text="the animal runs this way →", font=dict(size=11, color="#555"))
    fig.update_xaxes(title_text="position on the track (cm)", range=[pos.min(), pos.max()])
    fig.update_yaxes(title_text="field (units of w_max)", range=[0, 1.15 * max(peak, 1e-9)])
    fig.update_layout(height=360, margin=dict(l=60, r=20, t=30, b=40), font=FONT, legend=dict(orientation="h", y=-0.22))
    return fig


def bio_btsp_window_figure(res) -> go.Figure:
    """The BTSP plasticity window (a ``BTSPResult``): Δw of each synapse against when its input was passed relative
    to the plateau onset, for a synapse starting at 0 (trace ``from w = 0``: potentiation) and at w_max (trace
    ``from w = w_max``: depression)."""
    lag = np.asarray(res.window_lag, dtype=float)
    order = np.argsort(lag)
    fig = go.Figure()
    for name, y, color in (("from w = 0", res.dw_from_zero, RULE_COLORS[0]), ("from w = w_max", res.dw_from_max, RULE_COLORS[1])):
        fig.add_trace(go.Scatter(**_bio_xy(lag[order], np.asarray(y, dtype=float)[order]), mode="lines", name=name,
                                 line=dict(color=color, width=2),
                                 hovertemplate=f"{name}: input passed %{{x:+.2f}} s from the plateau, Δw = %{{y:+.3f}}<extra></extra>"))
    fig.add_vline(x=0.0, line=dict(color="#17202a", dash="dash"))
    fig.add_hline(y=0.0, line=dict(color="#999", width=1))
    fig.update_xaxes(title_text="input passed − plateau onset (s)")
    fig.update_yaxes(title_text="Δw in one lap")
    fig.update_layout(height=320, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.25))
    return fig


def bio_btsp_laps_figure(res) -> go.Figure:
    """Field gain (peak of field − field before) after each Hebbian lap (trace ``Hebbian``) against BTSP's gain
    after one lap (trace ``BTSP (1 lap)``, a horizontal line), with the lap where Hebbian learning catches up."""
    hf = np.asarray(res.hebbian_fields, dtype=float)
    before = np.asarray(res.field_before, dtype=float)
    gains = (hf - before).max(axis=1)
    laps = np.arange(len(gains))
    g_btsp = float((np.asarray(res.field_btsp, dtype=float) - before).max())
    fig = go.Figure()
    fig.add_trace(go.Scatter(**_bio_xy(laps, gains), mode="lines+markers" if len(laps) <= 60 else "lines", name="Hebbian",
                             line=dict(color=RULE_COLORS[1], width=2), marker=dict(size=5),
                             hovertemplate="after %{x} laps: gain %{y:.3f}<extra>Hebbian</extra>"))
    fig.add_trace(go.Scatter(x=[0, laps[-1]], y=[g_btsp, g_btsp], mode="lines", name="BTSP (1 lap)",
                             line=dict(color=RULE_COLORS[0], dash="dash", width=2),
                             hovertemplate="BTSP after one lap: gain %{y:.3f}<extra></extra>"))
    if res.hebbian_laps_to_match is not None:
        m = int(res.hebbian_laps_to_match)
        fig.add_trace(go.Scatter(x=[m], y=[gains[m]], mode="markers+text", name="Hebbian catches up", text=[f"lap {m}"],
                                 textposition="top left", marker=dict(size=11, color=RULE_COLORS[1], line=dict(color=OUTLINE, width=1.5)),
                                 hoverinfo="skip"))
    fig.update_xaxes(title_text="laps")
    fig.update_yaxes(title_text="field gain", rangemode="tozero")
    fig.update_layout(height=320, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.25))
    return fig


def bio_kv_sweep_figure(res) -> go.Figure:
    """What a cue recalls (a ``KVRetrievalResult``) as it goes from degraded (s = −1) through the original key (0) to
    specific (1): cos(W q, v₁) (trace ``target v₁``), cos(W q, v₂) (``interferer v₂``), ‖W q‖ (``strength ‖W q‖``);
    the three named cues marked (``cues``) and the 0.9 recall threshold."""
    s = np.asarray(res.specificity, dtype=float)
    fig = go.Figure()
    for name, y, color, dash in (("target v₁", res.sweep_cos_target, RULE_COLORS[0], None),
                                 ("interferer v₂", res.sweep_cos_interferer, RULE_COLORS[1], None),
                                 ("strength ‖W q‖", res.sweep_strength, _BIO_GREY, "dot")):
        fig.add_trace(go.Scatter(**_bio_xy(s, y), mode="lines", name=name, line=dict(color=color, width=2, dash=dash),
                                 hovertemplate=f"specificity %{{x:+.2f}}: {name.split(' ')[0]} %{{y:.3f}}<extra></extra>"))
    cues = np.array([-1.0, 0.0, 1.0])
    ct = np.asarray(res.cos_target, dtype=float)
    fig.add_trace(go.Scatter(x=cues, y=ct, mode="markers+text", name="cues", text=list(res.query_names),
                             textposition=["top right", "top center", "top left"],
                             marker=dict(size=11, color=RULE_COLORS[0], symbol="diamond", line=dict(color=OUTLINE, width=1)),
                             hovertemplate="%{text} cue: cos(W q, v₁) = %{y:.3f}<extra></extra>"))
    fig.add_hline(y=0.9, line=dict(color="#999", dash="dash"), annotation_text="recalled (cos ≥ 0.9)", annotation_position="bottom left")
    fig.update_xaxes(title_text="cue specificity s   (q ∝ k₁ − s·c·k₂)", range=[-1.05, 1.05])
    fig.update_yaxes(title_text="cosine / strength", range=[-0.05, 1.15])
    fig.update_layout(height=360, margin=dict(l=60, r=20, t=20, b=40), font=FONT, legend=dict(orientation="h", y=-0.22))
    return fig
