"""One bad page never stops the archive (issue 11): real tesseract, poppler and S3.

A batch through the daemon's capture and worker threads mixes good scans with a page
tesseract refuses, a page poppler cannot render and a page that SIGKILLs its own process.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlmodel import Session, col, select

from papervault.config.settings import Settings
from papervault.index.accounts.scope import EVERYTHING
from papervault.index.catalog.models import Document, Job, Page
from papervault.index.web.app import create_app
from papervault.ingest.daemon import Capturer
from papervault.ingest.runtime import Runtime, open_runtime
from papervault.ingest.service import _worker_loop, gather_status, retry_ocr
from tests.conftest import wait_until
from tests.factories import form_lines, write_form

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

# What no reason a clerk reads may contain: plumbing, tracebacks, exception class names.
PLUMBING = re.compile(r"pool|traceback|process|\b[A-Z]\w*(Error|Exception)\b|Broken", re.I)


def text_pdf(path: Path, pages: list[tuple[str, tuple[float, float]]]) -> Path:
    """A PDF whose pages carry real text (a text layer) of the given size in points."""
    with pikepdf.new() as pdf:
        font = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica))
        for words, size in pages:
            page = pdf.add_blank_page(page_size=size)
            page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
            page.obj.Contents = pdf.make_stream(
                f"BT /F1 14 Tf 72 {size[1] - 100} Td ({words}) Tj ET".encode())
        pdf.save(path)
    return path


def wide_png(path: Path) -> Path:
    """40000 px wide: tesseract answers "Image too large" (its limit is 32767)."""
    img = Image.new("L", (40000, 80), 255)
    ImageDraw.Draw(img).text((20, 30), "a page no OCR engine will take", fill=0)
    img.save(path)
    return path


@pytest.fixture
def daemon(instance: Callable[..., Settings]) -> Iterator[tuple[Runtime, str]]:
    """Capture and two OCR worker threads, as ``up`` runs them; the page processes are
    told to kill themselves on a page carrying ``token``."""
    # A high pixel limit lets the 14400 pt page reach pdftoppm (which cannot render it).
    s = instance(limits={"max_pixels": 5_000_000_000})
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    token = "ZAP" + secrets.token_hex(4).upper()
    cfg = replace(rt.worker_config(), crash_token=token)
    cfg.private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stop = threading.Event()
    capturer = Capturer(rt.watch_config(), rt.capture_context())
    threads = [threading.Thread(target=capturer.run),
               threading.Thread(target=_worker_loop, args=(rt, stop, False, cfg))]
    for t in threads:
        t.start()
    try:
        yield rt, token
    finally:
        stop.set()
        capturer.stop()
        for t in threads:
            t.join(timeout=120)


def _docs(rt: Runtime) -> dict[str, Document]:
    with Session(rt.engine) as db:
        return {d.original_name: d for d in db.exec(select(Document))}


def _pages(rt: Runtime, doc_id: int | None) -> list[Page]:
    with Session(rt.engine) as db:
        return list(db.exec(select(Page).where(Page.document_id == doc_id)
                            .order_by(col(Page.page_no))))


def _settled(rt: Runtime, names: set[str]) -> bool:
    docs = _docs(rt)
    return names <= docs.keys() and all(
        docs[n].state in ("indexed", "partly_read", "ocr_failed") for n in names)


def test_bad_pages_fail_alone_and_the_daemon_keeps_reading(
        daemon: tuple[Runtime, str], fault_report) -> None:  # type: ignore[no-untyped-def]
    """GIVEN the daemon running
    WHEN one batch holds two good scans, a page tesseract refuses, a page poppler cannot
         render (beside a good page) and a page that kills its process (beside a good one)
    THEN the good scans and good pages are indexed, each bad page is failed with its own
         reason in Chinese and English, and a scan dropped afterwards is indexed too."""
    rt, token = daemon
    inbox = rt.settings.inbox / "batch"
    inbox.mkdir(parents=True)
    write_form(inbox / "good1.png", form_lines(client_id="KH-2024-000111"))
    write_form(inbox / "good2.png", form_lines(client_id="KH-2024-000222"))
    wide_png(inbox / "wide.png")
    text_pdf(inbox / "huge.pdf", [("Claim form page one, policy BD2024000333", (595, 842)),
                                  ("x", (14400, 14400))])
    text_pdf(inbox / "kill.pdf", [("Claim form page one, policy BD2024000444", (595, 842)),
                                  (f"Page that kills its reader {token}", (595, 842))])
    batch = {"good1.png", "good2.png", "wide.png", "huge.pdf", "kill.pdf"}
    wait_until(lambda: _settled(rt, batch), timeout=300, interval=0.5)

    write_form(rt.settings.inbox / "after.png", form_lines(client_id="KH-2024-000555"))
    wait_until(lambda: _settled(rt, {"after.png"}), timeout=120, interval=0.5)
    docs = _docs(rt)

    for name, client in (("good1.png", "KH-2024-000111"), ("good2.png", "KH-2024-000222"),
                         ("after.png", "KH-2024-000555")):
        assert docs[name].state == "indexed", name
        assert client in docs[name].text and "理赔" in docs[name].text

    wide = _pages(rt, docs["wide.png"].id)
    assert docs["wide.png"].state == "ocr_failed"
    assert [p.source for p in wide] == ["failed"]
    assert "图像过大" in (wide[0].failure or "") and "too large" in (wide[0].failure or "")

    for name, why in (("huge.pdf", "cannot be turned into an image"),
                      ("kill.pdf", "stopped text recognition twice")):
        pages = _pages(rt, docs[name].id)
        assert docs[name].state == "partly_read", name
        assert [p.source for p in pages] == ["text_layer", "failed"], name
        assert "Claim form page one" in pages[0].text
        assert why in (pages[1].failure or ""), pages[1].failure
        assert "第 2 页" in (pages[1].failure or "")
        assert docs[name].searchable_object_name, "the readable pages are still searchable"

    with Session(rt.engine) as db:
        jobs = {j.document_id: j for j in db.exec(select(Job))}
        reasons = [p.failure for p in db.exec(select(Page)) if p.failure]
        reasons += [j.last_error for j in jobs.values() if j.last_error]
    assert jobs[docs["wide.png"].id].state == "failed"  # type: ignore[index]
    assert all(j.attempts == 1 for j in jobs.values()), "a crash costs no attempt"
    assert len(reasons) >= 4
    for reason in reasons:
        assert not PLUMBING.search(reason or ""), reason
    _status_shows_the_failures(rt)
    _retry_reads_them_again(rt)
    fault_report(fault="bad pages in one batch", files=len(batch) + 1, lost=0, twice=0,
                 quarantined=0, failed_with_reason=len({r for r in reasons}))


def _status_shows_the_failures(rt: Runtime) -> None:
    failures = {f["file"]: f for f in gather_status(rt.settings, EVERYTHING)["ocr_failures"]}
    assert set(failures) == {"wide.png", "huge.pdf", "kill.pdf"}
    assert failures["kill.pdf"]["state"] == "partly_read"
    assert any("第 2 页" in r for r in failures["kill.pdf"]["reasons"])
    with TestClient(create_app(rt.settings)) as web:
        page = web.get("/status")
        doc = web.get(f"/documents/{failures['kill.pdf']['document']}")
    assert doc.status_code == 200 and 'class="page-failure"' in doc.text
    assert "两次导致文字识别意外中断" in doc.text and "Claim form page one" in doc.text
    assert page.status_code == 200
    assert 'id="ocr-failures"' in page.text and "huge.pdf" in page.text
    assert "部分识别" in page.text and "无法转换为图像" in page.text


def _retry_reads_them_again(rt: Runtime) -> None:
    """After a fix, ``ocr retry --failed`` queues the failed and the partly read documents;
    here nothing was fixed, so they end as before, with no attempt lost to the crash."""
    assert retry_ocr(rt.settings, failed=True) == 3
    wait_until(lambda: _settled(rt, {"wide.png", "huge.pdf", "kill.pdf"}), timeout=120,
               interval=0.5)
    states = {n: d.state for n, d in _docs(rt).items()}
    assert (states["wide.png"], states["huge.pdf"], states["kill.pdf"]) == (
        "ocr_failed", "partly_read", "partly_read")
