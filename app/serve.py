"""Start the app with its heavy work done before the server answers: ``python -m app.serve [streamlit options]``.

``streamlit run app/main.py`` starts serving at once and imports torch, plotly and the core on the first
visitor's script run (~2.5 s on a 2-core machine), so the first person to open a page waits for it. This
launcher imports everything the pages need and runs one small Explorer computation first (the first torch
ops, numpy's linear algebra and plotly's JSON encoder all have one-off start-up costs), then hands over to
``streamlit run``: the server reports healthy only when a visitor gets the warm path. ``make run``, the
Docker image and the browser tests start the app this way; every streamlit option passes through.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def warm_up() -> float:
    """Import the pages' dependencies and run one small step through the core and the figure builders;
    returns the seconds it took. Nothing here touches Streamlit's caches (there is no runtime yet)."""
    t0 = time.perf_counter()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import logging

    import streamlit.runtime.caching.cache_data_api  # noqa: F401  (creates the logger quieted below)

    # st.cache_data checks its storage when a module that uses it is imported; with no runtime yet it logs a
    # warning per cached function (harmless: each call looks the storage up again once the server runs)
    cache_log = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = cache_log.level
    cache_log.setLevel(logging.ERROR)
    try:
        _warm()
    finally:
        cache_log.setLevel(level)
    return time.perf_counter() - t0


def _warm() -> None:
    import plotly.io as pio

    from app import cache, figures, lessons  # noqa: F401  (the imports of every page)
    from fwp_core.experiments import explorer

    # the Explorer's own computation (rule, episode, recurrence, parallel form), without its cache
    res = cache.explorer_result.__wrapped__(explorer.ExplorerConfig(T=8, d_k=4, d_v=4))
    explorer.eigenvalues_at(res, 2)
    fig = figures.weights_figure_at(res, 2, hover=True, as_spec=True)
    pio.to_json(figures.page_spec(fig, False).to_dict(), validate=False)
    # Streamlit asks once per process, at the first element any session draws, whether it runs in a REPL: it
    # walks the call stack with `inspect`, which maps every loaded module to its file on first use (~0.1 s with
    # torch and plotly loaded). Asking here fills that map before the first visitor comes.
    from streamlit import env_util

    env_util.is_repl()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    took = warm_up()
    print(f"FWP Explorer: warmed up in {took:.1f} s; starting streamlit", file=sys.stderr, flush=True)
    from streamlit.web import cli

    return cli.main(["run", str(ROOT / "app" / "main.py"), *args], prog_name="streamlit", standalone_mode=True)


if __name__ == "__main__":
    raise SystemExit(main())
