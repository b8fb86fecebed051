"""The tiers forms in Chromium at 1366×768 and 390×844: an officer classifies a loose scan
on its document page, a claims officer reads a client's checklist, the administrator sets a
user's departments and clearance on the users page. Each change is seen on the page after
the redirect; no page scrolls sideways and nothing is blocked by the CSP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import check_page, chromium, free_port, new_page, serve, sign_in
from tests.integration.test_tiers_web import (  # noqa: F401 - the fixture
    C_CLAIMS,
    CLAIMS,
    UNDERWRITING,
    Office,
    office,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def served(office: Office) -> Iterator[tuple[Office, str]]:  # noqa: F811
    """The tiers office (five scans, two clients, four users) served on loopback."""
    s = office.settings
    s = s.model_copy(update={"web": s.web.model_copy(update={"host": "127.0.0.1",
                                                             "port": free_port()})})
    with serve(s) as base:
        yield office, base


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_tiers_forms_in_the_browser(served: tuple[Office, str]) -> None:
    tiers, base = served
    loose = tiers.ids["loose"]
    with chromium() as browser:
        for viewport, doc_type in (("desktop", "授权委托书"), ("phone", "理赔申请书")):
            w = new_page(browser, viewport)
            page = w.page
            sign_in(page, base, "zhou.all", PASSWORD)
            page.goto(f"{base}/documents/{loose}")
            page.select_option("#classify-type", doc_type)
            page.select_option("#classify-department", CLAIMS)
            check_page(w, f"tiers-classify-form-{viewport}")
            page.click("#classify-button")
            page.wait_for_selector("#flash")
            assert f"已保存文件 #{loose} 的分类。" in page.inner_text("#flash")
            assert page.url.startswith(f"{base}/documents/{loose}")  # POST, redirect, GET
            assert page.input_value("#classify-type") == doc_type
            assert not page.is_visible("#unclassified")
            check_page(w, f"tiers-classified-{viewport}")
            page.context.close()

            w = new_page(browser, viewport)
            page = w.page
            sign_in(page, base, "li.claims", PASSWORD)
            page.goto(f"{base}/clients/{C_CLAIMS}")
            card = page.locator(f'[id="check-client-{C_CLAIMS}"]')
            assert card.locator("li[data-state=missing]").count() == 2
            assert "医疗费用清单" in card.inner_text() and "不齐全" in card.inner_text()
            check_page(w, f"tiers-client-checklist-{viewport}")
            page.context.close()

            w = new_page(browser, viewport)
            page = w.page
            sign_in(page, base, "wang.admin", PASSWORD)
            page.goto(base + "/admin/users")
            page.fill('[id="deps-zhou.all"]', f"{UNDERWRITING}，{CLAIMS}")
            page.select_option('[id="clearance-zhou.all"]', "机密")
            page.locator('[id="scope-zhou.all"] button[type=submit]').click()
            page.wait_for_selector("#flash")
            assert "已保存 zhou.all 的部门与密级。" in page.inner_text("#flash")
            deps = page.input_value('[id="deps-zhou.all"]')
            assert set(deps.replace(" ", "").split(",")) == {UNDERWRITING, CLAIMS}
            assert page.input_value('[id="clearance-zhou.all"]') == "机密"
            check_page(w, f"tiers-users-scope-{viewport}")
            # Back to every department for the next size's classification.
            page.fill('[id="deps-zhou.all"]', "")
            page.select_option('[id="clearance-zhou.all"]', "")
            page.locator('[id="scope-zhou.all"] button[type=submit]').click()
            page.wait_for_selector("#flash")
            page.context.close()
