"""Language: small character-level models, one per update rule (and softmax attention), trained on real text; their
loss curves side by side, then one sentence read character by character by every model."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import figures, jobs, widgets
from app import language_view as view
from app.layout import caption, guarded
from app.lessons.readout import lesson_readout
from app.page_tables import LANGUAGE
from fwp_core import language as lm
from fwp_core.language import pretrain

st.title("Language")
info = pretrain.manifest_info()
bigram = info.get("bigram_entropy")
cfg = lm.make_config(lm.SOFTMAX)  # the sizes every model here shares (its mixer aside)
st.markdown(
    "Every sequence elsewhere in the app is synthetic. Here each rule is the token mixer of a small character-level "
    f"language model (embedding → {cfg.n_layers} fast-weight layers of {cfg.n_heads} heads whose q, k, v and β are learned "
    "projections of the input, a learned linear programmer, with keys and values scaled to unit length for every rule → "
    "MLP → next-character readout; it reads "
    f"{cfg.context} characters at a time), trained on real prose: the documentation of "
    f"{len(lm.MODULES)} Python standard-library modules ({info.get('corpus', {}).get('chars', 0):,} characters, a tenth held "
    "out). A model is as good as the **bits per character** it spends on held-out text"
    + (f"; the best any model that sees only the previous character can do here is **{bigram:.3f}** (the bigram "
       "entropy)." if bigram else ".")
)
for w in LANGUAGE.warnings(st.session_state, st.query_params.to_dict()):
    st.warning(w)

with st.sidebar:
    P = LANGUAGE.params()
    rules = st.multiselect("Rules (2 to 4)", list(P["lang_rules"].choices), default=P["lang_rules"].default, key="lang_rules",
                           bind=widgets.QP, max_selections=P["lang_rules"].max_len,
                           help="Each becomes the token mixer of one model; every rule of the registry is offered.")
    softmax = st.toggle("Softmax attention (baseline)", key="lang_softmax", bind=widgets.QP, value=True,
                        help="Not a fast weight programmer: it keeps every key and value of the context.")
    steps = widgets.number(P["lang_steps"], "Training steps",
                           f"Steps of Adam on batches of {lm.DEFAULTS['batch']} windows of {cfg.context} characters.")
    seed = widgets.number(P["lang_seed"], "Seed")
    source = widgets.segmented(P["lang_source"], "Train on", "corpus: the standard-library documentation; your text: "
                               "pasted or uploaded below")
    text = None
    if source == "your text":
        pasted = st.text_area("Paste text", key="lang_own_text", height=120, max_chars=view.MAX_UPLOAD_BYTES,
                              help=f"At least {view.MIN_OWN_CHARS:,} characters of prose; mapped to printable ASCII.")
        up = st.file_uploader("…or upload a .txt file", type=["txt"], key="lang_upload",
                              help=f"Plain text, UTF-8, at most {view.MAX_UPLOAD_BYTES // 1_000_000} MB.")
        try:
            text = view.own_text(up.name, up.getvalue()) if up is not None else view.checked_text(pasted) if pasted else None
        except ValueError as exc:
            st.error(f"This text cannot be used: {exc}")
        if text is None and not pasted and up is None:
            st.info(f"Paste or upload at least {view.MIN_OWN_CHARS:,} characters of text to train on it.")

mixers = list(dict.fromkeys([*rules, *([lm.SOFTMAX] if softmax else [])]))
if len(rules) < 2:
    st.info("Pick at least two rules in the sidebar to compare them.")

# ------------------------------------------------------------------------------------------ 1. the models
st.subheader("Trained models, side by side")
use_shipped = text is None and source == "corpus" and steps == view.shipped_steps() and seed == pretrain.SEED
models: dict[str, view.Model] = {}
missing: list[str] = []
for r in mixers:
    m = view.trained_model(r, steps, seed, text) or (view.shipped_model(r) if use_shipped else None)
    if m is None:
        missing.append(r)
    else:
        models[r] = m
if missing and (source == "corpus" or text is not None):
    st.caption("Not trained yet at these settings: " + ", ".join(missing) + ". Cost: " + view.cost_text(missing, steps))
    if st.button(f"Train {len(missing)} model{'s' * (len(missing) != 1)}", type="primary", key="lang_train"):
        q = jobs.queue()
        bar, chart = st.empty(), st.empty()
        for r in missing:
            drawn = [0]

            def draw(job: jobs.Job, r: str = r, drawn: list = drawn) -> None:
                bar.progress(job.step / job.total if job.total else 0.0, text=jobs.status_text(job, q))
                if len(job.entries) > drawn[0]:  # a new evaluation: redraw the live curve
                    drawn[0] = len(job.entries)
                    chart.plotly_chart(figures.curves_figure({r: list(job.entries)}, bigram), key=f"lang_live_{r}_{drawn[0]}")
            job = jobs.follow(view.submit(r, steps, seed, text), draw, q)
            if job.state == "failed":
                st.error(f"{r} could not be trained: {job.error}")
        st.rerun()
if models:
    table = pd.DataFrame([{"mixer": r, "held-out bits/char": m.val_bpc,
                           "first occurrence": m.copy[0] if m.copy else None, "second occurrence": m.copy[1] if m.copy else None,
                           "training time (s)": m.seconds, "from": m.origin} for r, m in models.items()]).set_index("mixer")
    st.plotly_chart(figures.curves_figure({r: list(m.history) for r, m in models.items()}, bigram if text is None else None),
                    key="lang_curves", config=figures.CHART_CONFIG)
    bits = st.column_config.NumberColumn(format="%.3f")
    st.container(key="lang_table").dataframe(table, width="stretch", column_config={
        "held-out bits/char": bits, "training time (s)": st.column_config.NumberColumn(format="%.0f"),
        "first occurrence": st.column_config.NumberColumn(format="%.3f", help=f"bits per character on the first occurrence of a word that comes again within the model's {cfg.context}-character context"),
        "second occurrence": st.column_config.NumberColumn(format="%.3f", help="bits per character on its second occurrence: what remembering the first buys")})
    best = min(models.values(), key=lambda m: m.val_bpc)
    caption(f"Held-out bits per character during training (solid; dotted: on the training batches). Lowest now: "
            f"{best.rule}, {best.val_bpc:.3f}" + (f"; the bigram entropy is {bigram:.3f}." if bigram and text is None else ".")
            + " The occurrence columns measure what a memory buys: the bits per character on the letters of a word the "
            "model has already seen in its context, against the first time (a model without memory pays the same twice).")

# ------------------------------------------------------------------------------------------ 2. one sentence
st.subheader("Read a sentence, character by character")
sentence = st.text_input("Sentence", P["lang_text"].default, key="lang_text", bind=widgets.QP, max_chars=P["lang_text"].max_len,
                         help="Any text; it is mapped to printable ASCII like the corpus.")
try:
    chars = lm.normalize_text(sentence)
except ValueError as exc:
    st.error(f"This sentence cannot be read: {exc}")
    st.stop()
if len(chars) < 2 or not models:
    st.info("Type at least two characters, and train or pick models above, to read a sentence.")
    st.stop()


@st.fragment
@guarded
def stepper() -> None:
    t = int(st.slider("character t", 1, len(chars) - 1, min(P["lang_t"].default, len(chars) - 1), key="lang_t", bind=widgets.QP,
                      help="Each model has read the characters up to t; it predicts character t + 1."))
    seen, nxt = chars[:t], chars[t]
    st.markdown(f"Read so far: `{seen[-80:]}` → next: **{figures.shown_char(nxt)}**")
    lesson_readout("language")  # the numbers an open lesson step quotes, at this t
    with st.container(key="lang_reading"):
        for r, m in models.items():
            view.reading_row(m, chars, t)
    caption("Left: the five likeliest next characters (dark: the one that comes). Middle: the last layer's attention row at "
            "t, averaged over heads — how much each earlier character's value adds to the read (for delta-type rules: its "
            "weight on the pseudo-values U, the corrected writes). Right: the last layer's first head's fast weights after "
            "character t.")


stepper()
