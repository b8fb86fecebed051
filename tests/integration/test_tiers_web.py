"""Tiered access and complete client files in the browser's pages (issue 18, web side):
scopes on the users page, the client page's checklist, completeness by department on the
dashboard, classifying a document by hand — each within the viewer's scope."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.progress import Progress
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.access import Role
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import Client, Document, User
from papervault.index.web.app import create_app
from tests.factories import write_form
from tests.integration.test_access import audit_rows, csrf_of, set_password, sign_in

CLAIMS, UNDERWRITING = "理赔部", "承保部"
C_CLAIMS, C_UW = "KH-2024-000301", "KH-2024-000302"
# name -> (client, department, type, verified): a claim file with its application verified
# and its ID copy stored but not yet verified (medical list and bank details missing); an
# underwriting proposal; a 保单 of the claims client that underwriting holds (the claims
# officer must not see it on the client's page); a scan nobody has classified yet.
DOCS: dict[str, tuple[str | None, str | None, str | None, bool]] = {
    "claim": (C_CLAIMS, CLAIMS, "理赔申请书", True),
    "idcard": (C_CLAIMS, CLAIMS, "身份证复印件", False),
    "proposal": (C_UW, UNDERWRITING, "投保单", True),
    "stray": (C_CLAIMS, UNDERWRITING, "保单", True),
    "loose": (None, None, None, False),
}
USERS = {"wang.admin": (Role.ADMIN, []), "li.claims": (Role.OFFICER, [CLAIMS]),
         "zhou.all": (Role.OFFICER, []), "sun.audit": (Role.AUDITOR, [])}


@dataclass
class Office:
    settings: Settings
    web: TestClient
    ids: dict[str, int]

    def as_user(self, username: str) -> None:
        self.web.cookies.clear()
        sign_in(self.web, username)

    def db(self) -> Session:
        return Session(make_engine(self.settings.db_url))


@pytest.fixture
def office(instance: Callable[..., Settings], tmp_path: Path) -> Iterator[Office]:
    """GIVEN five scans stored (no OCR needed: their type and department are set as the
    records' metadata and the keyword rules would), two clients and four signed-up users."""
    from papervault.ingest.service import ingest_paths

    s = instance(access={"login": True})
    paths = [write_form(tmp_path / "scans" / f"{k}.png", [f"{k} 扫描件", f"编号 {i:04d}"],
                        dpi=100) for i, k in enumerate(DOCS)]
    with Progress(disable=True) as p:
        results = ingest_paths(s, paths, p)
    assert [r["outcome"] for r in results] == ["stored"] * len(DOCS)
    engine = make_engine(s.db_url)
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        session.add(Client(client_id=C_CLAIMS, name="张伟", department=CLAIMS))
        # an underwriting client whose register row nobody confirmed for two years
        session.add(Client(client_id=C_UW, name="李娜", department=UNDERWRITING,
                           updated_at=datetime.now(UTC) - timedelta(days=730)))
        for key, (client, dep, doc_type, verified) in DOCS.items():
            doc = session.exec(select(Document).where(
                Document.original_name == f"{key}.png")).one()
            assert doc.id is not None
            ids[key] = doc.id
            doc.client_id, doc.department, doc.doc_type = client, dep, doc_type
            doc.doc_type_source = "record" if doc_type else None
            doc.verify_state = "verified" if verified else "unverified"
            session.add(doc)
        for name, (role, deps) in USERS.items():
            users.add_user(session, name, frozenset({role}), by="test")
            users.set_scope(session, name, deps, None, s.access)
        users.set_active(session, s.actor, False)  # the fixtures' all-roles local user
    engine.dispose()
    for name in USERS:
        set_password(s, name, "correct horse battery")
    with TestClient(create_app(s), client=("10.1.2.3", 5000)) as web:
        yield Office(s, web, ids)


def user_row(office: Office, username: str) -> User:
    with office.db() as session:
        return session.exec(select(User).where(User.username == username)).one()


def test_the_users_page_shows_and_sets_departments_and_clearance(office: Office) -> None:
    web = office.web
    office.as_user("wang.admin")
    page = web.get("/admin/users").text
    assert re.search(r'id="deps-li\.claims" value="理赔部"', page), page
    assert re.search(r'id="deps-zhou\.all" value=""', page)

    # WHEN the admin limits zhou.all to underwriting at 机密 (POST, redirect, GET)
    csrf = csrf_of(web, "/admin/users")
    r = web.post("/admin/users/zhou.all/scope", data={
        "csrf": csrf, "departments": f" {UNDERWRITING}， ", "clearance": "机密"},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"]).text
    assert "已保存 zhou.all 的部门与密级。" in page
    assert re.search(r'id="deps-zhou\.all" value="承保部"', page)
    assert re.search(r'<option value="机密" selected>机密</option>', page)
    assert "已保存 zhou.all" not in web.get("/admin/users").text  # shown once
    user = user_row(office, "zhou.all")
    assert (user.departments, user.clearance) == (UNDERWRITING, "机密")
    entry = [a for a in audit_rows(office.settings) if a.action == "user.scope"][-1]
    assert (entry.actor, entry.target) == ("wang.admin", "user:zhou.all")
    assert '"departments": ["承保部"]' in (entry.detail or "")

    # An empty box lifts the limit; an empty clearance goes back to the roles' own.
    r = web.post("/admin/users/zhou.all/scope", data={
        "csrf": csrf, "departments": "", "clearance": ""}, follow_redirects=False)
    assert r.status_code == 303
    user = user_row(office, "zhou.all")
    assert (user.departments, user.clearance) == ("", None)

    # A clearance the office does not have is refused on the page, nothing changed.
    r = web.post("/admin/users/li.claims/scope", data={
        "csrf": csrf, "departments": UNDERWRITING, "clearance": "绝密"})
    assert r.status_code == 400
    assert "绝密" in r.text and 'id="admin-error"' in r.text
    assert user_row(office, "li.claims").departments == CLAIMS

    # A new user gets their departments and clearance with the account, audited together.
    r = web.post("/admin/users", data={
        "csrf": csrf, "username": "chen.new", "roles": "officer",
        "departments": f"{CLAIMS}、{UNDERWRITING}", "clearance": "公开"})
    assert r.status_code == 200, r.text
    user = user_row(office, "chen.new")
    assert (user.departments.splitlines(), user.clearance) == (
        sorted([CLAIMS, UNDERWRITING]), "公开")
    entry = [a for a in audit_rows(office.settings) if a.action == "user.add"][-1]
    assert entry.target == "user:chen.new" and '"clearance": "公开"' in (entry.detail or "")


def checklist(page: str, card: str) -> dict[str, str]:
    """Each required type's state in one checklist card of the client page."""
    m = re.search(rf'id="{re.escape(card)}">(.*?)</ul>', page, re.S)
    assert m is not None, page
    return dict(re.findall(r'data-type="([^"]+)" data-state="([^"]+)"', m.group(1)))


def test_the_client_page_shows_the_checklist_within_the_officers_scope(office: Office) -> None:
    web, ids = office.web, office.ids
    office.as_user("li.claims")
    page = web.get(f"/clients/{C_CLAIMS}").text
    assert checklist(page, f"check-client-{C_CLAIMS}") == {
        "理赔申请书": "present", "身份证复印件": "unverified", "医疗费用清单": "missing",
        "银行账户信息": "missing"}
    assert "不齐全" in page and "data-stale" not in page
    # ✓ for what is there, ✗ for each missing type
    card = page[page.index(f'id="check-client-{C_CLAIMS}"'):]
    assert card.count("✗") >= 2 and card.count("✓") >= 2
    # The claims officer sees the claims documents, not underwriting's copy of this client
    # (which the unscoped officer does see), and not the underwriting client at all.
    listed = set(map(int, re.findall(r'href="/documents/(\d+)"', page)))
    assert listed == {ids["claim"]}  # the ID copy is 机密, above the officer's 内部
    assert web.get(f"/clients/{C_UW}").status_code == 404

    office.as_user("zhou.all")
    page = web.get(f"/clients/{C_CLAIMS}").text
    assert set(map(int, re.findall(r'href="/documents/(\d+)"', page))) == {
        ids["claim"], ids["stray"]}
    page = web.get(f"/clients/{C_UW}").text
    assert checklist(page, f"check-client-{C_UW}") == {
        "投保单": "present", "保单": "missing", "身份证复印件": "missing"}
    assert 'data-stale="register"' in page  # the register row is two years old


def department_rows(page: str) -> dict[str, dict[str, str]]:
    m = re.search(r'<table[^>]*id="completeness".*?</table>', page, re.S)
    assert m is not None, page
    return {dep: dict(re.findall(r'data-col="(\w+)">([^<]+)<', row)) for dep, row in
            re.findall(r'<tr data-department="([^"]*)">(.*?)</tr>', m.group(0), re.S)}


def test_the_dashboard_shows_completeness_by_department(office: Office) -> None:
    office.as_user("sun.audit")
    rows = department_rows(office.web.get("/coverage").text)
    # claims: 医疗费用清单 and 银行账户信息 missing (the ID copy is stored, not missing);
    # underwriting: 保单 and 身份证复印件 missing, its register row stale
    assert rows == {
        CLAIMS: {"files": "1", "complete": "0", "percent": "0.0%", "missing": "2",
                 "stale": "0"},
        UNDERWRITING: {"files": "1", "complete": "0", "percent": "0.0%", "missing": "2",
                       "stale": "1"}}
    # An auditor scoped to claims sees claims' row only.
    with session_scope(make_engine(office.settings.db_url)) as session:
        users.set_scope(session, "sun.audit", [CLAIMS], None, office.settings.access)
    assert set(department_rows(office.web.get("/coverage").text)) == {CLAIMS}


def test_an_officer_classifies_a_document_within_their_scope(office: Office) -> None:
    web, ids = office.web, office.ids
    # The unscoped officer sees the loose scan flagged, and files it.
    office.as_user("zhou.all")
    page = web.get(f"/documents/{ids['loose']}").text
    assert 'id="unclassified"' in page and 'id="no-department"' in page
    assert 'id="classify"' in page
    csrf = csrf_of(web, f"/documents/{ids['loose']}")
    r = web.post(f"/documents/{ids['loose']}/classify", data={
        "csrf": csrf, "doc_type": "授权委托书", "department": CLAIMS, "level": ""},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"]).text
    assert f"已保存文件 #{ids['loose']} 的分类。" in page
    assert 'id="unclassified"' not in page and 'id="no-department"' not in page
    with office.db() as session:
        doc = session.get(Document, ids["loose"])
        assert doc is not None
        assert (doc.doc_type, doc.doc_type_source, doc.department) == (
            "授权委托书", "manual", CLAIMS)
    entry = [a for a in audit_rows(office.settings) if a.action == "document.classify"][-1]
    assert (entry.actor, entry.target) == ("zhou.all", f"document:{ids['loose']}")
    assert json.loads(entry.detail)["before"] == {
        "department": None, "doc_type": None, "sensitivity": None}

    # The claims officer now sees it; they may not move it out of their departments, nor
    # raise it above their clearance, nor touch what they cannot see.
    office.as_user("li.claims")
    page = web.get(f"/documents/{ids['loose']}").text
    options = re.search(r'id="classify-department">(.*?)</select>', page, re.S)
    assert options is not None and UNDERWRITING not in options.group(1)
    csrf = csrf_of(web, f"/documents/{ids['loose']}")
    for data in ({"department": UNDERWRITING}, {"level": "机密"}):
        r = web.post(f"/documents/{ids['loose']}/classify", data={"csrf": csrf, **data})
        assert r.status_code == 400, (data, r.text)
    r = web.post(f"/documents/{ids['proposal']}/classify",
                 data={"csrf": csrf, "doc_type": "保单"})
    assert r.status_code == 404
    with office.db() as session:
        doc = session.get(Document, ids["loose"])
        proposal = session.get(Document, ids["proposal"])
        assert doc is not None and proposal is not None
        assert (doc.department, doc.sensitivity, proposal.doc_type) == (CLAIMS, None, "投保单")

    # An auditor reads the page but gets no form, and the route refuses them.
    office.as_user("sun.audit")
    assert 'id="classify"' not in web.get(f"/documents/{ids['claim']}").text
    r = web.post(f"/documents/{ids['claim']}/classify",
                 data={"csrf": csrf_of(web, f"/documents/{ids['claim']}"), "doc_type": "保单"})
    assert r.status_code == 403
