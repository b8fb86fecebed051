"""Access control on the real app: the role × route matrix (generated from the router), the
role × command matrix (generated from the CLI), sign-in, sessions, CSRF, tokens, lockout."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from papervault.config.errors import Forbidden
from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.access import COMMANDS, ROUTES, Open, Perm, Role, allows, permissions
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import AuditEntry, User
from papervault.index.web.app import create_app
from papervault.ingest.cli import app as cli_app
from tests.conftest import write_config

PASSWORD = "correct horse battery"
ROLE_USERS = {Role.SCANNER: "zhao.scan", Role.OFFICER: "li.officer",
              Role.AUDITOR: "sun.audit", Role.ADMIN: "wang.admin"}


@dataclass
class Office:
    settings: Settings
    web: TestClient
    tokens: dict[Role, str]


def set_password(s: Settings, username: str, password: str) -> None:
    engine = make_engine(s.db_url)
    with session_scope(engine) as session:
        user = users.get_user(session, username)
        user.password_hash = users._hasher.hash(password)  # noqa: SLF001
        user.must_change_password = False
        session.add(user)
    engine.dispose()


@pytest.fixture
def office(instance: Callable[..., Settings]) -> Iterator[Office]:
    """An instance with login on, one user per role (password PASSWORD) and their tokens."""
    s = instance(access={"login": True}, web={"host": "0.0.0.0", "metrics": True})
    engine = make_engine(s.db_url)
    tokens: dict[Role, str] = {}
    with session_scope(engine) as session:
        for role, name in ROLE_USERS.items():
            user, _ = users.add_user(session, name, frozenset({role}), by="test")
            _, tokens[role] = users.create_token(session, user, "matrix")
        users.set_active(session, s.actor, False)  # the fixtures' all-roles local user
    engine.dispose()
    for name in ROLE_USERS.values():
        set_password(s, name, PASSWORD)
    with TestClient(create_app(s), client=("10.1.2.3", 5000)) as web:
        yield Office(s, web, tokens)


def sign_in(web: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session cookie."""
    page = web.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    r = web.post("/login", data={"username": username, "password": password,
                                 "csrf": csrf.group(1), "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    cookie = r.cookies.get("pv_session")
    assert cookie
    return cookie


def csrf_of(web: TestClient, path: str = "/account") -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', web.get(path).text)
    assert m is not None
    return m.group(1)


def audit_rows(s: Settings) -> list[AuditEntry]:
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        rows = list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))  # type: ignore[arg-type]
    engine.dispose()
    return rows


def concrete(path: str) -> str:
    return (path.replace("{doc_id}", "999999").replace("{page_no}", "1")
            .replace("{client_id}", "KH-2024-000001").replace("{token_id}", "999999")
            .replace("{username}", "nobody").replace("{disposal_id}", "999999"))


def test_every_route_has_a_rule_and_every_role_gets_exactly_what_the_matrix_allows(
    office: Office,
) -> None:
    app = office.web.app
    # Only APIRoutes pass authorize(); anything else (FastAPI's own /docs, a mount) would not.
    every = list(iter_route_contexts(app.routes))  # type: ignore[attr-defined]
    ungated = {rc.path for rc in every if not isinstance(rc.original_route, APIRoute)}
    assert ungated == {"/static"}, ungated
    contexts = [rc for rc in every if isinstance(rc.original_route, APIRoute)]
    # authorize() keys rules by the route's own path: no router may be included with a prefix.
    assert all(rc.path == rc.original_route.path for rc in contexts)  # type: ignore[attr-defined]
    keys = {f"{m} {rc.path}" for rc in contexts
            for m in rc.original_route.methods - {"HEAD"}}  # type: ignore[attr-defined]
    assert len(keys) > 30
    assert keys - set(ROUTES) == set(), "routes without a rule in index.access.ROUTES"
    assert set(ROUTES) - keys == set(), "rules for routes that no longer exist"
    checked = 0
    for key in sorted(keys):
        method, path = key.split(" ", 1)
        rule = ROUTES[key]
        anonymous = office.web.request(method, concrete(path), follow_redirects=False)
        verdict = anonymous.headers.get("x-papervault-error")
        if rule in (Open.PUBLIC, Open.PROBE):  # probes: /healthz, /readyz, /metrics
            assert verdict not in ("forbidden", "login_required"), key
            if rule is Open.PROBE:  # answered, not refused (/readyz: 503 with no worker)
                assert anonymous.status_code in (200, 503), (key, anonymous.status_code)
        elif method == "GET" and not path.startswith("/api/"):
            assert anonymous.headers["location"].startswith("/login?next="), key
        else:
            assert anonymous.status_code == 401 and verdict == "login_required", key
        for role, token in office.tokens.items():
            r = office.web.request(method, concrete(path), follow_redirects=False,
                                   headers={"Authorization": f"Bearer {token}"})
            principal_perms = permissions(frozenset({role}))
            allowed = rule in (Open.PUBLIC, Open.SIGNED_IN, Open.PROBE) or (
                isinstance(rule, Perm) and rule in principal_perms)
            verdict = r.headers.get("x-papervault-error")
            if allowed:
                assert verdict not in ("forbidden", "login_required"), (key, role, r.text[:300])
            else:
                assert r.status_code == 403 and verdict == "forbidden", (key, role)
            checked += 1
    assert checked == len(keys) * len(Role)
    denied = [e for e in audit_rows(office.settings) if e.action == "access.denied"]
    assert denied and all(e.origin.endswith("10.1.2.3") for e in denied)


