"""Programmer: train the slow net in the session, then step through the fast weights it learned to write."""

from __future__ import annotations

import streamlit as st

from app import programmer_view as view
from app import training
from app.layout import guarded
from app import widgets
from app.page_tables import PROGRAMMER
from fwp_core import programmer as prog
from fwp_core.programmer import pretrain
from fwp_core.programmer.replay import replay, stepping_batch

st.title("Programmer")
st.markdown(
    "An FWP is two networks: the fast weights, and a slow **programmer** trained by gradient descent to emit the keys, "
    "values, queries and write strengths β that the fast weights are written with. Train one here (on the CPU, in "
    "seconds), then step through what it learned to write. On **parity**, compare β ∈ (0, 1) with β ∈ (0, 2): only the "
    "second can give the delta rule's transition I − β k kᵀ a negative eigenvalue 1 − β (a full reflection at β = 2), "
    "which is what flipping a running parity needs."
)


for w in PROGRAMMER.warnings(st.session_state, st.query_params.to_dict()):
    st.warning(w)

with st.sidebar:
    P = PROGRAMMER.params()
    task = widgets.select(P["prog_task"], "Task", "; ".join(f"{n}: {prog.get_task(n).help}" for n in P["prog_task"].choices))
    kind = widgets.select(P["prog_kind"], "Programmer kind", "linear: token → k, v, q, β; recurrent: also sees its previous "
                          "output; self_referential: one matrix that writes itself with the delta rule")
    P = PROGRAMMER.params({"prog_task": task, "prog_kind": kind})  # the rules offered depend on the kind, the steps on the task
    rule = widgets.select(P["prog_rule"], "Fast-weight rule", "" if kind != "self_referential" else
                          "The self-referential programmer writes one key per token, so rules with sub-steps are not offered.")
    beta = widgets.segmented(P["prog_beta"], "β range", "0-1: β = sigmoid(·); 0-2: β = 2·sigmoid(·), which allows reflections")
    spec = prog.get_task(task)
    steps = widgets.number(P["prog_steps"], "Training steps", f"At most {prog.MAX_STEPS} (a few seconds per 100 steps on a CPU).",
                           step=50)
    seed = widgets.number(P["prog_seed"], "Seed")
    st.caption(f"Training: batches of {spec.defaults.get('batch_size', 64)} sequences of length "
               f"{spec.train_lengths[0]}–{spec.train_lengths[1]}; tested at length {spec.eval_length}.")


@guarded
def main() -> None:
    key = (task, rule, kind, beta, steps, seed)
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    if c1.button("Train", type="primary", key="prog_train"):
        try:
            training.train_with_progress(key)
        except ValueError as exc:
            st.error(f"This programmer cannot be trained: {exc}")
            return
    c2.caption("Trained programmers are cached per configuration: training the same one again is instant.")

    uploaded = None
    with st.expander("Load a saved programmer"):
        f = st.file_uploader("A .pt file saved from this page", type=["pt"], key="prog_file",
                             help=f"At most {prog.MAX_FILE_BYTES // 2**20} MB; read with torch.load(weights_only=True), never unpickled.")
        if f is not None:
            try:
                uploaded = prog.load(f.getvalue())
                st.success(f"Loaded a {uploaded.config.kind} programmer for {uploaded.config.task} with rule {uploaded.config.rule}.")
            except ValueError as exc:
                st.error(f"This file is not a saved programmer: {exc}")

    result, origin = training.available(key)
    if uploaded is not None:
        model = uploaded
        st.caption(f"Showing the programmer loaded from the file ({model.config.kind}, rule {model.config.rule}); "
                   "remove the file to go back.")
        if model.config.task != task:
            st.warning(f"The loaded programmer was trained on {model.config.task}; switch the task to {model.config.task} to test it.")
            return
    elif result is None:
        ready = "; ".join(f"{e.task} with {e.rule}, {e.kind}, β ∈ (0, {e.beta_max:g})" for e in pretrain.SHIPPED)
        st.info(f"No programmer is trained for this configuration yet. Press **Train** to train it here ({steps} steps "
                f"of Adam on the CPU). These open ready (the default steps, seed 0): {ready}.")
        return
    else:
        model = result.model
        view.record(result, origin, key)

    st.subheader("Step through what it writes")
    bits_param = PROGRAMMER.param("prog_bits")
    bits = bits_param.default
    if spec.symbols:
        bits = st.text_input("Test bits", bits, key="prog_bits", bind=widgets.QP, max_chars=bits_param.max_len,
                             help="A string of 0 and 1; a BOS token is put in front.")
    try:
        batch = stepping_batch(task, bits, spec.eval_length, seed + 1)
    except ValueError as exc:
        st.error(f"This test sequence cannot be used: {exc}")
        return
    view.stepping(replay(model, batch), batch)
    if task == "parity" and result is not None and uploaded is None:
        view.parity_pair(key, result, origin, batch)


main()
if task in pretrain.EXPRESSIVITY_TASKS:
    guarded(view.expressivity)(task)
