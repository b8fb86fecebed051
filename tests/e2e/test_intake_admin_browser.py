"""The scanning staff's and the administrator's main tasks in Chromium at both screen
sizes: upload a scan by the browser and watch it become stored on the live intake page;
add a user, see the message, disable them after a confirmation. No page scrolls sideways
and nothing is blocked by the CSP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from papervault.config.settings import Settings
from papervault.ingest.daemon import walk_inbox
from papervault.ingest.pipeline import capture
from papervault.ingest.runtime import open_runtime
from tests.e2e.browser import check_page, chromium, free_port, new_page, serve
from tests.factories import form_lines, write_form


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_clerk_uploads_and_sees_the_file_stored(instance: Callable[..., Settings],
                                                tmp_path: Path, viewport: str) -> None:
    s = instance(web={"host": "127.0.0.1", "port": free_port()})
    scans = [write_form(tmp_path / "理赔申请_一.png", form_lines(client_id="KH-2024-000123")),
             write_form(tmp_path / "投保单_二.jpg", form_lines(client_id="KH-2024-000456"))]
    with serve(s) as base, chromium() as browser:
        w = new_page(browser, viewport)
        page = w.page
        page.goto(base + "/intake")
        assert page.is_visible("#intake-empty")
        check_page(w, f"intake-empty-{viewport}")
        page.set_input_files("#upload-input", [str(p) for p in scans])
        page.wait_for_selector("#upload-list li[data-result='ok'] >> nth=1", timeout=30_000)
        assert "已放入收件箱" in page.inner_text("#upload-list")
        check_page(w, f"intake-uploaded-{viewport}")
        # The watcher's own capture takes what the browser put into the inbox.
        rt = open_runtime(s)
        for p in list(walk_inbox(rt.watch_config())):
            capture(p, rt.capture_context())
        # No reload: the list refreshes itself (htmx polling every 5 s).
        page.wait_for_selector("#intake-rows li[data-status='ocr_pending'] >> nth=1",
                               timeout=15_000)
        text = page.inner_text("#intake-rows")
        assert f"upload/{s.actor}/理赔申请_一.png" in text and "已存储，等待识别" in text
        assert str(s.inbox) not in text
        check_page(w, f"intake-stored-{viewport}")


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_admin_adds_then_disables_a_user_after_confirming(
    instance: Callable[..., Settings], viewport: str,
) -> None:
    s = instance(web={"host": "127.0.0.1", "port": free_port()})
    with serve(s) as base, chromium() as browser:
        w = new_page(browser, viewport)
        page = w.page
        page.goto(base + "/admin/users")
        page.fill("#new-username", "zhangwei")
        page.fill("#new-display-name", "张伟")
        page.check("#new-role-scanner")
        page.click("#add-user-button")
        page.wait_for_selector("#one-time-password")
        check_page(w, f"admin-one-time-{viewport}")
        page.click("#back-to-users")
        assert "张伟" in page.inner_text("#user-zhangwei")
        check_page(w, f"admin-users-{viewport}")
        page.click("#disable-zhangwei")
        page.wait_for_selector("#confirm-button")
        assert "停用 张伟 (zhangwei) 的账户？" in page.inner_text("#confirm")
        check_page(w, f"admin-confirm-{viewport}")
        page.click("#confirm-button")
        page.wait_for_selector("#flash")
        assert "已停用 张伟 (zhangwei)。" in page.inner_text("#flash")
        assert "已停用" in page.inner_text("#user-zhangwei")
        check_page(w, f"admin-disabled-{viewport}")
        page.goto(base + "/admin/settings")
        page.fill("#pattern-value", "扫描_KH-2024-000123.pdf")
        page.wait_for_selector("#pattern-found")
        assert "KH-2024-000123" in page.inner_text("#pattern-result")
        check_page(w, f"admin-settings-{viewport}")
