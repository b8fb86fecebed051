"""Search, view and download through the REST API, the web pages and the CLI, on a real
OCR'd claim form; every access lands in the audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.progress import Progress
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from papervault.config.errors import ConfigError
from papervault.config.settings import Settings
from papervault.index.catalog.db import make_engine, upgrade
from papervault.index.catalog.models import AuditEntry, Client, Document, PaperRecord
from papervault.index.web.app import create_app
from papervault.ingest.cli import app as cli_app
from tests.conftest import write_config
from tests.factories import form_lines, write_form

CLIENT = "KH-2024-000123"


def ingest_claim(s: Settings, folder: Path) -> tuple[int, str]:
    """GIVEN a generated claim form for KH-2024-000123, captured and OCR'd by tesseract."""
    from papervault.ingest.service import ingest_paths

    engine = make_engine(s.db_url)
    upgrade(engine)
    with Session(engine) as session:  # the clients register knows the client: it links
        session.add(Client(client_id=CLIENT, name="张伟", policy_numbers="BD2024000123"))
        session.commit()
    form = write_form(folder / "scan-0001.png", form_lines(client_id=CLIENT))
    sha = hashlib.sha256(form.read_bytes()).hexdigest()
    with Progress(disable=True) as p:
        assert ingest_paths(s, [form], p, drain_ocr=True)[0]["outcome"] == "stored"
    with Session(engine) as session:
        doc = session.exec(select(Document)).one()
        session.add(PaperRecord(record_no="DA-2024-LP-0001", client_id=CLIENT,
                                title="车险理赔卷", room="3F", shelf="A2", box="17"))
        session.commit()
        assert doc.id is not None and doc.client_id == CLIENT
        doc_id = doc.id
    engine.dispose()
    return doc_id, sha


def audit_actions(s: Settings) -> list[tuple[str, str, str]]:
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        out = [(e.action, e.target, e.origin) for e in rows]
    engine.dispose()
    return out


@pytest.mark.slow
def test_api_and_pages_find_view_and_download(instance: Callable[..., Settings],
                                              tmp_path: Path) -> None:
    s = instance(actor="li.officer")
    doc_id, sha = ingest_claim(s, tmp_path / "scans")
    with TestClient(create_app(s), client=("127.0.0.1", 5000)) as web:
        r = web.get("/api/search", params={"q": "理赔"})
        assert r.status_code == 200
        body = r.json()
        assert [h["id"] for h in body["hits"]] == [doc_id]
        assert any(hit and "理赔" in seg for seg, hit in body["hits"][0]["highlights"])
        assert web.get("/api/search", params={"q": f"{CLIENT} 理赔"}).json()["total"] == 1
        assert web.get("/api/search", params={"q": "理赔", "link_state": "unlinked"}
                       ).json()["total"] == 0
        assert web.get("/api/search", params={"per_page": 1000}).status_code == 422

        doc = web.get(f"/api/documents/{doc_id}").json()
        assert doc["client_id"] == CLIENT and doc["sha256"] == sha
        assert "理赔" in doc["text"].replace(" ", "") and doc["pages"][0]["page_no"] == 1
        assert "wrapped_key" not in doc and "object_name" not in doc

        original = web.get(f"/api/documents/{doc_id}/original")
        assert hashlib.sha256(original.content).hexdigest() == sha
        assert "attachment" in original.headers["content-disposition"]
        searchable = web.get(f"/api/documents/{doc_id}/searchable")
        assert searchable.content.startswith(b"%PDF")

        client = web.get(f"/api/clients/{CLIENT}").json()
        assert [d["id"] for d in client["documents"]] == [doc_id]
        assert client["paper_records"][0]["record_no"] == "DA-2024-LP-0001"
        assert web.get("/api/clients/KH-1999-000000").status_code == 404
        assert web.get("/api/documents/99999").json()["error"] == "not_found"
        assert "/api/clients/{client_id}" in web.get("/openapi.json").json()["paths"]

        page = web.get("/", params={"q": "理赔"})
        assert page.status_code == 200 and "<mark>理赔</mark>" in page.text
        assert f'href="/documents/{doc_id}' in page.text and "共 1 条结果" in page.text
        en = web.get("/", params={"q": "理赔", "lang": "en"})
        assert "1 results" in en.text and en.cookies.get("pv_lang") == "en"
        assert "Download original" in web.get(f"/documents/{doc_id}").text  # cookie kept
        assert "下载原件" in web.get(f"/documents/{doc_id}", params={"lang": "zh"}).text
        thumb = web.get(f"/documents/{doc_id}/pages/1.jpg", params={"w": 200})
        assert thumb.content[:2] == b"\xff\xd8"
        assert web.get(f"/documents/{doc_id}/pages/9.jpg").status_code == 404
        assert "DA-2024-LP-0001" in web.get(f"/clients/{CLIENT}").text
        assert web.get("/documents/99999").status_code == 404

    actions = audit_actions(s)
    assert ("search", "理赔", "api 127.0.0.1") in actions
    assert ("view", f"document:{doc_id}", "api 127.0.0.1") in actions
    assert ("download", f"document:{doc_id}", "api 127.0.0.1") in actions
    assert ("view", f"client:{CLIENT}", "web 127.0.0.1") in actions
    assert ("search", "理赔", "web 127.0.0.1") in actions


