"""Pure experiments behind the pages (config in, results out; no Streamlit, no Plotly). The app caches them."""
