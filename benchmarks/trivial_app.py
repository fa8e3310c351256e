"""The baseline of the UI benchmark: a one-button Streamlit app."""

import streamlit as st

if "n" not in st.session_state:
    st.session_state.n = 0
if st.button("Step"):
    st.session_state.n += 1
st.caption(f"n = {st.session_state.n}")
