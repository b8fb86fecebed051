"""Tiered access (issue 18): two departments' documents, from real OCR of generated forms;
scoped officers find only their own, a 机密 copy is invisible below clearance, types come
from keyword rules over real OCR text, and every attempt by ID outside scope is audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.progress import Progress
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from papervault.config.errors import PapervaultError
from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.scope import Hidden
from papervault.index.archive import client_view, get_document
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import AuditEntry, Client, Document
from papervault.ingest.cli import app as cli_app
from tests.conftest import write_config
from tests.factories import form_lines, write_form

CLAIMS, UNDERWRITING = "理赔部", "承保部"
C_CLAIMS, C_UW = "KH-2024-000201", "KH-2024-000202"

FORMS = {
    "claim": form_lines(client_id=C_CLAIMS),  # 理赔申请书
    "proposal": ["中国平安财产保险 投保单", f"客户编号：{C_UW}", "投保人：李娜",
                 "保险期间：2024年1月1日至2024年12月31日", "Proposal form"],
    "idcard": ["居民身份证 复印件", f"客户编号：{C_CLAIMS}", "姓名：张伟  性别：男",
               "住址：上海市浦东新区世纪大道100号", "ID card copy"],
    "mandate": ["授权委托书", "委托人：王芳", "受托人：赵强", "委托事项：代为办理保险理赔手续",
                "Power of attorney"],
}
EXPECTED_TYPES = {"claim": "理赔申请书", "proposal": "投保单", "idcard": "身份证复印件",
                  "mandate": "授权委托书"}
# The records engineer's apply_record_metadata writes a document's department from its
# paper record or client (branch records); until the lead wires the two together at merge,
# the fixture sets the column as that function would.
DEPARTMENTS = {"claim": CLAIMS, "proposal": UNDERWRITING, "idcard": CLAIMS, "mandate": None}


@dataclass
class Office:
    settings: Settings
    ids: dict[str, int]
    cli: Callable[..., tuple[int, str]]


@pytest.fixture
def office(instance: Callable[..., Settings], tmp_path: Path) -> Office:
    """GIVEN four generated scans OCR'd by tesseract (two departments' clients, an ID copy
    that its type makes 机密, a mandate no department claims yet) and four officers."""
    from papervault.ingest.service import ingest_paths

    s = instance()
    engine = make_engine(s.db_url)
    with session_scope(engine) as session:
        session.add(Client(client_id=C_CLAIMS, name="张伟", department=CLAIMS))
        session.add(Client(client_id=C_UW, name="李娜", department=UNDERWRITING))
    paths = [write_form(tmp_path / "scans" / f"{k}.png", lines, dpi=200)
             for k, lines in FORMS.items()]
    with Progress(disable=True) as p:
        results = ingest_paths(s, paths, p, drain_ocr=True)
    assert [r["outcome"] for r in results] == ["stored"] * 4
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        for key in FORMS:
            doc = session.exec(select(Document).where(
                Document.original_name == f"{key}.png")).one()
            assert doc.id is not None
            ids[key] = doc.id
            doc.department = DEPARTMENTS[key]
            session.add(doc)
    engine.dispose()
    runner = CliRunner()
    admin_cfg = write_config(s, tmp_path / "admin.toml")

    def cli(*args: str, actor: str | None = None) -> tuple[int, str]:
        cfg = admin_cfg if actor is None else write_config(
            s.model_copy(update={"actor": actor}), tmp_path / f"{actor}.toml")
        res = runner.invoke(cli_app, ["-c", str(cfg), *args])
        # In process, our errors reach the runner raw; main() would exit with their code.
        if isinstance(res.exception, PapervaultError):
            return res.exception.exit_code, res.stdout
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        return res.exit_code, res.stdout

    for args in (["li.claims", "-r", "officer", "--department", CLAIMS],
                 ["wang.uw", "-r", "officer", "--department", UNDERWRITING],
                 ["zhou.all", "-r", "officer"],
                 ["hu.secret", "-r", "officer", "-d", CLAIMS, "-d", "理赔二部",
                  "--clearance", "机密"]):
        code, out = cli("users", "add", *args, "--no-password")
        assert code == 0, out
    return Office(s, ids, cli)


def found(office: Office, actor: str, *args: str) -> tuple[set[int], int]:
    code, out = office.cli("search", *args, "--json", "--per-page", "100", actor=actor)
    assert code == 0, out
    body = json.loads(out)
    return {h["id"] for h in body["hits"]}, body["total"]


@pytest.mark.slow
def test_scoped_officers_find_only_their_departments_documents(office: Office) -> None:
    ids = office.ids
    claim, proposal, idcard, mandate = (ids[k] for k in FORMS)
    # Types from real OCR text through the keyword rules (precedence: nothing else set one).
    engine = make_engine(office.settings.db_url)
    with Session(engine) as session:
        docs = {d.id: d for d in session.exec(select(Document))}
    for key, doc_type in EXPECTED_TYPES.items():
        assert (docs[ids[key]].doc_type, docs[ids[key]].doc_type_source) == (
            doc_type, "keywords"), (key, docs[ids[key]].text[:200])

    # Lists, counts and hits: each sees their departments' documents under their clearance.
    assert found(office, "li.claims") == ({claim}, 1)
    assert found(office, "wang.uw") == ({proposal}, 1)
    assert found(office, "zhou.all") == ({claim, proposal, mandate}, 3)  # 内部: no ID copy
    assert found(office, "hu.secret") == ({claim, idcard}, 2)
    # By word, by client ID in the text, by filter: another department's client is absent.
    assert found(office, "li.claims", "投保单") == (set(), 0)
    assert found(office, "wang.uw", "投保单") == ({proposal}, 1)
    assert found(office, "li.claims", C_UW) == (set(), 0)
    assert found(office, "li.claims", "--client", C_UW) == (set(), 0)
    assert found(office, "li.claims", "--department", UNDERWRITING) == (set(), 0)
    assert found(office, "li.claims", "居民身份证") == (set(), 0)  # 机密, above 内部
    assert found(office, "hu.secret", "居民身份证") == ({idcard}, 1)
    assert found(office, "wang.uw", "委托") == (set(), 0)  # no department yet: unscoped only
    assert found(office, "zhou.all", "委托") == ({mandate}, 1)

    # By ID: answered exactly as a document that does not exist, and audited.
    code, out = office.cli("show", str(proposal), "--json", actor="li.claims")
    missing_code, _ = office.cli("show", "987654", "--json", actor="li.claims")
    assert code == missing_code == 3 and out == ""
    code, _ = office.cli("get", str(idcard), "-o", str(office.settings.home / "x.png"),
                         actor="li.claims")
    assert code == 3 and not (office.settings.home / "x.png").exists()
    code, out = office.cli("show", str(idcard), "--json", actor="hu.secret")
    assert code == 0 and json.loads(out)["sensitivity"] == "机密"
    with Session(engine) as session:
        filtered = {(e.actor, e.target) for e in session.exec(
            select(AuditEntry).where(AuditEntry.action == "access.filtered"))}
        searches = [json.loads(e.detail) for e in session.exec(
            select(AuditEntry).where(AuditEntry.action == "search",
                                     AuditEntry.actor == "li.claims"))]
    assert filtered == {("li.claims", f"document:{proposal}"),
                        ("li.claims", f"document:{idcard}")}
    assert all(d["scope"]["departments"] == [CLAIMS] for d in searches)

    # The unclassified list: the mandate (no department) only for the unscoped officer.
    _, listed = office.cli("classify", "list", "--json", actor="zhou.all")
    assert mandate in {json.loads(line)["id"] for line in listed.splitlines()}
    _, listed = office.cli("classify", "list", "--json", actor="li.claims")
    assert mandate not in {json.loads(line)["id"] for line in listed.splitlines()}

    # The client page's service: another department's client does not exist for them.
    with Session(engine) as session:
        scope = users.scope_of(users.get_user(session, "li.claims"), office.settings.access)
        view = client_view(session, C_CLAIMS, scope)
        assert [d.id for d in view.documents] == [claim]
        with pytest.raises(Hidden):
            client_view(session, C_UW, scope)
        with pytest.raises(Hidden):
            get_document(session, idcard, scope)
    engine.dispose()


@pytest.mark.slow
def test_filing_by_hand_wins_and_moves_the_document_into_scope(office: Office) -> None:
    mandate = office.ids["mandate"]
    # An officer scoped to 理赔部 cannot file what they cannot see …
    code, _ = office.cli("classify", "set", str(mandate), "--department", CLAIMS,
                         actor="li.claims")
    assert code == 3
    # … the unscoped officer files it; then it is the claims officers' (and the type
    # set by hand survives a lower source offering another).
    code, out = office.cli("classify", "set", str(mandate), "--department", CLAIMS,
                           "--type", "理赔申请书", actor="zhou.all")
    assert code == 0, out
    assert found(office, "li.claims", "委托") == ({mandate}, 1)
    code, _ = office.cli("classify", "set", str(mandate), "--type", "no-such-type",
                         actor="zhou.all")
    assert code == 2
    code, _ = office.cli("classify", "set", str(mandate), "--level", "机密", actor="zhou.all")
    assert code == 2  # above the officer's own clearance
    from papervault.index.catalog import doctypes

    engine = make_engine(office.settings.db_url)
    with session_scope(engine) as session:
        doc = session.get(Document, mandate)
        assert doc is not None
        assert not doctypes.offer_type(doc, "授权委托书", "keywords")
        assert (doc.doc_type, doc.doc_type_source) == ("理赔申请书", "manual")
        rows = list(session.exec(select(AuditEntry).where(
            AuditEntry.action == "document.classify").order_by(col(AuditEntry.id))))
    engine.dispose()
    assert [r.actor for r in rows] == ["zhou.all"]
    assert json.loads(rows[0].detail)["after"]["department"] == CLAIMS


def test_users_scope_replaces_departments_and_clearance(instance: Callable[..., Settings],
                                                        tmp_path: Path) -> None:
    s = instance()
    cfg = write_config(s, tmp_path / "p.toml")
    runner = CliRunner()

    def run(*args: str) -> str:
        res = runner.invoke(cli_app, ["-c", str(cfg), *args])
        assert res.exit_code == 0, res.output
        return res.stdout

    run("users", "add", "li.claims", "-r", "officer", "--department", CLAIMS, "--no-password")
    run("users", "scope", "li.claims", "--department", UNDERWRITING, "--clearance", "机密")
    listed = [json.loads(x) for x in run("users", "list", "--json").splitlines()]
    li = next(u for u in listed if u["username"] == "li.claims")
    assert (li["departments"], li["clearance"]) == ([UNDERWRITING], "机密")
    run("users", "scope", "li.claims", "--all-departments", "--clearance", "")
    listed = [json.loads(x) for x in run("users", "list", "--json").splitlines()]
    li = next(u for u in listed if u["username"] == "li.claims")
    assert (li["departments"], li["clearance"]) == ([], None)
    bad = runner.invoke(cli_app, ["-c", str(cfg), "users", "scope", "li.claims",
                                  "--clearance", "绝密"])
    assert isinstance(bad.exception, PapervaultError) and bad.exception.exit_code == 2


# What another department's, a 机密 and an unfiled document would give away if shown.
LEAKS = {"proposal": (C_UW, "李娜", "proposal.png", "投保人"),
         "idcard": ("idcard.png", "居民身份证", "世纪大道"),
         "mandate": ("mandate.png", "王芳")}


@pytest.mark.slow
def test_every_officer_command_keeps_a_scoped_officer_inside_the_scope(
    office: Office, tmp_path: Path,
) -> None:
    """Every command an officer may run, tried with the IDs and words of documents outside
    the scope, shows none of them; the unscoped officer running the same sees them (so the
    walk can fail), and the document counts of status are the scope's."""
    from papervault.index.accounts.access import COMMANDS, Perm, Role, allows, permissions
    from papervault.index.accounts.access import Principal as P
    from papervault.index.accounts.scope import EVERYTHING

    ids = office.ids
    proposal, idcard, mandate = ids["proposal"], ids["idcard"], ids["mandate"]
    (tmp_path / "empty.csv").write_text("client_id,name\n", encoding="utf-8")
    out_file = tmp_path / "got.bin"
    tries: dict[str, list[list[str]]] = {
        "status": [["--json"]],
        "search": [[w] for ws in LEAKS.values() for w in ws] + [
            ["--client", C_UW, "--json"], ["--department", UNDERWRITING, "--json"],
            ["--type", "投保单", "--json"], ["--type", "授权委托书", "--json"]],
        "show": [[str(i), "--json"] for i in (proposal, idcard, mandate)],
        "get": [[str(i), "-o", str(out_file)] for i in (proposal, idcard, mandate)],
        "review": [["--json"], ["--link", str(mandate), C_CLAIMS],
                   ["--link", str(ids["claim"]), C_UW]],
        "classify list": [["--json"]],
        "classify set": [[str(i), "--type", "保单"] for i in (proposal, idcard, mandate)],
        "completeness": [["--json"], ["--client", C_UW, "--json"],
                         ["--department", UNDERWRITING, "--json"]],
        "clients import": [[str(tmp_path / "empty.csv")]],
        "paper import": [[str(tmp_path / "empty.csv")]],
        "retention report": [["--json"], ["--csv"]],
        "disposal propose": [["DA-2024-UW-00001", "--reason", "x"]],
        "disposal run": [["1"]],
        "disposal list": [["--json"]],
        "disposal export": [["1"]],
    }
    officer = P("x", frozenset({Role.OFFICER}), permissions(frozenset({Role.OFFICER})),
                "local", EVERYTHING)
    allowed = {k for k, rule in COMMANDS.items() if isinstance(rule, Perm)
               and allows(rule, officer)}
    assert allowed == set(tries), "an officer's command is missing from the scope walk"

    def walk(actor: str) -> str:
        seen = ""
        for key, arg_lists in sorted(tries.items()):
            for args in arg_lists:
                code, out = office.cli(*key.split(), *args, actor=actor)
                assert code in (0, 2, 3), (key, args, code, out)
                for a in args:  # what the user typed is echoed back: no leak
                    out = out.replace(a, "")
                seen += out
        return seen

    shown = walk("li.claims")
    for key, words in LEAKS.items():
        for w in words:
            assert w not in shown, (key, w)
    assert not out_file.exists()
    engine = make_engine(office.settings.db_url)
    with Session(engine) as session:
        doc = session.get(Document, mandate)
        assert doc is not None and doc.client_id is None and doc.doc_type == "授权委托书"
        claim = session.get(Document, ids["claim"])
        assert claim is not None and claim.client_id == C_CLAIMS
    engine.dispose()
    code, out = office.cli("status", "--json", actor="li.claims")
    assert json.loads(out)["documents"]["total"] == 2  # 理赔部: the claim and the ID copy
    code, out = office.cli("status", "--json", actor="zhou.all")
    assert json.loads(out)["documents"]["total"] == 4
    everything = walk("zhou.all")
    assert [w for w in LEAKS["proposal"] + LEAKS["mandate"] if w not in everything] == []


