"""Browser-test fixtures: one app server (`python -m app.serve`, as `make run` starts it) on a free port and Debian's Chromium through Playwright.

All browser tests share one xdist group, so one worker owns the server and the browser. Chromium is
never downloaded: where /usr/bin/chromium is missing every browser test fails, naming the script that
installs it (``make test`` runs that script first). To leave the browser tests out on purpose, deselect
them: ``make test-fast`` (``-m "not browser"``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "artifacts"


EXPECT_TIMEOUT_MS = 30_000
"""How long a Playwright ``expect`` waits for the page to reach a state (its default, 5 s, is shorter than a first
render of a component on a loaded 2-core machine; a wait is not a timing assertion — it only bounds a hang)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): run in one xdist worker")
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy at {base} within {timeout}s")


def start_server(extra_env: dict[str, str] | None = None, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """The app as ``make run`` starts it (``python -m app.serve``: warm-up, then ``streamlit run app/main.py``) on a
    free port; its stderr goes to ``log`` (or nowhere)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    err = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.serve", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
    except RuntimeError:
        proc.kill()
        raise
    return proc, base


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def require_chromium() -> None:
    """Fail (never skip) where Debian's Chromium is missing, saying how to install it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install it with `sudo scripts/install-browser` (Debian's chromium), "
                    "or leave the browser tests out on purpose with `make test-fast`", pytrace=False)


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    require_chromium()
    proc, base = start_server()
    yield base
    stop_server(proc)


@pytest.fixture(scope="session")
def browser(server: str):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    yield pg
    ctx.close()


ERROR_SELECTOR = "[data-testid='stException'], [data-testid='stAlertContentError']"


def wait_idle(page, timeout_ms: int = 30000) -> None:
    """Wait until the app has rendered and no script run is in progress."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')?.dataset?.testScriptState === 'notRunning'", timeout=timeout_ms
    )
    page.wait_for_timeout(150)


def errors_on(page) -> list[str]:
    """Exception boxes and st.error texts on the page, and the app's generic fallback message anywhere in it."""
    from tests.helpers import FALLBACK

    found = [e.inner_text() for e in page.query_selector_all(ERROR_SELECTOR)]
    body = page.inner_text("body")
    return found + ([f"the page shows the fallback: {body[body.index(FALLBACK):][:200]}"] if FALLBACK in body else [])


def plotly_traces(page, chart_key: str, timeout_ms: int = 20000) -> list[dict]:
    """The traces of the plotly chart whose Streamlit key is ``chart_key``; z, x, y decoded to numpy."""
    from tests.helpers import decode

    page.wait_for_selector(f".st-key-{chart_key} .js-plotly-plot", timeout=timeout_ms)
    data = page.evaluate(
        """(key) => {
            const div = document.querySelector(`.st-key-${key} .js-plotly-plot`);
            const plain = v => (v && typeof v === 'object' && !Array.isArray(v) && !('bdata' in v)) ? Array.from(v) : v;
            return div.data.map(t => ({name: t.name, type: t.type, z: plain(t.z) ?? null, y: plain(t.y) ?? null}));
        }""",
        chart_key,
    )
    for tr in data:
        for field in ("z", "y"):
            value = tr[field]
            if value is not None and not (isinstance(value, list) and value and isinstance(value[0], str)):
                tr[field] = decode(value)
    return data
