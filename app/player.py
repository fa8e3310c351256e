"""The in-browser player of the Explorer's smooth playback: step, scrub and play a chart's Plotly frames with
no server round trip.

The chart (``st.plotly_chart``, frames named "1" … "T") carries every step; this ``st.components.v2``
component draws the controls — Back / Step buttons, Play/Pause, a range input over t, a speed menu, the
colour scale — and shows frame t on the chart's graph div with the plotly.js that Streamlit loaded for the
chart (``window.Plotly``): the frame's heatmaps are restyled in, which is about twice as fast as
``Plotly.animate`` (used where plotly's frame store is not at hand). Its controls are plain HTML, so
nothing but the chart's heatmaps is redrawn per frame. Play paces itself by the clock: a frame that takes
longer than its slot delays the next one, never queues up. The root element reports what it shows in
``data-t`` and how many frames it has drawn in ``data-drawn`` (read by the tests and the benchmark). Keys
pressed inside the player (← / → on the range input) stay inside it and do not reach the page's Back /
Step shortcuts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from app import figures

SPEEDS = (4, 8, 15, 30, 60)  # frames per second offered by the speed menu

_HTML = """
<div class="fwp-player" data-t="1" data-drawn="0">
  <button type="button" class="prev" title="Previous step (←)">◀ Back</button>
  <button type="button" class="play" title="Play / pause">▶ Play</button>
  <button type="button" class="next" title="Next step (→)">Step ▶</button>
  <input type="range" class="scrub" min="1" max="1" value="1" step="1" aria-label="step t">
  <select class="speed" aria-label="frames per second"></select>
  <span class="label" aria-live="polite"></span>
  <span class="legend" title="colour scale of both matrices, fixed over all steps">
    <span class="lo"></span><span class="bar"></span><span class="hi"></span>
  </span>
</div>
"""

_CSS = """
.fwp-player { display: flex; align-items: center; gap: 0.5rem; flex-wrap: wrap; font-family: inherit; font-size: 0.9rem; }
.fwp-player button, .fwp-player select {
  font: inherit; padding: 0.25rem 0.7rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); background: var(--st-secondary-background-color, #f0f2f6);
  color: var(--st-text-color, inherit);
}
.fwp-player button.play { min-width: 6.5rem; }
.fwp-player .scrub { flex: 1 1 16rem; accent-color: var(--st-primary-color, #c0392b); }
.fwp-player .label { min-width: 12rem; font-variant-numeric: tabular-nums; color: var(--st-text-color, inherit); }
.fwp-player .legend { display: inline-flex; align-items: center; gap: 0.3rem; font-variant-numeric: tabular-nums;
  color: var(--st-text-color, inherit); }
.fwp-player .legend .bar { display: inline-block; width: 8rem; height: 0.8rem; border-radius: 0.2rem; }
"""

_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector('.fwp-player');
  const [prev, play, next] = ['.prev', '.play', '.next'].map((s) => root.querySelector(s));
  const scrub = root.querySelector('.scrub'), speed = root.querySelector('.speed'), label = root.querySelector('.label');
  const n = data.frames, labels = data.labels || [];
  const graph = () => document.querySelector(`.st-key-${data.target} .js-plotly-plot`);
  // a new sequence (or size) comes with a new chart, which starts at step 1; the same one keeps its place
  const sig = JSON.stringify([data.target, n, labels, data.scale.zmax]);
  const same = root.dataset.sig === sig;
  root.dataset.sig = sig;
  let t = same ? Math.min(Math.max(Number(root.dataset.t) || 1, 1), n) : 1, playing = false, alive = true, drawn = 0;

  const scale = data.scale;  // the colour scale, drawn here: a plotly colorbar would be redrawn on every frame
  root.querySelector('.bar').style.background =
    `linear-gradient(to right, ${scale.stops.map(([p, c]) => `${c} ${(100 * p).toFixed(1)}%`).join(', ')})`;
  root.querySelector('.lo').textContent = (-scale.zmax).toPrecision(3);
  root.querySelector('.hi').textContent = '+' + scale.zmax.toPrecision(3);
  speed.replaceChildren(...data.speeds.map((v) => new Option(`${v} steps/s`, v, v === data.speed, v === data.speed)));
  scrub.max = String(n);

  function show(k) {
    t = Math.min(Math.max(k, 1), n);
    scrub.value = String(t);
    root.dataset.t = String(t);
    label.textContent = `t = ${t} / ${n}` + (labels[t - 1] !== undefined ? ` · ${labels[t - 1]}` : '');
    const gd = graph();
    if (!gd) return Promise.resolve();
    if (!window.Plotly) {  // should not happen: the chart loaded plotly.js; say so rather than fail silently
      label.textContent += ' — cannot reach plotly.js here; use Play above';
      return Promise.resolve();
    }
    return draw(gd, String(t)).then(() => { drawn += 1; root.dataset.drawn = String(drawn); }, () => {});
  }
  function draw(gd, name) {
    // Restyling the frame's z straight in is about twice as fast as Plotly.animate (which first merges the
    // frame into the whole figure and waits for an animation frame); it reads plotly's frame store, so where
    // that is not there the public Plotly.animate does the same job.
    const frame = gd._transitionData && gd._transitionData._frameHash && gd._transitionData._frameHash[name];
    if (frame && Array.isArray(frame.data) && Array.isArray(frame.traces)) {
      return window.Plotly.restyle(gd, {z: frame.data.map((d) => d.z)}, frame.traces);
    }
    return window.Plotly.animate(gd, [name], {frame: {duration: 0, redraw: true}, transition: {duration: 0}, mode: 'immediate'});
  }
  function setPlaying(on) {
    playing = on;
    play.textContent = on ? '❚❚ Pause' : '▶ Play';
  }
  async function run() {
    if (t >= n) await show(1);
    while (playing && alive && t < n) {
      const start = performance.now();
      await show(t + 1);
      const rest = 1000 / Number(speed.value) - (performance.now() - start);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
    setPlaying(false);
  }
  const stop = () => setPlaying(false);
  prev.onclick = () => { stop(); show(t - 1); };
  next.onclick = () => { stop(); show(t + 1); };
  play.onclick = () => { if (playing) stop(); else { setPlaying(true); run(); } };
  scrub.oninput = () => { stop(); show(Number(scrub.value)); };
  root.onkeydown = (e) => {  // keep ← / → here: they must not also trigger the page's server-side Back / Step
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') e.stopPropagation();
  };
  show(t);
  return () => { alive = false; playing = false; };
}
"""

_player = st.components.v2.component("fwp_smooth_player", html=_HTML, css=_CSS, js=_JS)


def smooth_player(target: str, frames: int, labels: Sequence[str], zmax: float, *, speed: int = 30,
                  key: str = "smooth_player") -> None:
    """Draw the player for the chart with Streamlit key ``target``, whose frames are named "1" … ``frames``;
    ``labels[t-1]`` is shown beside t (the token), and the colour scale spans ±``zmax``."""
    if frames < 1:
        raise ValueError(f"the player needs at least one frame, got {frames}")
    if speed not in SPEEDS:
        raise ValueError(f"speed must be one of {', '.join(map(str, SPEEDS))} steps/s, got {speed}")
    if not (zmax > 0 and math.isfinite(zmax)):
        raise ValueError(f"the colour range must be a positive finite number, got {zmax}")
    _player(key=key, data={"target": target, "frames": int(frames), "labels": [str(x) for x in labels[:frames]],
                           "speeds": list(SPEEDS), "speed": speed,
                           "scale": {"zmax": float(zmax), "stops": figures.colour_stops()}})
