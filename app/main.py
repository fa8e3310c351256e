"""Entry point: ``streamlit run app/main.py``. Page config, the page router and the shared sidebar."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/ on the path, not the repo root
    sys.path.insert(0, str(ROOT))

import os  # noqa: E402

import streamlit as st  # noqa: E402
import torch  # noqa: E402

# One intra-op thread per computation: a server runs many sessions' steps at once, and small matrices gain
# nothing from more threads while oversubscribed cores lose a lot (FWP_TORCH_THREADS overrides).
torch.set_num_threads(int(os.environ.get("FWP_TORCH_THREADS", "1")))

import app.cache  # noqa: E402,F401  (the heavy imports of every page, before the heap is frozen)
import app.figures  # noqa: E402,F401
from app.layout import PAGES, app_style, freeze_startup_heap, guarded, sidebar_footer  # noqa: E402
from app.lessons import lesson_panel  # noqa: E402
from app.lessons.readout import STEPPED_PAGES, lesson_readout  # noqa: E402

freeze_startup_heap()

# before st.navigation: a page icon set later comes too late, and the browser first fetches the current page's
# Material icon as its favicon from fonts.gstatic.com (tests/browser/test_pages_browser.py)
st.set_page_config(page_title="FWP Explorer", page_icon="🧠", layout="wide", initial_sidebar_state="auto")
page = st.navigation([st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default) for p in PAGES])
# the browser tab names the page (a teacher with the Explorer and Compare open side by side tells them apart)
st.set_page_config(page_title="FWP Explorer" if page.url_path == "" else f"{page.title} · FWP Explorer")
app_style()
guarded(lesson_panel)(page)  # a lesson step sets the page's state before its widgets exist
guarded(page.run)()
if (page.url_path or "home") not in STEPPED_PAGES:  # the steppers draw it themselves, so it follows t
    guarded(lesson_readout)(page.url_path or "home")  # the numbers the lesson step quotes, on the page
sidebar_footer()
