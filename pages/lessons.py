"""Lessons: every guided lesson with its goal and length; a lesson opens at its first step on its own page."""

from __future__ import annotations

import streamlit as st

from app import lessons
from app.layout import PAGES

TITLES = {p.url_path: p.title for p in PAGES}

st.title("Lessons")
st.markdown(
    "Guided walks through fast weight programming, one idea at a time, for a class that knows linear algebra but not fast weight "
    "programmers. A lesson drives the app: each step sets a page to a view, says what to look at, and every number in its "
    "text is computed from what is on screen. The lesson player sits at the top of the sidebar (**Previous / Next**); "
    "explore freely and press **Return to step** to come back. A *lesson link* (`?lesson=<id>&step=<k>&class=1`) opens a "
    "step for projecting: the page's own controls hidden (except the one a step asks you to move), the page scrolled to "
    "what the step points at, PageDown / PageUp (a presenter's clicker) for Next / Previous, and *Large text* in the "
    "panel (`&big=1`). Light or dark: the ⋮ menu at the top right."
)
try:
    all_ = lessons.all_lessons()
except ValueError as exc:
    st.error(f"The lessons could not be loaded: {exc}")
    st.stop()

for i, lesson in enumerate(all_.values(), start=1):
    with st.container(border=True, key=f"lesson_card_{lesson.id}"):
        left, right = st.columns([0.75, 0.25], vertical_alignment="center")
        with left:
            st.markdown(f"#### {i}. {lesson.title}")
            st.markdown(lesson.goal)
            st.caption(f"{len(lesson.steps)} steps · pages: {', '.join(TITLES[p] for p in lesson.pages)} · id `{lesson.id}`")
        with right:
            if st.button("Start", key=f"lesson_start_{lesson.id}", type="primary", width="stretch", icon=":material/play_arrow:"):
                first = lesson.steps[0]
                st.switch_page(lessons.PAGE_SPECS[first.page].path, query_params={"lesson": lesson.id, "step": "1"})
            if st.button("Start in projection mode", key=f"lesson_class_{lesson.id}", width="stretch",
                         help="The page's own controls are hidden; only the lesson panel stays in the sidebar."):
                first = lesson.steps[0]
                st.switch_page(lessons.PAGE_SPECS[first.page].path, query_params={"lesson": lesson.id, "step": "1", "class": "1"})
        with st.expander("Steps"):
            st.markdown("\n".join(f"{k}. **{s.title}** — {TITLES[s.page]}" for k, s in enumerate(lesson.steps, start=1)))
