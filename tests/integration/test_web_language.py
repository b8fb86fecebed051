"""One language per page (walkthrough B13): the messages the web shows for a missing
document, a refused page, a bad value or a refused user form are wholly in the UI's
language, the 403 page names roles as people say them and no permission codes, and the CSV
downloads have their headings in the UI's language while scripts keep the stable names."""

from __future__ import annotations

import re

from papervault.index.accounts import audit as trail
from papervault.index.coverage import report
from tests.integration.test_access import Office, csrf_of, office, sign_in  # noqa: F401

LATIN_WORD = re.compile(r"\b(document|client|page|user|give|role|needs|view_\w+|coverage)\b")


def _message(html: str) -> str:
    m = re.search(r'id="error-message">([^<]*)<', html) or \
        re.search(r'id="admin-error">([^<]*)<', html)
    assert m, "no message on the page"
    return m.group(1)


def test_not_found_and_bad_values_speak_one_language(office: Office) -> None:  # noqa: F811
    web = office.web
    sign_in(web, "li.officer")
    zh = web.get("/documents/9999")
    assert zh.status_code == 404
    assert _message(zh.text) == "找不到：文档 9999"
    en = web.get("/documents/9999?lang=en")
    assert _message(en.text) == "Not found: document 9999"
    bad = web.get("/documents/9999/pages/x.jpg?lang=zh")
    assert bad.status_code == 422 and "页码" in _message(bad.text)
    assert not LATIN_WORD.search(_message(bad.text)), _message(bad.text)


def test_the_403_page_names_roles_not_codes(office: Office) -> None:  # noqa: F811
    web = office.web
    sign_in(web, "zhao.scan")
    page = web.get("/coverage")
    assert page.status_code == 403
    text = _message(page.text)
    assert "扫描员" in text and "联系管理员" in text
    assert "scanner" not in text and "coverage" not in text and "需要权限" not in text
    en = web.get("/coverage?lang=en")
    assert "Scanning staff" in _message(en.text) and "scanner" not in _message(en.text)
    # The API keeps the codes scripts match on.
    api = web.get("/api/coverage")
    assert api.status_code == 403 and api.headers["X-Papervault-Error"] == "forbidden"


def test_user_form_refusals_are_in_the_ui_language(office: Office) -> None:  # noqa: F811
    web = office.web
    sign_in(web, "wang.admin")
    csrf = csrf_of(web, "/admin/users")
    page = web.post("/admin/users", data={"csrf": csrf, "username": "has space",
                                          "roles": ["scanner"]})
    assert page.status_code == 400
    assert _message(page.text) == "用户名须为 1–64 个字符，且不含空格。"
    page = web.post("/admin/users/zhao.scan/scope?lang=en",
                    data={"csrf": csrf, "departments": "", "clearance": "绝密不存在"})
    assert page.status_code == 400
    assert _message(page.text).startswith("Clearance “绝密不存在” does not exist")


def test_csv_headings_follow_the_ui_language(office: Office) -> None:  # noqa: F811
    web = office.web
    sign_in(web, "sun.audit")
    cov = web.get("/coverage/flagged.csv").content.decode("utf-8-sig").splitlines()
    assert cov[0] == "档号,状态,原因,客户号,题名,部门,年度,库房,架号,盒号"
    web.get("/coverage?lang=en")  # the language cookie
    cov_en = web.get("/coverage/flagged.csv").content.decode("utf-8-sig").splitlines()
    assert cov_en[0].startswith("Record no.,State,Reason,Client ID")
    log = web.get("/audit.csv?lang=zh")
    assert log.status_code == 200
    head = log.content.decode("utf-8-sig").splitlines()[0]
    assert head == "序号,时间（UTC）,操作人,操作,对象,来源,详情,哈希"
    # Scripts and the command line keep the stable column names.
    assert report.CSV_COLUMNS[0] == "record_no" and trail.CSV_COLUMNS[3] == "action"