def test_web_refuses_a_non_loopback_address(instance: Callable[..., Settings]) -> None:
    s = instance(web={"host": "0.0.0.0"})
    with pytest.raises(ConfigError, match="127.0.0.1"):
        create_app(s)


@pytest.mark.slow
def test_cli_search_show_get(instance: Callable[..., Settings], tmp_path: Path) -> None:
    s = instance()
    doc_id, sha = ingest_claim(s, tmp_path / "scans")
    cfg = write_config(s, tmp_path / "papervault.toml")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli_app, ["--config", str(cfg), *args])
        assert result.exit_code == 0, result.output
        return result.output

    found = json.loads(run("search", "理赔", "--json"))
    assert [h["id"] for h in found["hits"]] == [doc_id]
    assert json.loads(run("search", "--client", CLIENT, "--json"))["total"] == 1
    assert json.loads(run("search", "理赔", "--client", "KH-2000-000001", "--json"))["total"] == 0
    assert f"#{doc_id}" in run("search", "ＫＨ－２０２４－０００１２３")
    assert json.loads(run("show", str(doc_id), "--json"))["client_id"] == CLIENT

    out = tmp_path / "out" / "claim.png"
    out.parent.mkdir()
    run("get", str(doc_id), "-o", str(out))
    assert hashlib.sha256(out.read_bytes()).hexdigest() == sha
    assert out.stat().st_mode & 0o777 == 0o600
    pdf = tmp_path / "out" / "claim.pdf"
    run("get", str(doc_id), "-o", str(pdf), "--searchable")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out.parent.iterdir()) == ["claim.pdf", "claim.png"]

    missing = runner.invoke(cli_app, ["--config", str(cfg), "show", "424242"])
    assert missing.exit_code != 0
    actions = [(a, t) for a, t, o in audit_actions(s) if o.startswith("cli ")]
    assert ("search", "理赔") in actions
    assert ("view", f"document:{doc_id}") in actions
    assert actions.count(("download", f"document:{doc_id}")) == 2


def test_serve_subprocess_refuses_a_non_loopback_address(instance: Callable[..., Settings],
                                                         tmp_path: Path) -> None:
    import subprocess
    import sys

    cfg = write_config(instance(), tmp_path / "papervault.toml")
    with cfg.open("a", encoding="utf-8") as f:
        f.write('[web]\nhost = "0.0.0.0"\n')
    exe = Path(sys.executable).with_name("papervault")
    done = subprocess.run([str(exe), "--config", str(cfg), "serve"], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin",
                                                      "PAPERVAULT_LANGUAGE": "en"})
    assert done.returncode == 78, done.stderr
    assert "127.0.0.1" in done.stderr and "0.0.0.0" in done.stderr
