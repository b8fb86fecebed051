"""Backup coverage on both databases: a hand-counted fixture, trigger upkeep, the CLI
(import, verify, coverage in JSON/CSV, thresholds), and a bit-flipped stored object."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from papervault.config.errors import PapervaultError
from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import AuditEntry, Document, PaperRecord, Verification
from papervault.index.coverage import qa
from papervault.index.coverage import report as coverage
from papervault.index.coverage.report import FlagFilter
from papervault.index.registers.tables import import_paper_records
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import open_runtime
from tests.conftest import write_config
from tests.factories import form_lines, write_form

REGISTER = [  # 档号, department, year — and (below) what the hand count says about each
    ("DA-2024-LP-000001", "理赔部", 2024),  # verified document            → verified
    ("DA-2024-LP-000002", "理赔部", 2024),  # unverified document          → stored
    ("DA-2023-LP-000003", "理赔部", 2023),  # nothing scanned              → none
    ("DA-2023-HB-000004", "核保部", 2023),  # failed document              → failed
    ("DA-2023-HB-000005", "核保部", 2023),  # failed, then a good re-scan  → verified
    ("DA-2024-HB-000006", "核保部", 2024),  # verified + unverified part   → stored
    ("DA-2024-HB-000007", "核保部", 2024),  # verified but spot check fail → failed
]


def _doc(n: int, record_no: str | None, verify_state: str) -> Document:
    return Document(sha256=f"{n:064x}", size=1, original_name=f"scan{n}.pdf",
                    media_type="pdf", object_name=f"o/{n}", object_size=1, wrapped_key=b"k",
                    key_id="k", record_no=record_no, verify_state=verify_state)


def _fixture(engine: Engine) -> None:
    with session_scope(engine) as s:
        import_paper_records(s, [PaperRecord(record_no=r, department=d, year=y, shelf=f"S{i}")
                                 for i, (r, d, y) in enumerate(REGISTER)])
        docs = [_doc(1, "DA-2024-LP-000001", "verified"),
                _doc(2, "DA-2024-LP-000002", "unverified"),
                _doc(4, "DA-2023-HB-000004", "failed"),
                _doc(5, "DA-2023-HB-000005", "failed"),
                _doc(6, "DA-2023-HB-000005", "verified"),
                _doc(7, "DA-2024-HB-000006", "verified"),
                _doc(8, "DA-2024-HB-000006", "unverified"),
                _doc(9, "DA-2024-HB-000007", "verified"),
                _doc(10, "DA-1999-XX-000001", "verified"),  # not in the register: ignored
                _doc(11, None, "verified")]
        s.add_all(docs)
        s.flush()
        qa.mark(s, docs[7].id, "fail", "第 2 页模糊 / page 2 blurred", "auditor")  # type: ignore[arg-type]


def test_hand_counted_fixture(engine: Engine) -> None:
    _fixture(engine)
    with session_scope(engine) as s:
        rep = coverage.report(s)
        flagged = {f.record_no: f for f in coverage.flagged(s)}
    assert rep.totals.as_dict() == {"total": 7, "none": 1, "stored": 2, "verified": 2,
                                    "failed": 2, "review": 0, "percent": 28.57}
    assert rep.by_department["理赔部"].as_dict() == {"total": 3, "none": 1, "stored": 1,
                                                   "verified": 1, "failed": 0, "review": 0,
                                                   "percent": 33.33}
    assert rep.by_department["核保部"].as_dict() == {"total": 4, "none": 0, "stored": 1,
                                                   "verified": 1, "failed": 2, "review": 0,
                                                   "percent": 25.0}
    assert (rep.by_year["2024"].verified, rep.by_year["2024"].stored,
            rep.by_year["2024"].failed, rep.by_year["2024"].total) == (1, 2, 1, 4)
    assert (rep.by_year["2023"].none, rep.by_year["2023"].failed,
            rep.by_year["2023"].verified) == (1, 1, 1)
    assert {n: f.state for n, f in flagged.items()} == {
        "DA-2024-LP-000002": "stored", "DA-2023-LP-000003": "none",
        "DA-2023-HB-000004": "failed", "DA-2024-HB-000006": "stored",
        "DA-2024-HB-000007": "failed"}
    assert "page 2 blurred" in flagged["DA-2024-HB-000007"].reason
    assert flagged["DA-2023-LP-000003"].shelf == "S2"


def test_changes_reach_the_report_through_the_triggers(engine: Engine) -> None:
    _fixture(engine)
    with session_scope(engine) as s:
        coverage.report(s)
    with session_scope(engine) as s:
        for d in s.exec(select(Document).where(col(Document.record_no) == "DA-2024-LP-000002")):
            d.verify_state = "verified"
            s.add(d)
        s.add(_doc(20, "DA-2023-LP-000003", "unverified"))  # a first scan arrives
        s.add(_doc(21, "DA-2024-HB-000007", "verified"))    # the re-scan of the failed one
        rec = s.get(PaperRecord, "DA-2023-HB-000004")
        assert rec is not None
        rec.department = "客服部"
        s.add(rec)
    with session_scope(engine) as s:
        rep = coverage.report(s)
        only_failed = coverage.flagged(s, FlagFilter(state="failed"))
    assert rep.totals.as_dict() == {"total": 7, "none": 0, "stored": 2, "verified": 4,
                                    "failed": 1, "review": 0, "percent": 57.14}
    assert rep.by_department["客服部"].failed == 1
    assert [f.record_no for f in only_failed] == ["DA-2023-HB-000004"]


def _code(res: Result) -> int:
    """The process exit code ``papervault`` would give (main() maps our errors)."""
    if isinstance(res.exception, PapervaultError):
        return res.exception.exit_code
    return res.exit_code


def _flip(store: object, name: str) -> None:
    from papervault.storage.objects import ObjectStore

    assert isinstance(store, ObjectStore)
    raw = bytearray(store.raw_bytes(name))
    raw[len(raw) // 2] ^= 0x01
    store.client.put_object(bucket_name=store.bucket, object_name=name,
                            data=io.BytesIO(bytes(raw)), length=len(raw))


def test_cli_import_verify_and_a_bit_flipped_object(
    instance: Callable[..., Settings], tmp_path: Path
) -> None:
    """GIVEN three paper records, each with a stored scan, and one stored object bit-flipped
    WHEN verify runs THEN it fails that document, and coverage flags its record."""
    s = instance()
    rt = open_runtime(s)
    cfg = write_config(s, tmp_path / "pv.toml")
    register = tmp_path / "register.csv"
    register.write_bytes(("档号,客户编号,题名,部门,年度,库房,架号,盒号\n"
                          "DA-2024-LP-000001,KH-2024-000001,张伟,理赔部,2024,3号库房,A-1,001\n"
                          "DA-2024-LP-000002,KH-2024-000002,李娜,理赔部,2024,3号库房,A-1,002\n"
                          "DA-2024-LP-000003,KH-2024-000003,王芳,核保部,2024,3号库房,A-2,003\n"
                          "DA-2024-LP-000004,KH-2024-000004,赵磊,核保部,2024,3号库房,A-2,004\n"
                          ).encode("gbk"))
    runner = CliRunner()
    res = runner.invoke(app, ["-c", str(cfg), "paper", "import", str(register)])
    assert res.exit_code == 0, res.output
    docs = []
    for i in (1, 2, 3):
        out = capture(write_form(s.inbox / f"f{i}.png", form_lines(name=f"客户{i}"), dpi=60),
                      rt.capture_context())
        assert isinstance(out, Stored)
        docs.append(out.document_id)
    with session_scope(rt.engine) as db:
        for i, doc_id in enumerate(docs, start=1):
            d = db.get(Document, doc_id)
            assert d is not None and d.verify_state == "verified"  # checked at capture
            d.record_no = f"DA-2024-LP-00000{i}"
            db.add(d)
        victim = db.get(Document, docs[1])
        assert victim is not None
    _flip(rt.store, victim.object_name)

    res = runner.invoke(app, ["-c", str(cfg), "coverage", "--json"])
    assert res.exit_code == 0, res.output
    before = json.loads(res.stdout)
    assert before["totals"]["verified"] == 3 and before["totals"]["none"] == 1

    res = runner.invoke(app, ["-c", str(cfg), "verify", "--json"])
    assert _code(res) == 4, res.output
    run = json.loads(res.stdout)
    assert (run["checked"], run["ok"], run["failed_ids"]) == (3, 2, [docs[1]])
    with Session(rt.engine) as db:
        d = db.get(Document, docs[1])
        assert d is not None and d.verify_state == "failed" and d.verified_at is not None
        bad = db.exec(select(Verification).where(col(Verification.document_id) == docs[1],
                                                 col(Verification.ok).is_(False))).one()
        assert "authentication failed" in bad.detail or "checksum" in bad.detail
        actions = [a.action for a in db.exec(select(AuditEntry))]
        assert {"paper.import", "verify.run", "coverage.report"} <= set(actions)

    res = runner.invoke(app, ["-c", str(cfg), "coverage", "--json"])
    after = json.loads(res.stdout)
    assert after["totals"] == {"total": 4, "none": 1, "stored": 0, "verified": 2,
                               "failed": 1, "review": 0, "percent": 50.0}
    failed = [f for f in after["flagged"] if f["state"] == "failed"]
    assert [(f["record_no"], f["location"]) for f in failed] == [
        ("DA-2024-LP-000002", "3号库房 / A-1 / 002")]

    out_csv = tmp_path / "flagged.csv"
    res = runner.invoke(app, ["-c", str(cfg), "coverage", "--csv", "-o", str(out_csv),
                              "--fail-under", "60"])
    assert _code(res) == 5
    raw = out_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("record_no,state") and len(lines) == 3
    assert any("李娜" in ln and "failed" in ln for ln in lines)
    res = runner.invoke(app, ["-c", str(cfg), "coverage", "--fail-under", "50"])
    assert res.exit_code == 0, res.output
    # coverage.fail_under in the settings is the default threshold; the option overrides it.
    env = {"PAPERVAULT_COVERAGE__FAIL_UNDER": "60"}
    assert _code(runner.invoke(app, ["-c", str(cfg), "coverage"], env=env)) == 5
    res = runner.invoke(app, ["-c", str(cfg), "coverage", "--fail-under", "50"], env=env)
    assert res.exit_code == 0, res.output

    # A missing object is a failure too; the sample/age options select what is checked.
    rt.store.delete(victim.object_name)
    res = runner.invoke(app, ["-c", str(cfg), "verify", "--older-than", "1", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["checked"] == 0


def test_cli_import_rejects_a_bad_file_whole(
    instance: Callable[..., Settings], tmp_path: Path
) -> None:
    s = instance()
    cfg = write_config(s, tmp_path / "pv.toml")
    f = tmp_path / "register.csv"
    f.write_text("档号,年度\nDA-2024-LP-000001,2024\nDA-2024-LP-000001,2024\n"
                 "DA-2024-LP-000002,二〇二四\n", encoding="utf-8-sig")
    runner = CliRunner()
    res = runner.invoke(app, ["-c", str(cfg), "paper", "import", str(f)])
    assert res.exit_code != 0
    rt = open_runtime(s)
    with Session(rt.engine) as db:
        assert db.exec(select(PaperRecord)).all() == []
    # Fixed file: imported; re-imported with a change: updated by 档号.
    f.write_text("档号,年度,部门\nDA-2024-LP-000001,2024,理赔部\n", encoding="utf-8-sig")
    assert runner.invoke(app, ["-c", str(cfg), "paper", "import", str(f)]).exit_code == 0
    f.write_text("档号,年度,部门\nDA-2024-LP-000001,2024,核保部\nDA-2024-LP-000002,2024,核保部\n",
                 encoding="utf-8-sig")
    res = runner.invoke(app, ["-c", str(cfg), "paper", "import", str(f)])
    assert res.exit_code == 0 and "1" in res.output
    with Session(rt.engine) as db:
        recs = db.exec(select(PaperRecord).order_by(col(PaperRecord.record_no))).all()
        assert [(r.record_no, r.department) for r in recs] == [
            ("DA-2024-LP-000001", "核保部"), ("DA-2024-LP-000002", "核保部")]