def leaf_commands() -> dict[str, Any]:
    """Every command of ``papervault``, by its words (Typer's own click: duck-typed)."""
    root = typer.main.get_command(cli_app)
    out: dict[str, Any] = {}

    def walk(cmd: Any, prefix: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*prefix, name])
        else:
            out[" ".join(prefix)] = cmd

    walk(root, [])
    return out


def dummy_args(cmd: Any, tmp: Path) -> list[str]:
    """Just enough arguments for the command to parse (it must be refused before acting)."""
    (tmp / "x").touch()  # input files must exist to parse
    args: list[str] = []
    for p in cmd.params:
        if p.param_type_name == "argument" and p.required:
            n = p.nargs if p.nargs > 0 else 1
            is_int = p.type_descriptor.annotation is int
            args += ["1" if is_int else str(tmp / "x")] * n
        elif p.param_type_name == "option" and p.required:
            args += [p.opts[0], "officer" if "role" in p.name else str(tmp / "y")]
    return args


def test_every_command_has_a_rule_and_refuses_roles_without_it(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    commands = leaf_commands()
    assert set(commands) - set(COMMANDS) == set(), "commands without a rule"
    assert set(COMMANDS) - set(commands) == set(), "rules for commands that no longer exist"
    base = instance()
    engine = make_engine(base.db_url)
    with session_scope(engine) as session:
        for role, name in ROLE_USERS.items():
            users.add_user(session, name, frozenset({role}), by="test", with_password=False)
    engine.dispose()
    runner = CliRunner()
    refusals = 0
    for key, cmd in sorted(commands.items()):
        rule = COMMANDS[key]
        if rule is Open.BOOTSTRAP:
            continue
        # Someone who is not a papervault user is refused everything but creating an instance.
        cfg = write_config(base.model_copy(update={"actor": "stranger"}),
                           tmp_path / "stranger.toml")
        res = runner.invoke(cli_app, ["-c", str(cfg), *key.split(), *dummy_args(cmd, tmp_path)])
        assert isinstance(res.exception, Forbidden), (key, res.output, res.exception)
        for role, name in ROLE_USERS.items():
            principal = users.principal_of(User(username=name, roles=role.value),
                                            base.access, via="local")
            if allows(rule, principal):
                continue
            cfg = tmp_path / f"{name}.toml"
            write_config(base.model_copy(update={"actor": name}), cfg)
            res = runner.invoke(cli_app,
                                ["-c", str(cfg), *key.split(), *dummy_args(cmd, tmp_path)])
            assert isinstance(res.exception, Forbidden) and res.exception.exit_code == 77, \
                (key, role, res.output, res.exception)
            refusals += 1
    assert refusals > 40
    denied = {(e.actor, e.target) for e in audit_rows(base) if e.action == "access.denied"}
    assert ("wang.admin", "search") in denied and ("stranger", "status") in denied


def test_one_time_password_must_be_changed_and_the_session_is_renewed(
    office: Office,
) -> None:
    s, web = office.settings, office.web
    engine = make_engine(s.db_url)
    with session_scope(engine) as session:
        _, one_time = users.add_user(session, "chen.new", frozenset({Role.OFFICER}), by="t")
    engine.dispose()
    assert one_time
    planted = "attacker-chosen-value"
    web.cookies.set("pv_session", planted)
    first = sign_in(web, "chen.new", one_time)
    assert first != planted  # a cookie planted before sign-in is never adopted
    assert web.get("/", follow_redirects=False).headers["location"] == "/password"
    assert web.get("/api/search?q=x").status_code == 403  # API too, until it is changed
    token = csrf_of(web, "/password")
    weak = web.post("/password", data={"current": one_time, "new": "short", "repeat": "short",
                                       "csrf": token})
    assert weak.status_code == 400
    wrong = web.post("/password", data={"current": "not-it", "new": PASSWORD,
                                        "repeat": PASSWORD, "csrf": token})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    r = web.post("/password", data={"current": one_time, "new": PASSWORD, "repeat": PASSWORD,
                                    "csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    second = r.cookies.get("pv_session")
    assert second and second != first
    landed = web.get(r.headers["location"]).text
    assert 'id="flash"' in landed and "密码已修改" in landed  # shown once, then gone
    assert 'id="flash"' not in web.get("/").text
    assert web.get("/api/search?q=x").status_code == 200
    stale = TestClient(web.app, cookies={"pv_session": first})  # type: ignore[arg-type]
    assert stale.get("/api/search?q=x").status_code == 401  # the old session ended
    actions = [e.action for e in audit_rows(s) if e.target == "user:chen.new"]
    assert actions == ["login.attempt", "login", "password.change"]  # attempt: review H4


def test_forms_need_their_csrf_token(office: Office) -> None:
    web = office.web
    sign_in(web, "wang.admin")
    form = {"username": "qian.new", "roles": ["scanner"]}
    assert web.post("/admin/users", data=form).status_code == 403
    assert web.post("/admin/users", data={**form, "csrf": "0" * 64}).status_code == 403
    token = csrf_of(web, "/admin/users")
    # Another browser's token is worth nothing here.
    with TestClient(web.app) as other:  # type: ignore[arg-type]
        sign_in(other, "li.officer")
        assert other.post("/logout", data={"csrf": token}).status_code == 403
    made = web.post("/admin/users", data={**form, "csrf": token})
    assert made.status_code == 200 and "one-time-password" in made.text
    # The header works too (for scripts using a session).
    r = web.post("/admin/users/qian.new/unlock", headers={"X-CSRF-Token": token})
    assert r.status_code == 200


def test_lockout_after_failed_sign_ins_is_audited_with_origin(office: Office) -> None:
    s, web = office.settings, office.web
    page = web.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    for _ in range(s.access.max_failed_logins):
        r = web.post("/login", data={"username": "li.officer", "password": "wrong",
                                     "csrf": token})
        assert r.status_code == 401
    r = web.post("/login", data={"username": "li.officer", "password": PASSWORD,
                                 "csrf": token})
    assert r.status_code == 401 and "locked" in r.text.lower() or "锁定" in r.text
    unknown = web.post("/login", data={"username": "no.such", "password": "x", "csrf": token})
    assert unknown.status_code == 401
    rows = audit_rows(s)
    failed = [e for e in rows if e.action == "login.failed"]
    reasons = [json.loads(e.detail)["reason"] for e in failed]
    assert reasons == ["bad_password"] * (s.access.max_failed_logins - 1) + [
        "locked_now", "locked", "unknown_user"]
    assert {e.actor for e in failed} == {"li.officer", "unknown:" + users.sha256("no.such")[:12]}
    assert all(e.origin == "web 10.1.2.3" for e in failed)
    assert [e.actor for e in rows if e.action == "login.locked"] == ["li.officer"]
    # An admin lifts the lock; the right password works again.
    admin = TestClient(web.app)  # type: ignore[arg-type]
    sign_in(admin, "wang.admin")
    admin.post("/admin/users/li.officer/unlock", data={"csrf": csrf_of(admin, "/admin/users")})
    web.cookies.clear()
    sign_in(web, "li.officer")


def test_an_address_guessing_across_accounts_is_refused_before_any_password_check(
        office: Office) -> None:
    """Password spraying: one wrong guess per account never trips the per-account lockout,
    so the address itself is refused once it has failed too often."""
    s = office.settings
    s.access.max_failed_logins_per_address = 6
    sprayer = TestClient(office.web.app, client=("10.9.9.9", 6000))
    m = re.search(r'name="csrf" value="([^"]+)"', sprayer.get("/login").text)
    assert m is not None
    token = m.group(1)
    guesses = [*ROLE_USERS.values(), "admin", "root"]
    for name in guesses:
        r = sprayer.post("/login", data={"username": name, "password": "123456",
                                         "csrf": token})
        assert r.status_code == 401
    # The right password is refused now too: the address no longer gets to try.
    r = sprayer.post("/login", data={"username": "li.officer", "password": PASSWORD,
                                     "csrf": token}, follow_redirects=False)
    assert r.status_code == 429 and ("分钟后再试" in r.text or "try again" in r.text)
    assert "pv_session" not in r.cookies
    rows = audit_rows(s)
    assert [(e.actor, e.origin) for e in rows if e.action == "login.throttled"] == [
        ("li.officer", "web 10.9.9.9")]
    # No account was locked by the spray, and another address signs in as usual.
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        assert all(users.get_user(session, n).locked_until is None
                   for n in ROLE_USERS.values())
    engine.dispose()
    sign_in(office.web, "li.officer")


def test_tokens_are_shown_once_stored_hashed_and_revocable(office: Office) -> None:
    s, web = office.settings, office.web
    sign_in(web, "li.officer")
    page = web.post("/account/tokens", data={"name": "crm", "csrf": csrf_of(web)})
    token = re.search(r'id="new-token">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    api = TestClient(web.app)  # type: ignore[arg-type]
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/me", headers=auth).json()["username"] == "li.officer"
    assert token not in web.get("/account").text  # shown once
    engine = make_engine(s.db_url)
    with engine.connect() as c:
        dump = " ".join(str(v) for row in c.exec_driver_sql("SELECT * FROM api_token")
                        for v in row)
    engine.dispose()
    assert token not in dump and users.sha256(token) in dump
    token_id = re.findall(r"/account/tokens/(\d+)/revoke", web.get("/account").text)[-1]
    web.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(web)})
    assert api.get("/api/me", headers=auth).status_code == 401
    # Another user's token cannot be revoked from here.
    other = TestClient(web.app)  # type: ignore[arg-type]
    sign_in(other, "sun.audit")
    r = other.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(other)})
    assert r.status_code == 404


