"""Every queue state is visible (issue 11): ``worker --drain`` does not call a queue with
jobs waiting for a retry empty, ``status`` shows OCR failures with their reasons, and
``ocr retry [--failed]`` queues jobs again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlmodel import Session, select
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, Job, utcnow
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import open_runtime
from tests.conftest import write_config
from tests.factories import form_lines, write_form

pytestmark = pytest.mark.slow


def _state(s: Settings, doc_id: int) -> str:
    with Session(open_runtime(s, migrate=False).engine) as db:
        doc = db.get(Document, doc_id)
        assert doc is not None
        return doc.state


def test_drain_retry_and_status(instance: Callable[..., Settings], tmp_path: Path) -> None:
    """GIVEN a scan whose OCR job waits for a retry in an hour, and a page tesseract refuses
    WHEN the worker drains THEN it exits 75 saying one job waits and when; status names the
    refused page; ocr retry runs the waiting job now and --failed the failed one again."""
    s = instance()
    rt = open_runtime(s)
    cfg = write_config(s, tmp_path / "pv.toml")
    good = capture(write_form(s.inbox / "good.png", form_lines(), dpi=150), rt.capture_context())
    wide = Image.new("L", (40000, 80), 255)
    ImageDraw.Draw(wide).text((20, 30), "too wide to read", fill=0)
    wide.save(s.inbox / "wide.png")
    bad = capture(s.inbox / "wide.png", rt.capture_context())
    assert isinstance(good, Stored) and isinstance(bad, Stored)
    later = utcnow() + timedelta(hours=1)
    with session_scope(rt.engine) as db:
        job = db.exec(select(Job).where(Job.document_id == good.document_id)).one()
        job.not_before = later
        db.add(job)

    runner = CliRunner()
    res = runner.invoke(app, ["-c", str(cfg), "worker", "--drain"])
    assert res.exit_code == 75, res.output
    assert "1 个识别任务" in res.output and later.strftime("%Y-%m-%d %H:%M") in res.output
    assert _state(s, bad.document_id) == "ocr_failed"

    res = runner.invoke(app, ["-c", str(cfg), "status"])
    assert res.exit_code == 0, res.output
    assert "wide.png" in res.output and "第 1 页图像过大" in res.output
    assert "40000×80" in res.output

    res = runner.invoke(app, ["-c", str(cfg), "ocr", "retry"])
    assert res.exit_code == 0 and "已重新排队 1 个" in res.output, res.output
    res = runner.invoke(app, ["-c", str(cfg), "worker", "--drain"])
    assert res.exit_code == 0, res.output
    assert _state(s, good.document_id) == "indexed"

    res = runner.invoke(app, ["-c", str(cfg), "ocr", "retry", "--failed"])
    assert res.exit_code == 0 and "1 OCR jobs queued again" in res.output, res.output
    assert _state(s, bad.document_id) == "stored"
    res = runner.invoke(app, ["-c", str(cfg), "worker", "--drain"])
    assert res.exit_code == 0, res.output
    assert _state(s, bad.document_id) == "ocr_failed"  # nothing was fixed
