"""The auditors' tasks in the web, on both databases: a spot-check sample drawn and judged
page by page (a failure without a reason keeps the form), the audit trail in words with
"verify now" against a real object store, and registers uploaded with a preview first."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import AuditEntry, Client, Document, PaperRecord
from papervault.index.coverage.tables import QaCheck
from papervault.index.registers import upload
from papervault.index.registers.tables import import_paper_records
from papervault.index.web.app import create_app


def _csrf(web: TestClient, path: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', web.get(path).text)
    assert m is not None
    return m.group(1)


def _doc(n: int, record_no: str | None, pages: int = 1) -> Document:
    return Document(sha256=f"{n:064x}", size=1, original_name=f"scan{n}.pdf", media_type="pdf",
                    object_name=f"o/{n}", object_size=1, wrapped_key=b"k", key_id="k",
                    record_no=record_no, verify_state="verified", page_count=pages)


def test_spot_check_drawn_paged_and_judged(instance: Callable[..., Settings]) -> None:
    s = instance()
    with TestClient(create_app(s)) as web:
        with session_scope(web.app.state.engine) as db:  # type: ignore[attr-defined]
            import_paper_records(db, [
                PaperRecord(record_no=f"DA-2024-LP-{i:06d}", year=2024, expected_pages=3,
                            department="理赔部" if i < 4 else "核保部", title=f"投保单{i}")
                for i in range(10)])
            db.add_all([_doc(i, f"DA-2024-LP-{i:06d}", pages=3) for i in range(10)])
        empty = web.get("/qa").text
        assert 'id="qa-empty"' in empty and 'id="qa-draw"' in empty and "理赔部" in empty

        token = _csrf(web, "/qa")
        r = web.post("/qa/sample", data={"fraction": "0.5", "department": "理赔部",
                                         "csrf": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/qa"
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            drawn = [q.document_id for q in db.exec(select(QaCheck))]
            depts = {db.get(PaperRecord, db.get(Document, d).record_no).department  # type: ignore[union-attr,arg-type]
                     for d in drawn}
        assert len(drawn) == 2 and depts == {"理赔部"}  # ceil(50 % of 4), that department only
        listed = web.get("/qa").text
        assert "已抽取 2 份文件" in listed and all(f'id="qa-{d}"' in listed for d in drawn)
        bad = web.post("/qa/sample", data={"fraction": "0.9", "csrf": token},
                       follow_redirects=False)
        assert bad.status_code == 303 and "5% 到 50%" in web.get("/qa").text

        first, second = drawn
        page2 = web.get(f"/qa/{first}", params={"page": 2}).text
        assert "第 2 / 3 页" in page2 and f"/qa/{first}/pages/2.jpg?w=1200" in page2
        assert 'id="qa-prev"' in page2 and 'id="qa-next"' in page2 and "登记页数 3" in page2
        never = next(i for i in range(1, 11) if i not in drawn)
        assert web.get(f"/qa/{never}").status_code == 404  # auditors see sampled scans only

        refused = web.post(f"/qa/{first}", data={"verdict": "fail", "reason": "   ",
                                                 "page": "2", "csrf": token})
        assert refused.status_code == 422
        assert "请写明原因" in refused.text and "--reason" not in refused.text
        assert 'name="page" value="2"' in refused.text and "第 2 / 3 页" in refused.text
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            assert {q.result for q in db.exec(select(QaCheck))} == {"pending"}

        failed = web.post(f"/qa/{first}", data={"verdict": "fail", "reason": "第2页模糊",
                                                "csrf": token}, follow_redirects=False)
        passed = web.post(f"/qa/{second}", data={"verdict": "pass", "csrf": token},
                          follow_redirects=False)
        assert failed.status_code == passed.status_code == 303
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            results = {q.document_id: (q.result, q.reason) for q in db.exec(select(QaCheck))}
            actions = [a.action for a in db.exec(select(AuditEntry))]
        assert results == {first: ("fail", "第2页模糊"), second: ("pass", "")}
        assert {"qa.sample", "qa.fail", "qa.pass"} <= set(actions)
        cov = web.get("/coverage").text
        assert "合格率 50.0%（已判定 2 份，待抽检 0 份）" in cov


def test_audit_trail_in_words_and_verify_now(instance: Callable[..., Settings]) -> None:
    s = instance()
    with TestClient(create_app(s)) as web:
        with session_scope(web.app.state.engine) as db:  # type: ignore[attr-defined]
            db.add(_doc(1, None))
        web.get("/coverage")
        web.get("/documents/1")
        page = web.get("/audit").text
        assert "查看覆盖率" in page and 'data-code="coverage.view"' in page
        assert '<a href="/documents/1">文档 #1</a>' in page
        assert 'id="chain-badge"' in page and "尚未校验" in page
        english = web.get("/audit", params={"lang": "en"}).text
        assert "Viewed coverage" in english and "Document #1" in english
        web.get("/audit", params={"lang": "zh"})

        token = _csrf(web, "/audit")
        r = web.post("/audit/verify", data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/audit"
        ok = web.get("/audit").text
        assert "审计链完整" in ok and "text-bg-success" in ok
        assert web.app.state.store.audit_checkpoint() is not None  # type: ignore[attr-defined]

        with session_scope(web.app.state.engine) as db:  # type: ignore[attr-defined]
            entry = db.get(AuditEntry, 2)
            assert entry is not None
            entry.actor = "mallory"  # an edit behind the chain's back
            db.add(entry)
        web.post("/audit/verify", data={"csrf": token})
        broken = web.get("/audit").text
        assert "text-bg-danger" in broken and 'id="chain-problems"' in broken
        assert re.search(r"<li class=\"pv-wrap\">[^<]*2", broken)

        with session_scope(web.app.state.engine) as db:  # type: ignore[attr-defined]
            for _ in range(120):
                db.add(AuditEntry(actor="x", action="view", target="document:1", prev_hash="",
                                  hash=""))
        many = web.get("/audit").text
        assert 'id="audit-pager"' in many and "第 1 / 2 页" in many
        assert "第 2 / 2 页" in web.get("/audit", params={"page": 2}).text


def test_registers_uploaded_with_a_preview_first(instance: Callable[..., Settings],
                                                 tmp_path: Path) -> None:
    s = instance(link={"record_patterns": [r"DA-\d{4}-[A-Z]{2,4}-\d{4,6}"]})
    bad = ("档号,年度,部门\nDA-2024-LP-000001,2024,理赔部\nDA-2016-AB-1,2016,理赔部\n"
           "DA-2024-LP-000001,2024,理赔部\n").encode("utf-8-sig")
    good = ("档号,客户编号,年度,部门\nDA-2024-LP-000001,KH-2024-000001,2024,理赔部\n"
            "DA-2024-LP-000002,,2024,核保部\n").encode("gb18030")
    with TestClient(create_app(s)) as web:
        token = _csrf(web, "/registers")
        r = web.post("/registers/preview", data={"kind": "paper", "csrf": token},
                     files={"file": ("纸质档案.csv", bad, "text/csv")})
        assert r.status_code == 422
        assert "第 3 行，“档号”列" in r.text and "第 4 行，“档号”列" in r.text
        assert 'id="reg-confirm"' not in r.text
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            assert db.exec(select(PaperRecord)).all() == []
        assert list(upload.staging_dir(s).iterdir()) == []  # nothing kept of a refused file

        r = web.post("/registers/preview", data={"kind": "paper", "csrf": token},
                     files={"file": ("纸质档案.csv", good, "text/csv")})
        assert r.status_code == 200 and "共 2 行" in r.text and "核保部" in r.text
        staged = re.search(r'name="token" value="([^"]+)"', r.text)
        assert staged is not None
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            assert db.exec(select(PaperRecord)).all() == []  # the preview wrote nothing
        r = web.post("/registers/confirm", data={"token": staged.group(1), "action": "confirm",
                                                 "csrf": token}, follow_redirects=False)
        assert r.status_code == 303
        assert "新增 2 条，更新 0 条" in web.get("/registers").text
        again = web.post("/registers/confirm", data={"token": staged.group(1),
                                                     "csrf": token})
        assert again.status_code == 400  # a preview is confirmed once

        # The same file again changes nothing, and says so (B18).
        r = web.post("/registers/preview", data={"kind": "paper", "csrf": token},
                     files={"file": ("纸质档案.csv", good, "text/csv")})
        t2 = re.search(r'name="token" value="([^"]+)"', r.text)
        assert t2 is not None
        r = web.post("/registers/confirm", data={"token": t2.group(1), "csrf": token})
        assert "新增 0 条，更新 0 条" in r.text

        clients = "client_id,name\nKH-2024-000009,李娜\n,无编号\n".encode()
        r = web.post("/registers/preview", data={"kind": "clients", "csrf": token},
                     files={"file": ("clients.csv", clients, "text/csv")})
        assert r.status_code == 422 and "第 3 行，“client_id”列：客户编号为空" in r.text
        r = web.post("/registers/preview", data={"kind": "clients", "csrf": token},
                     files={"file": ("clients.csv", clients.split(b"\n,")[0], "text/csv")})
        staged = re.search(r'name="token" value="([^"]+)"', r.text)
        assert r.status_code == 200 and staged is not None
        web.post("/registers/confirm", data={"token": staged.group(1), "csrf": token})
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            assert db.get(Client, "KH-2024-000009") is not None
            actions = [a.action for a in db.exec(select(AuditEntry))]
        assert actions.count("paper.import") == 2 and "clients.import" in actions
        r = web.post("/registers/preview", data={"kind": "paper", "csrf": token},
                     files={"file": ("notes.txt", b"x", "text/plain")})
        assert r.status_code == 400


def _xlsx(rows: list[list[object]]) -> bytes:
    """A register as the office's spreadsheet program saves it (openpyxl writes real XLSX)."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "纸质档案"
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_an_xlsx_register_is_previewed_with_its_line_errors_then_confirmed(
    instance: Callable[..., Settings],
) -> None:
    s = instance(link={"record_patterns": [r"DA-\d{4}-[A-Z]{2,4}-\d{4,6}"]})
    head = ["档号", "客户编号", "年度", "部门", "题名"]
    bad = _xlsx([head, ["DA-2024-LP-000001", "KH-2024-000001", 2024, "理赔部", "车险理赔卷"],
                 ["DA-2016-AB-1", None, 2016, "理赔部", "格式不对"],
                 ["DA-2024-LP-000003", None, "二〇二四", "核保部", "年度不是数字"]])
    good = _xlsx([head, ["DA-2024-LP-000001", "KH-2024-000001", 2024, "理赔部", "车险理赔卷"],
                  ["DA-2024-LP-000002", None, 2024, "核保部", "核保卷"]])
    with TestClient(create_app(s)) as web:
        token = _csrf(web, "/registers")
        r = web.post("/registers/preview", data={"kind": "paper", "csrf": token},
                     files={"file": ("纸质档案.xlsx", bad, XLSX)})
        assert r.status_code == 422, r.text
        assert "第 3 行，“档号”列：档号格式不符" in r.text
        assert "第 4 行，“年度”列：年度无效" in r.text
        assert "does not match" not in r.text
        assert 'id="reg-confirm"' not in r.text
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            assert db.exec(select(PaperRecord)).all() == []
        assert list(upload.staging_dir(s).iterdir()) == []

        r = web.post("/registers/preview", data={"kind": "paper", "csrf": token},
                     files={"file": ("纸质档案.xlsx", good, XLSX)})
        assert r.status_code == 200 and "共 2 行" in r.text
        assert "车险理赔卷" in r.text and "核保卷" in r.text
        staged = re.search(r'name="token" value="([^"]+)"', r.text)
        assert staged is not None
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            assert db.exec(select(PaperRecord)).all() == []  # the preview wrote nothing
        r = web.post("/registers/confirm", data={"token": staged.group(1), "action": "confirm",
                                                 "csrf": token})
        assert "新增 2 条，更新 0 条" in r.text
        with Session(web.app.state.engine) as db:  # type: ignore[attr-defined]
            rec = db.get(PaperRecord, "DA-2024-LP-000001")
            assert rec is not None and rec.client_id == "KH-2024-000001" and rec.year == 2024
            assert rec.title == "车险理赔卷"
