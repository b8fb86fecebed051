"""The scanning staff's intake page and browser upload, the admin's users and settings
pages (issue 13), on both databases, against the real S3 server and real tesseract."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote

from sqlmodel import Session, select

from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import AuditEntry, Client, Document, User
from papervault.ingest.daemon import walk_inbox
from papervault.ingest.pipeline import capture
from papervault.ingest.runtime import open_runtime
from papervault.ingest.service import run_worker
from tests.conftest import TESTDATA
from tests.factories import form_lines, write_form
from tests.integration.test_access import Office, csrf_of, office, sign_in  # noqa: F401

PASSWORD_PDF = "paperless-ngx/src/documents/tests/samples/password-is-test.pdf"


def _upload(web, name: str, body: bytes, token: str):  # type: ignore[no-untyped-def]
    return web.post("/intake/upload", content=body, headers={
        "X-CSRF-Token": token, "X-File-Name": quote(name),
        "Content-Type": "application/octet-stream"})


def _capture_all(o: Office) -> None:
    rt = open_runtime(o.settings)
    for p in list(walk_inbox(rt.watch_config())):
        capture(p, rt.capture_context())


def test_upload_goes_through_the_inbox_and_the_page_shows_each_outcome(
    office: Office, tmp_path: Path,  # noqa: F811
) -> None:
    """GIVEN a clerk signed in WHEN they upload a form, the same form again, a
    password-protected PDF and an empty file THEN the first three land in the inbox (and
    nothing partial ever), are captured by the watcher's own pipeline, and the intake page
    shows stored → read with the client, the duplicate's original, the quarantine reason in
    the UI language only and where the file now is; the empty one is refused at once."""
    s, web = office.settings, office.web
    sign_in(web, "zhao.scan")
    token = csrf_of(web, "/intake")
    lines = form_lines(client_id="KH-2024-000123")
    form = write_form(tmp_path / "理赔申请.png", lines).read_bytes()
    first = _upload(web, "理赔申请.png", form, token)
    assert first.status_code == 200 and first.json()["path"] == "upload/zhao.scan/理赔申请.png"
    again = _upload(web, "../../理赔申请.png", form, token)  # a name cannot climb out
    assert again.json()["path"] == "upload/zhao.scan/理赔申请-2.png"
    locked = _upload(web, "locked.pdf", (TESTDATA / PASSWORD_PDF).read_bytes(), token)
    assert locked.status_code == 200
    empty = _upload(web, "empty.pdf", b"", token)
    assert empty.status_code == 400 and "0 字节" in empty.json()["error"]
    folder = s.inbox / "upload" / "zhao.scan"
    assert sorted(p.name for p in folder.iterdir()) == ["locked.pdf", "理赔申请-2.png",
                                                        "理赔申请.png"]  # no temp file left
    assert (folder / "理赔申请.png").read_bytes() == form

    _capture_all(office)
    page = web.get("/intake/list")
    assert page.status_code == 200 and "<html" not in page.text  # only the fragment
    assert "upload/zhao.scan/理赔申请.png" in page.text and str(s.inbox) not in page.text
    assert "已存储，等待识别" in page.text
    assert re.search(r"与已归档的 #\d+「理赔申请.png」", page.text)
    assert "PDF 设有密码保护" in page.text and "password-protected" not in page.text
    assert "quarantine/upload/zhao.scan/" in page.text
    english = web.get("/intake/list?lang=en").text
    assert "password-protected" in english and "设有密码" not in english

    engine = make_engine(s.db_url)
    with session_scope(engine) as session:  # the clients register knows the form's client
        session.add(Client(client_id="KH-2024-000123", name="胡秀英"))
    engine.dispose()
    assert run_worker(s, drain=True) is not None
    page = web.get("/intake?lang=zh").text
    assert 'hx-get="/intake/list"' in page and "/static/intake.js" in page
    rows = re.search(r'<ul class="list-group" id="intake-rows">.*?</ul>', page, re.S)
    assert rows is not None, page
    assert "已识别" in page and "客户 KH-2024-000123" in page, rows.group(0)
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        actions = [a for a in session.exec(select(AuditEntry)) if a.action == "intake.upload"]
        docs = list(session.exec(select(Document)))
    engine.dispose()
    assert len(actions) == 3 and json.loads(actions[0].detail)["size"] == len(form)
    assert [d.source_folder for d in docs] == ["upload/zhao.scan"]


def test_upload_limits_and_permissions(office: Office) -> None:  # noqa: F811
    s, web = office.settings, office.web
    sign_in(web, "li.officer")  # may see the page, may not put files in
    token = csrf_of(web, "/intake")
    assert 'id="drop-zone"' not in web.get("/intake").text
    assert _upload(web, "a.pdf", b"%PDF-1.4", token).status_code == 403
    sign_in(web, "zhao.scan")
    token = csrf_of(web, "/intake")
    too_big = _upload(web, "big.pdf", b"x" * (s.limits.max_bytes + 1), token)
    assert too_big.status_code == 400 and "MB 上限" in too_big.json()["error"]
    assert _upload(web, "a.pdf", b"%PDF-1.4", "0" * 64).status_code == 403  # CSRF
    assert not (s.inbox / "upload" / "zhao.scan" / "big.pdf").exists()
    assert list((s.inbox / "upload" / "zhao.scan").iterdir()) == []


def test_users_page_confirms_then_redirects_with_a_message(office: Office) -> None:  # noqa: F811
    web = office.web
    sign_in(web, "wang.admin")
    token = csrf_of(web, "/admin/users")
    # B3: no role ticked is a message on the form, which keeps what was typed.
    bad = web.post("/admin/users", data={"username": "zhangwei", "display_name": "张伟",
                                         "csrf": token})
    assert bad.status_code == 400 and "请至少选择一个角色" in bad.text
    assert 'value="张伟"' in bad.text
    made = web.post("/admin/users", data={"username": "zhangwei", "display_name": "张伟",
                                          "roles": ["scanner"], "csrf": token})
    assert made.status_code == 200 and 'id="one-time-password"' in made.text
    users_page = web.get("/admin/users").text
    assert "张伟" in users_page and "(zhangwei)" in users_page
    # B11: disabling asks first; B12: the change answers with a redirect and a message.
    ask = web.get("/admin/users/zhangwei/confirm/disable")
    assert ask.status_code == 200 and "停用 张伟 (zhangwei) 的账户？" in ask.text
    assert "confirm-self" not in ask.text
    assert "confirm-self" in web.get("/admin/users/wang.admin/confirm/disable").text
    done = web.post("/admin/users/zhangwei/active", data={"active": "0", "csrf": token},
                    follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/users"
    shown = web.get("/admin/users").text
    assert "已停用 张伟 (zhangwei)。" in shown
    assert "已停用 张伟" not in web.get("/admin/users").text  # once only
    roles = web.post("/admin/users/zhangwei/roles", data={"roles": ["officer"], "csrf": token})
    assert "已保存 张伟 (zhangwei) 的角色。" in roles.text
    engine = make_engine(office.settings.db_url)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "zhangwei")).one()
    engine.dispose()
    assert not user.active and user.roles == "officer"
    assert "重置 张伟 (zhangwei) 的密码？" in web.get("/admin/users/zhangwei/confirm/reset").text
    assert web.get("/admin/users/zhangwei/confirm/delete").status_code == 404


def test_settings_page_tests_patterns_live(office: Office) -> None:  # noqa: F811
    web = office.web
    sign_in(web, "wang.admin")
    page = web.get("/admin/settings").text
    assert office.settings.link.record_patterns[0] in html.unescape(page)
    assert "PAPERVAULT_LINK__RECORD_PATTERNS" in page and "[link]" in page
    typed = "扫描_ｋｈ－2024-000123 DA-2024-LP-0012.pdf"
    hit = web.get("/admin/settings/test", params={"value": typed}).text
    assert "<html" not in hit and 'data-kind="client">KH-2024-000123<' in hit
    assert 'data-kind="record">DA-2024-LP-0012<' in hit  # folded as the linker folds OCR
    miss = web.get("/admin/settings/test", params={"value": "没有编号"}).text
    assert "没有匹配" in miss
    sign_in(web, "li.officer")
    assert web.get("/admin/settings").status_code == 403


def test_status_page_names_files_in_the_inbox_in_one_language(office: Office) -> None:  # noqa: F811
    """Walkthrough B6/B7: a quarantined file shows as the share names it, with the reason
    in the page's language only."""
    s, web = office.settings, office.web
    target = s.inbox / "批次02" / "locked.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes((TESTDATA / PASSWORD_PDF).read_bytes())
    _capture_all(office)
    sign_in(web, "zhao.scan")
    zh = web.get("/status?lang=zh").text
    assert "批次02/locked.pdf" in zh and str(s.inbox) not in zh
    assert "PDF 设有密码保护" in zh and "password-protected" not in zh
    en = web.get("/status?lang=en").text
    assert "password-protected" in en and "设有密码" not in en