@pytest.mark.slow
def test_every_route_keeps_a_scoped_officer_inside_the_scope(
    office: Office, instance: Callable[..., Settings],
) -> None:
    """The route matrix's scope dimension: every route of the app, called by a scoped
    officer with the IDs of documents and clients outside their scope (another
    department's, a 机密 copy, an unfiled one), gives none of them away (a count, a
    snippet, a thumbnail, a name); the unscoped officer calling the same sees them."""
    from fastapi.routing import APIRoute, iter_route_contexts
    from fastapi.testclient import TestClient

    from papervault.index.web.app import create_app

    s = instance(access={"login": True})
    engine = make_engine(s.db_url)
    tokens: dict[str, str] = {}
    with session_scope(engine) as session:
        for name in ("li.claims", "zhou.all"):
            _, tokens[name] = users.create_token(session, users.get_user(session, name), "t")
    ids = office.ids
    hidden = [ids["proposal"], ids["idcard"], ids["mandate"]]
    thumbs: dict[str, list[int]] = {}
    answered: dict[str, set[str]] = {}

    def walk(web: TestClient, who: str) -> str:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        contexts = [rc for rc in iter_route_contexts(web.app.routes)  # type: ignore[attr-defined]
                    if isinstance(rc.original_route, APIRoute)]
        seen = ""
        for rc in contexts:
            for method in sorted(rc.original_route.methods - {"HEAD"}):  # type: ignore[attr-defined]
                for doc_id in hidden:
                    path = (rc.path.replace("{doc_id}", str(doc_id))
                            .replace("{page_no}", "1").replace("{client_id}", C_UW)
                            .replace("{token_id}", "999999").replace("{username}", who))
                    # Words the hidden documents hold, none of them a leak marker.
                    params = {"q": "保险", "client_id": C_UW}
                    r = web.request(method, path, headers=headers, params=params,
                                    follow_redirects=False)
                    # /readyz: 503 without a live worker, by design
                    assert r.status_code < 500 or path == "/readyz", (
                        method, path, r.status_code, r.text[:300])
                    answered.setdefault(who, set()).add(
                        f"{method} {rc.path} {r.status_code}")
                    if r.headers.get("content-type", "").startswith("image/"):
                        thumbs.setdefault(who, []).append(doc_id)
                        continue
                    body = r.text
                    for echoed in (*params.values(), path):
                        body = body.replace(echoed, "")
                    seen += body
        return seen

    with TestClient(create_app(s)) as web:
        shown = walk(web, "li.claims")
        everything = walk(web, "zhou.all")
    # The walk ran signed in throughout (a revoked token would make it vacuous).
    for who in ("li.claims", "zhou.all"):
        assert {"GET /api/search 200", "GET /status 200", "GET /api/me 200",
                "GET /documents/{doc_id} 404", "GET /clients/{client_id} 404"
                if who == "li.claims" else "GET /clients/{client_id} 200"} <= answered[who]
    markers = [w for words in LEAKS.values() for w in words if w != C_UW]  # C_UW: echoed
    assert [w for w in markers if w in shown] == []
    assert "li.claims" not in thumbs  # no page image of a hidden document
    assert [w for w in LEAKS["proposal"] + LEAKS["mandate"]
            if w != C_UW and w not in everything] == []
    assert thumbs.get("zhou.all")
    with Session(engine) as session:
        filtered = {e.target for e in session.exec(select(AuditEntry).where(
            AuditEntry.action == "access.filtered", AuditEntry.actor == "li.claims"))}
    engine.dispose()
    assert {f"document:{i}" for i in hidden} <= filtered and f"client:{C_UW}" in filtered