def test_disabling_a_user_ends_their_sessions_and_tokens(office: Office) -> None:
    web = office.web
    officer = TestClient(web.app)  # type: ignore[arg-type]
    sign_in(officer, "li.officer")
    auth = {"Authorization": f"Bearer {office.tokens[Role.OFFICER]}"}
    assert officer.get("/api/search?q=x").status_code == 200
    sign_in(web, "wang.admin")
    web.post("/admin/users/li.officer/active", data={"active": "0",
                                                     "csrf": csrf_of(web, "/admin/users")})
    assert officer.get("/api/search?q=x").status_code == 401
    assert officer.get("/api/search?q=x", headers=auth).status_code == 401
    # The last administrator cannot lock everyone out.
    r = web.post("/admin/users/wang.admin/active", data={"active": "0",
                                                         "csrf": csrf_of(web, "/admin/users")})
    assert r.status_code == 400


def test_paths_cannot_escape(office: Office) -> None:
    web = office.web
    auth = {"Authorization": f"Bearer {office.tokens[Role.OFFICER]}"}
    for path in ("/documents/..%2F..%2Fetc%2Fpasswd/original", "/documents/1%2F..%2F2/original",
                 "/static/..%2F..%2F..%2Fconfig%2Fsettings.py", "/static/../app.py",
                 "/api/documents/-1/original"):
        r = web.get(path, headers=auth)
        assert r.status_code in (404, 422), (path, r.status_code)
        assert "root:" not in r.text and "import" not in r.text
    # Only local paths are followed after sign-in.
    page = web.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = web.post("/login", data={"username": "li.officer", "password": PASSWORD,
                                 "csrf": token, "next": "//evil.example/x"},
                 follow_redirects=False)
    assert r.headers["location"] == "/"


