"""Browser tests: the real app served on localhost, driven by Debian's Chromium via Playwright.

The product loads htmx from its CDN; here the CDN URL is intercepted and answered with the
vendored copy of the same pinned file (its SRI hash is checked), since tests have no internet.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.services.common import SYSTEM, acting_as
from tests.conftest import REQUIRE_SERVICES, make_app

HTMX_FILE = Path(__file__).parent / "assets" / "htmx-2.0.4.min.js"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def _need(condition: bool, what: str) -> None:
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is missing and REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(f"{what} is missing")


@pytest.fixture
def live_app(tmp_path) -> Iterator[tuple]:
    """The app on a free localhost port with a seeded SQLite database; yields (app, base_url)."""
    application = make_app(
        f"sqlite:///{tmp_path / 'e2e.db'}", WTF_CSRF_ENABLED=True, DOCUMENT_STORAGE_DIR=str(tmp_path / "docs")
    )
    with application.app_context(), acting_as(SYSTEM):
        db.create_all()
        from app.demo import seed

        seed()
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield application, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def browser_page(live_app):
    """A Chromium page whose requests for the htmx CDN URL get the vendored file."""
    _need(Path(CHROMIUM).exists(), f"Chromium ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - installed by requirements-dev
        _need(False, "playwright")
    application, _ = live_app
    body = HTMX_FILE.read_bytes()
    digest = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
    assert digest == application.config["HTMX_SRI"], "vendored htmx differs from the pinned SRI"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route(
            application.config["HTMX_URL"],
            lambda route: route.fulfill(
                status=200,
                body=body,
                headers={"Content-Type": "application/javascript", "Access-Control-Allow-Origin": "*"},
            ),
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()


def sign_in(page, base_url: str, username: str, password: str = "Demo@12345") -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def screenshot(page, folder: str | None, name: str) -> None:
    """A full-page PNG ``name`` in ``folder`` when one is set (to look at), else nothing."""
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def assert_no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide at {page.viewport_size['width']}px"
