"""Every page in real Chromium: it draws without an error element, and the browser fetches nothing from outside
the app's own server (no fonts, icons or scripts from a CDN: the app must work in a classroom with no internet)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from app.layout import PAGES
from tests.browser.conftest import errors_on, wait_idle


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_draws_and_fetches_only_from_the_app(server, page, spec) -> None:
    origin = urlparse(server).netloc
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if urlparse(r.url).scheme not in ("data", "blob") and urlparse(r.url).netloc != origin else None)
    path = "/" if spec.default else f"/{spec.url_path}"  # the default page lives at the root (ux.md: Home is /)
    page.goto(server + path)
    wait_idle(page, timeout_ms=60000)
    page.wait_for_timeout(500)  # the favicon and late icons are requested after the first script run
    assert errors_on(page) == []
    assert page.get_by_role("dialog").count() == 0, page.get_by_role("dialog").first.inner_text()  # e.g. "Page not found"
    assert page.title() == ("FWP Explorer" if spec.default else f"{spec.title} · FWP Explorer")
    assert outside == [], f"{path} fetched from outside the app's server: {outside}"
