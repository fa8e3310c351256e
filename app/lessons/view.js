// The lesson player's view steering (an st.components.v2 component in the lesson panel; it draws nothing).
//
// data.key:   the Streamlit key of the view the step points at (outlined in red), or "" for none.
// data.token: changes when the step (or its "Show me" state) changes: the view is steered again.
// data.fit:   projection mode: the page's display formulas too wide for the column are scaled down to fit (the
//             lesson text's inline formulas always are).
// data.watch: {name, marks, shown} — the page's step parameter (t, cmp_t) in the URL; the stepper changes it in a
//             fragment run, which does not redraw the lesson panel. When the URL's value crosses one of the marks
//             (the step's own t, the t its "try this" asks for) against the value the panel was drawn with, the
//             component sends a trigger: a full run redraws the panel ("On screen now", "You have changed the view").
//
// Steering: the outlined view is kept in the viewport (whole if it fits between the header and the pinned readout
// of the step's numbers, else its top at the top)
// while the page draws and redraws (reruns, fragments, plotly charts growing after they mount), until the person
// scrolls by hand (wheel, touch, scroll keys, the scrollbar) or the step changes.
export default function ({ data, setTriggerValue }) {
  const S = (window.__fwpLessonView ||= { token: null, key: '', cancelled: false, until: 0 });
  S.trigger = setTriggerValue;
  S.watch = data.watch || null;
  S.fit = !!data.fit;
  if (S.watch && S.watch.shown !== S.lastShown) { S.lastShown = S.watch.shown; S.sent = null; }
  if (S.token !== data.token) {
    S.token = data.token;
    S.key = data.key || '';
    S.cancelled = false;
    S.until = performance.now() + 30000;  // a redraw long after the step was opened is the person's doing
  }

  const main = () => document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
  const header = () => {
    const h = document.querySelector('[data-testid="stHeader"]');
    const r = h && h.getBoundingClientRect();
    return r && r.height > 0 && getComputedStyle(h).display !== 'none' ? r.bottom : 0;
  };

  function place() {
    if (!S.key || S.cancelled || performance.now() > S.until) return;
    const el = document.querySelector(`.st-key-${CSS.escape(S.key)}`);
    if (!el) return;
    const r = el.getBoundingClientRect();
    if (r.height < 8) return;  // not drawn yet
    const sc = main(), box = sc.getBoundingClientRect();
    const top = Math.max(box.top, header()) + 12;
    let bottom = Math.min(box.bottom, window.innerHeight) - 12;
    const pinned = document.querySelector('.st-key-lesson_readout');  // the step's numbers, pinned to the bottom
    const q = pinned && pinned.getBoundingClientRect();
    if (q && q.height > 0 && q.left < r.right && q.right > r.left) bottom = Math.min(bottom, q.top - 8);
    let dy = 0;
    if (r.height > bottom - top || r.top < top) dy = r.top - top;  // too tall, or above: its top at the top
    else if (r.bottom > bottom) dy = r.bottom - bottom;            // below: its bottom at the bottom, context above
    if (Math.abs(dy) > 2) {
      S.ownScroll = performance.now();
      sc.scrollTop += dy;
    }
  }

  // scale a formula down (to no less than 60 %) until it fits its column: display formulas on the page, and the
  // inline ones of the lesson's text, which cannot break inside brackets
  function shrink(k, box, widths) {  // k: the .katex element, box: the element whose width it must fit
    if (box.clientWidth === 0 || k.dataset.fwpFitW === String(box.clientWidth)) return;  // fitted at this width
    k.style.fontSize = '';
    const base = parseFloat(getComputedStyle(k).fontSize);
    for (let i = 0; i < 4; i++) {  // the width is not quite linear in the size
      const [need, have] = widths();
      if (need <= have) break;
      const now = parseFloat(getComputedStyle(k).fontSize);
      k.style.fontSize = `${Math.max(0.6 * base, now * (have - 6) / need)}px`;
    }
    k.dataset.fwpFitW = String(box.clientWidth);
  }
  function fitFormulas() {
    for (const d of S.fit ? document.querySelectorAll('[data-testid="stMain"] .katex-display') : []) {
      const k = d.querySelector(':scope > .katex');
      const box = d.closest('[data-testid="stMarkdownContainer"]') || d.parentElement;
      if (k && box) shrink(k, box, () => [k.getBoundingClientRect().width, box.clientWidth]);
    }
    for (const k of document.querySelectorAll('.st-key-lesson_panel [data-testid="stMarkdownContainer"] .katex')) {
      const box = k.closest('[data-testid="stMarkdownContainer"]');
      if (!k.closest('.katex-display')) shrink(k, box, () => [k.getBoundingClientRect().width, box.clientWidth]);
    }
  }

  function checkWatch() {
    const w = S.watch;
    if (!w || !S.trigger) return;
    const now = new URLSearchParams(window.location.search).get(w.name);
    if (now === null) return;
    const state = (v) => w.marks.map((m) => String(m) === String(v)).join();
    if (state(now) !== state(w.shown) && S.sent !== now) {
      S.sent = now;
      S.trigger('sync', now);
    }
  }

  if (!S.installed) {
    S.installed = true;
    let queued = false;
    const tick = () => {
      queued = false;
      if (!document.querySelector('.st-key-lesson_panel')) return;  // the lesson was closed
      fitFormulas();
      place();
    };
    S.schedule = () => { if (!queued) { queued = true; requestAnimationFrame(tick); } };
    const cancel = () => { S.cancelled = true; };
    // a person scrolling: wheel, touch, the scroll keys (outside inputs), a press on the scrollbar itself
    window.addEventListener('wheel', cancel, { capture: true, passive: true });
    window.addEventListener('touchmove', cancel, { capture: true, passive: true });
    window.addEventListener('keydown', (e) => {
      const t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      if (['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End', ' '].includes(e.key)) cancel();
    }, { capture: true });
    window.addEventListener('mousedown', (e) => { if (e.target === main()) cancel(); }, { capture: true });
    new MutationObserver(S.schedule).observe(document.body, { childList: true, subtree: true, attributes: true,
                                                               attributeFilter: ['style', 'class'] });
    new ResizeObserver(S.schedule).observe(document.body);
    window.addEventListener('resize', S.schedule);
    setInterval(() => { checkWatch(); S.schedule(); }, 250);
  }
  S.schedule();
  checkWatch();
}
