"""The frame every page shares: styled, localized error pages for every status (the
walkthrough's "unknown routes answer raw JSON"), one-time flash messages after a redirect,
locally served front-end assets and a CSP the pages pass."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from papervault.config.settings import Settings
from papervault.index.web.app import create_app
from tests.integration.test_access import Office, office, sign_in  # noqa: F401 - the fixture


def test_unknown_routes_and_bad_values_get_a_page_in_the_ui_language(
    office: Office,  # noqa: F811
) -> None:
    web = office.web
    sign_in(web, "li.officer")
    page = web.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text and "/no/such/page" in page.text
    assert 'id="nav-search"' in page.text  # the menu stays for a signed-in user
    english = web.get("/no/such/page?lang=en")
    assert "Page not found" in english.text and "页面不存在" not in english.text
    bad = web.get("/documents/not-a-number?lang=zh")
    assert bad.status_code == 422 and "输入有误" in bad.text and "文档编号" in bad.text
    wrong = web.post("/status")
    assert wrong.status_code == 405 and "不支持的操作" in wrong.text
    # The API keeps answering JSON, with the same statuses.
    api = web.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json()["error"] == "not_found_route"
    api_bad = web.get("/api/documents/x")
    assert api_bad.status_code == 422 and api_bad.json()["fields"] == ["doc_id"]


def test_a_stranger_sees_the_error_page_without_the_menu(office: Office) -> None:  # noqa: F811
    stranger = TestClient(office.web.app)
    page = stranger.get("/nothing-here")
    assert page.status_code == 404 and "页面不存在" in page.text
    assert 'id="nav-search"' not in page.text and 'id="logout"' not in page.text


def test_pages_load_only_local_assets_under_a_strict_policy(
    instance: Callable[..., Settings],
) -> None:
    with TestClient(create_app(instance())) as web:
        page = web.get("/")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
        assert "/static/vendor/bootstrap.min.css" in assets
        assert "/static/vendor/htmx.min.js" in assets
        for asset in assets:
            assert web.get(asset).status_code == 200, asset
        # Nothing from elsewhere, no inline script or style for the policy to block.
        assert not re.search(r'(?:href|src)="(?:https?:)?//', page.text)
        assert "<style" not in page.text and " style=" not in page.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
