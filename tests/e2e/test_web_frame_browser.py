"""The page frame in Chromium at both screen sizes: the menu collapses on a phone and opens,
no page of the frame scrolls sideways, nothing is blocked by the CSP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papervault.config.settings import Settings
from tests.e2e.browser import check_page, chromium, free_port, new_page, serve


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_frame_fits_and_the_menu_works(instance: Callable[..., Settings],
                                           viewport: str) -> None:
    s = instance(web={"host": "127.0.0.1", "port": free_port()})
    with serve(s) as base, chromium() as browser:
        w = new_page(browser, viewport)
        page = w.page
        page.goto(base + "/")
        if viewport == "phone":
            assert not page.is_visible("#nav-status")  # collapsed behind the toggler
            page.click(".navbar-toggler")
            page.wait_for_selector("#nav-status", state="visible")
        assert page.get_attribute("#nav-search", "aria-current") == "page"
        check_page(w, f"frame-search-{viewport}")
        page.goto(base + "/no/such/page")
        assert "页面不存在" in page.inner_text("main")
        check_page(w, f"frame-404-{viewport}")