@pytest.mark.slow
def test_a_new_office_as_its_people_would_use_it(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    """An admin makes one user per role in the web UI; each signs in, changes the one-time
    password and sees only what the matrix allows; the auditor finds every read of the
    client's file; the officer's reads carry the officer's name and address."""
    from tests.integration.test_search_access import CLIENT, ingest_claim

    s = instance(access={"login": True})
    doc_id, sha = ingest_claim(s, tmp_path / "scans")
    engine = make_engine(s.db_url)
    with session_scope(engine) as session:
        _, admin_password = users.add_user(session, "wang.admin", frozenset({Role.ADMIN}),
                                           by="init")
        users.set_active(session, s.actor, False)
    engine.dispose()
    assert admin_password
    app = create_app(s)

    def browser(ip: str) -> TestClient:
        return TestClient(app, client=(ip, 40000))

    def first_sign_in(web: TestClient, name: str, one_time: str) -> None:
        sign_in(web, name, one_time)
        r = web.post("/password", data={"current": one_time, "new": PASSWORD,
                                        "repeat": PASSWORD, "csrf": csrf_of(web, "/password")},
                     follow_redirects=False)
        assert r.status_code == 303

    admin = browser("192.168.1.10")
    first_sign_in(admin, "wang.admin", admin_password)
    passwords = {}
    for role, name in ROLE_USERS.items():
        if role is Role.ADMIN:
            continue
        page = admin.post("/admin/users", data={"username": name, "roles": [role.value],
                                                "csrf": csrf_of(admin, "/admin/users")})
        m = re.search(r'id="one-time-password">([^<]+)<', page.text)
        assert page.status_code == 200 and m, page.text[:500]
        passwords[name] = m.group(1)

    officer, auditor, clerk = (browser("192.168.1.21"), browser("192.168.1.31"),
                               browser("192.168.1.41"))
    first_sign_in(officer, "li.officer", passwords["li.officer"])
    first_sign_in(auditor, "sun.audit", passwords["sun.audit"])
    first_sign_in(clerk, "zhao.scan", passwords["zhao.scan"])

    # The records officer finds the claim, opens it and downloads the original.
    hits = officer.get("/api/search", params={"q": "理赔"}).json()["hits"]
    assert [h["id"] for h in hits] == [doc_id]
    assert "理赔" in officer.get(f"/documents/{doc_id}").text
    original = officer.get(f"/documents/{doc_id}/original")
    assert hashlib.sha256(original.content).hexdigest() == sha
    officer.get(f"/clients/{CLIENT}")

    # The clerk sees the processing status and nothing of the archive.
    status = clerk.get("/status")
    assert status.status_code == 200 and "已存储" in status.text and "文档" in status.text
    assert clerk.get("/", follow_redirects=False).headers["location"] == "/intake"
    assert clerk.get(f"/documents/{doc_id}").status_code == 403
    assert clerk.get("/api/search", params={"q": "理赔"}).status_code == 403

    # The auditor sees metadata, never the content, and finds every read of the client's file.
    meta = auditor.get(f"/api/documents/{doc_id}").json()
    assert meta["sha256"] == sha and "text" not in meta and "pages" not in meta
    # (Its type, 理赔申请书, is metadata since issue 18: look for words of the text itself.)
    assert "出险" not in auditor.get(f"/documents/{doc_id}").text
    assert auditor.get(f"/documents/{doc_id}/original").status_code == 403
    assert auditor.get("/api/search", params={"q": "理赔"}).status_code == 403
    log = auditor.get("/api/audit", params={"client_id": CLIENT}).json()["entries"]
    reads = {(e["actor"], e["action"], e["target"], e["origin"]) for e in log}
    assert reads >= {("li.officer", "view", f"document:{doc_id}", "web 192.168.1.21"),
                     ("li.officer", "download", f"document:{doc_id}", "web 192.168.1.21"),
                     ("li.officer", "view", f"client:{CLIENT}", "web 192.168.1.21")}
    csv_text = auditor.get("/audit.csv", params={"client_id": CLIENT}).content.decode("utf-8-sig")
    for actor, action, target, _ in reads:
        assert f",{actor},{action},{target}," in csv_text
    # The auditor's own look at the trail is in the trail too.
    assert auditor.get("/api/audit", params={"actor": "sun.audit"}).json()["total"] >= 2
    # Each sees only their own menu.
    assert 'id="nav-users"' in admin.get("/admin/users").text
    assert 'id="nav-users"' not in auditor.get("/audit").text
    assert 'id="nav-audit"' in auditor.get("/audit").text
    assert 'id="nav-search"' not in clerk.get("/status").text
    # The command line gives the same answer: the auditor's `show` has no text.
    for name, sees_text in (("sun.audit", False), ("li.officer", True)):
        cfg = write_config(s.model_copy(update={"actor": name}), tmp_path / f"{name}.toml")
        res = CliRunner().invoke(cli_app, ["-c", str(cfg), "show", str(doc_id), "--json"])
        assert res.exit_code == 0, res.output
        shown = json.loads(res.stdout)  # warnings (a key file mode fixed) go to stderr
        assert shown["sha256"] == sha and ("text" in shown) is sees_text


def test_auditors_review_sampled_scans_and_only_those(
    instance: Callable[..., Settings],
) -> None:
    """A spot check needs the scan: the auditor sees the sampled documents' pages (audited),
    marks them, and still sees no other document's content."""
    from papervault.index.coverage.tables import QaCheck
    from papervault.ingest.pipeline import Stored, capture
    from papervault.ingest.runtime import open_runtime
    from tests.factories import form_lines, write_form

    s = instance(access={"login": True})
    rt = open_runtime(s)
    ids = []
    for n in range(2):
        out = capture(write_form(s.inbox / f"scan{n}.png",
                                 form_lines(client_id=f"KH-2024-00012{n}"), dpi=100),
                      rt.capture_context())
        assert isinstance(out, Stored)
        ids.append(out.document_id)
    sampled, other = ids
    with session_scope(rt.engine) as session:
        session.add(QaCheck(document_id=sampled, sample_id="t1"))
        users.add_user(session, "sun.audit", frozenset({Role.AUDITOR}), by="t")
    set_password(s, "sun.audit", PASSWORD)
    with TestClient(create_app(s)) as web:
        sign_in(web, "sun.audit")
        page = web.get("/qa")
        assert f'id="qa-{sampled}"' in page.text and f'id="qa-{other}"' not in page.text
        image = web.get(f"/qa/{sampled}/pages/1.jpg")
        assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
        assert web.get(f"/qa/{other}/pages/1.jpg").status_code == 404
        assert web.get(f"/documents/{sampled}/pages/1.jpg").status_code == 403
        token = csrf_of(web, "/qa")
        assert web.post(f"/qa/{sampled}", data={"verdict": "fail", "csrf": token}
                        ).status_code == 422  # a failure needs its reason (form kept)
        r = web.post(f"/qa/{sampled}", data={"verdict": "fail", "reason": "第2页模糊",
                                             "csrf": token}, follow_redirects=False)
        assert r.status_code == 303
        assert "合格率 0.0%（已判定 1 份" in web.get("/qa").text
    actions = [(e.actor, e.action, e.target) for e in audit_rows(s)]
    assert ("sun.audit", "qa.view", f"document:{sampled}") in actions
    assert ("sun.audit", "qa.fail", f"document:{sampled}") in actions


def test_client_links_lead_where_the_role_may_go(office: Office) -> None:
    """An auditor's flagged list links a client to their trail in the audit log (the
    client page needs search, which auditors lack); nobody is shown a link to a refusal."""
    from papervault.index.catalog.models import PaperRecord
    from papervault.index.registers.tables import import_paper_records

    engine = make_engine(office.settings.db_url)
    with session_scope(engine) as session:
        import_paper_records(session, [PaperRecord(record_no="DA-2024-LP-000777",
                                                   client_id="KH-2024-000777")])
    engine.dispose()
    auditor = {"Authorization": f"Bearer {office.tokens[Role.AUDITOR]}"}
    page = office.web.get("/coverage", headers=auditor).text
    assert 'href="/audit?client_id=KH-2024-000777"' in page
    assert 'href="/clients/KH-2024-000777"' not in page
    assert office.web.get("/audit?client_id=KH-2024-000777", headers=auditor).status_code == 200
