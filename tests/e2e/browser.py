"""Shared pieces of the browser tests: the app served on loopback, Debian's Chromium through
Playwright, sign-in, the two screen sizes, the overflow and CSP checks, and screenshots.

Screenshots go to ``$PV_SCREENSHOTS`` (default ``build/screenshots``): CI keeps that folder
as its artifact, and people look at them.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from papervault.config.settings import Settings
from papervault.index.web.app import create_app
from tests.conftest import wait_until

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# The office's desk PCs and a phone: every page is checked at both.
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
SCREENSHOTS = Path(os.environ.get("PV_SCREENSHOTS", "build/screenshots"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The web app for ``settings`` on its configured loopback port; yields the base URL.

    Make the settings with ``web={"host": "127.0.0.1", "port": free_port()}``."""
    port = settings.web.port
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-web")
    thread.start()
    wait_until(lambda: server.started, timeout=30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail("install Debian's chromium (scripts/setup.sh does)")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page whose CSP violations and script errors are collected (tests assert none)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))

    def _console(self, msg: Any) -> None:
        if msg.type == "error" and re.search(r"Content Security Policy|Refused to", msg.text):
            self.problems.append(msg.text)


def new_page(browser: Any, viewport: str = "desktop", lang: str = "zh-CN") -> Watched:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale=lang,
                                  accept_downloads=True)
    return Watched(context.new_page())


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_load_state()


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"))


def check_page(watched: Watched, name: str) -> None:
    """Screenshot ``name``, then fail on sideways overflow or a blocked script/style."""
    page = watched.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    assert overflow(page) <= 0, f"{name} at {width}px scrolls sideways by {overflow(page)}px"
    assert watched.problems == [], f"{name}: {watched.problems}"
