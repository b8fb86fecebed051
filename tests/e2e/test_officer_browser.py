"""A records officer's day in Chromium at 1366×768 and 390×844: search, a result with its
thumbnail, open it, page and zoom in the viewer, on to the next result and back to the
list; then the review queue: find a client by typing, link. No page scrolls sideways and
nothing is blocked by the CSP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papervault.config.settings import Settings
from tests.conftest import wait_until
from tests.e2e.browser import check_page, chromium, free_port, new_page, serve
from tests.integration.test_officer_web import OTHER, ingest_pair

IMAGES_LOADED = ("(sel) => [...document.querySelectorAll(sel)].length > 0 && "
                 "[...document.querySelectorAll(sel)].every(i => i.complete && i.naturalWidth > 0)")


def wait_images(page: Any, selector: str) -> None:
    """Until every image ``selector`` names has loaded (a broken image has no width)."""
    wait_until(lambda: page.evaluate(IMAGES_LOADED, selector))


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_officer_searches_reads_and_links(instance: Callable[..., Settings],
                                          tmp_path: Path) -> None:
    s = instance(web={"host": "127.0.0.1", "port": free_port()})
    linked, held = ingest_pair(s, tmp_path / "scans")
    with serve(s) as base, chromium() as browser:
        for viewport in ("desktop", "phone"):
            w = new_page(browser, viewport)
            page = w.page
            page.goto(base + "/")
            assert "1" in page.inner_text("#review-prompt")  # one form waits for review
            check_page(w, f"officer-home-{viewport}")
            page.fill("#q", "理赔")
            page.click("#search-button")
            page.wait_for_selector("#hits li.hit")
            wait_images(page, "#hits img.pv-thumb")
            assert page.locator("#hits li.hit").count() == 2
            assert "车险理赔卷" in page.inner_text("#hits")
            page.click("#sort-newest")
            page.wait_for_selector("#sort-newest.active")
            wait_images(page, "#hits img.pv-thumb")
            check_page(w, f"officer-results-{viewport}")

            # open the first (newest) result: the viewer shows its page and marked text
            page.click("#hits li.hit >> nth=0 >> a.title")
            page.wait_for_selector("#page-image")
            assert page.url.startswith(f"{base}/documents/{held}?")
            wait_images(page, "#page-image")
            assert page.inner_text("#page-text mark").replace(" ", "") == "理赔"
            fit = page.evaluate("() => document.getElementById('page-image').clientWidth")
            page.click("#zoom-in")
            page.wait_for_selector("#page-image.pv-zoom-150")
            zoomed = page.evaluate("() => document.getElementById('page-image').clientWidth")
            assert zoomed > fit * 1.4  # zoom enlarges the page inside its frame …
            check_page(w, f"officer-viewer-zoomed-{viewport}")  # … never the page itself
            page.click("#zoom-fit")
            page.wait_for_selector("#page-image.pv-zoom-100")
            check_page(w, f"officer-viewer-{viewport}")

            # next result, then back again, then back to the list with the query kept
            page.click("#next-doc")
            page.wait_for_selector("#prev-doc")
            assert page.url.startswith(f"{base}/documents/{linked}?")
            assert "车险理赔卷" in page.inner_text("#doc-title")
            page.click("#prev-doc")
            page.wait_for_selector("#next-doc")
            assert page.url.startswith(f"{base}/documents/{held}?")
            page.click("#back-to-results")
            page.wait_for_selector("#hits li.hit")
            assert page.input_value("#q") == "理赔"
            assert page.get_attribute("#sort-newest", "aria-current") == "true"
            page.context.close()

        # the review queue, on a phone: candidates, search as you type, link
        w = new_page(browser, "phone")
        page = w.page
        page.goto(base + "/review")
        card = f"#doc-{held}"
        page.wait_for_selector(card)
        wait_images(page, f"{card} img")
        assert "关联客户号" in page.inner_text(card)
        check_page(w, "officer-review-phone")
        page.fill(f"#find-{held}", "李娜")
        page.wait_for_selector(f"#matches-{held} .pv-pick")
        check_page(w, "officer-review-typed-phone")
        page.click(f"#matches-{held} .pv-pick >> nth=0")
        assert page.input_value(f"#client-{held}") == OTHER
        page.click(f"#link-{held}")
        page.wait_for_selector("#flash")
        assert OTHER in page.inner_text("#flash")
        assert page.locator(card).count() == 0
        check_page(w, "officer-review-done-phone")
        page.context.close()

        w = new_page(browser, "desktop")
        w.page.goto(base + "/review")
        check_page(w, "officer-review-empty-desktop")
        w.page.goto(base + f"/clients/{OTHER}")
        assert f"/documents/{held}" in w.page.inner_html("#client-documents")
        check_page(w, "officer-client-desktop")
