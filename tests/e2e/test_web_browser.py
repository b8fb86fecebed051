"""A records officer in headless Chromium: search by a 2-character word and by client ID,
open the claim form, download the original; the file is byte-identical."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from papervault.config.settings import Settings
from papervault.index.web.app import create_app
from tests.conftest import wait_until
from tests.integration.test_search_access import CLIENT, ingest_claim

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(instance: Callable[..., Settings], tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    """GIVEN an OCR'd claim form and the web app served on a loopback port."""
    port = free_port()
    s = instance(web={"host": "127.0.0.1", "port": port})
    doc_id, sha = ingest_claim(s, tmp_path / "scans")
    server = uvicorn.Server(uvicorn.Config(create_app(s), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-web")
    thread.start()
    wait_until(lambda: server.started, timeout=30)
    yield f"http://127.0.0.1:{port}", doc_id, sha
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_search_open_download_in_chromium(served: tuple[str, int, str], tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("install Debian's chromium (scripts/setup.sh does)")
    base, doc_id, sha = served
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_context(accept_downloads=True, locale="zh-CN").new_page()
        page.goto(base + "/")
        page.fill("#q", "理赔")
        page.click("#search-button")
        page.wait_for_selector("#hits li.hit")
        assert "共 1 条结果" in page.inner_text("#result-count")
        assert page.inner_text("#hits mark") == "理赔"

        page.fill("#q", CLIENT)
        page.click("#search-button")
        page.wait_for_selector("#hits li.hit")
        page.click("#hits li.hit a.title")
        page.wait_for_selector("#doc-title")
        assert page.url.startswith(f"{base}/documents/{doc_id}")
        assert page.inner_text("#sha256") == sha
        wait_until(lambda: page.evaluate(
            "() => [...document.querySelectorAll('#page-image')].every(i => i.naturalWidth > 0)"))

        with page.expect_download() as info:
            page.click("#download-original")
        saved = tmp_path / "downloaded.png"
        info.value.save_as(saved)
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == sha

        page.click("#lang-switch")
        page.wait_for_selector("#download-original")
        assert page.inner_text("#download-original") == "Download original"
        browser.close()
