"""Spot checks (DA/T 31-2017): samples of at least 5 %, verdicts, and failures counting
against coverage until a re-scan replaces them — through the CLI, on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from papervault.config.errors import BadInput
from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, PaperRecord
from papervault.index.coverage import qa
from papervault.index.coverage import report as coverage
from papervault.index.coverage.tables import QaCheck
from papervault.index.registers.tables import import_paper_records
from papervault.ingest.cli import app
from papervault.ingest.runtime import open_runtime
from tests.conftest import write_config


def _doc(n: int, record_no: str | None) -> Document:
    return Document(sha256=f"{n:064x}", size=1, original_name=f"scan{n}.pdf", media_type="pdf",
                    object_name=f"o/{n}", object_size=1, wrapped_key=b"k", key_id="k",
                    record_no=record_no, verify_state="verified")


def test_sample_mark_report_and_coverage(instance: Callable[..., Settings],
                                         tmp_path: Path) -> None:
    s = instance()
    rt = open_runtime(s)
    cfg = write_config(s, tmp_path / "pv.toml")
    with session_scope(rt.engine) as db:
        import_paper_records(db, [PaperRecord(record_no=f"DA-2024-LP-{i:06d}", shelf=f"A-{i}")
                                  for i in range(30)])
        db.add_all([_doc(i, f"DA-2024-LP-{i:06d}") for i in range(30)])
    runner = CliRunner()
    res = runner.invoke(app, ["-c", str(cfg), "qa", "sample", "--json"])
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    assert first["population"] == 30 and len(first["documents"]) == 2  # ceil(5 % of 30)
    res = runner.invoke(app, ["-c", str(cfg), "qa", "sample", "--fraction", "0.5", "--json"])
    second = json.loads(res.stdout)
    assert second["population"] == 28 and len(second["documents"]) == 14
    assert not set(first["documents"]) & set(second["documents"])  # never drawn twice
    res = runner.invoke(app, ["-c", str(cfg), "qa", "sample", "--fraction", "0.01"])
    assert isinstance(res.exception, BadInput)  # below the 5 % the standard asks for

    bad, good = first["documents"]
    res = runner.invoke(app, ["-c", str(cfg), "qa", "mark", str(bad), "fail"])
    assert isinstance(res.exception, BadInput)  # a failure needs a reason
    assert runner.invoke(app, ["-c", str(cfg), "qa", "mark", str(bad), "fail", "--reason",
                               "第 3 页缺失 / page 3 missing"]).exit_code == 0
    assert runner.invoke(app, ["-c", str(cfg), "qa", "mark", str(good), "pass"]).exit_code == 0
    report = json.loads(runner.invoke(app, ["-c", str(cfg), "qa", "report", "--json"]).stdout)
    assert (report["passed"], report["failed"], report["pending"], report["pass_rate"]) == (
        1, 1, 14, 50.0)
    assert report["failures"][0]["reason"].startswith("第 3 页缺失")

    with session_scope(rt.engine) as db:
        rep = coverage.report(db)
        (flag,) = coverage.flagged(db)
        bad_doc = db.get(Document, bad)
        assert bad_doc is not None
    assert (rep.totals.verified, rep.totals.failed) == (29, 1)
    assert flag.record_no == bad_doc.record_no and "page 3 missing" in flag.reason
    # The re-scan arrives: the record is covered again, the old failure stays on file.
    with session_scope(rt.engine) as db:
        db.add(_doc(100, bad_doc.record_no))
    with session_scope(rt.engine) as db:
        assert coverage.report(db).totals.verified == 30
    with Session(rt.engine) as db:
        assert db.exec(select(QaCheck).where(QaCheck.result == "fail")).one().document_id == bad


def test_mark_unknown_document(engine: object) -> None:
    from sqlalchemy.engine import Engine

    from papervault.config.errors import NotFound

    assert isinstance(engine, Engine)
    with session_scope(engine) as db, pytest.raises(NotFound):
        qa.mark(db, 999, "pass", "", "me")
