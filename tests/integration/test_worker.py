"""The OCR worker with real tesseract (chi_sim+eng) and the real S3 server."""

from __future__ import annotations

import contextlib
import io
import json
import resource
import threading
from collections.abc import Callable
from pathlib import Path

import pikepdf
import psutil
import pytest
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Client, Document, Job, Page
from papervault.index.registers.tables import import_clients
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import Runtime, open_runtime
from papervault.ingest.worker import Worker, clean_private_dir, make_pool
from papervault.storage.crypto import WrappedKey
from tests.factories import form_lines, write_form, write_multipage_pdf


def _drain(rt: Runtime) -> int:
    cfg = rt.worker_config()
    clean_private_dir(cfg.private_dir)
    n = 0
    with make_pool(cfg) as pool:
        w = Worker(rt.engine, rt.store, cfg, pool)
        while w.run_once():
            n += 1
    assert not any(cfg.private_dir.iterdir()), "plaintext left in the private folder"
    return n


def _register(rt: Runtime, *clients: tuple[str, str, str]) -> None:
    with session_scope(rt.engine) as s:
        import_clients(s, [{"client_id": c, "name": n, "policy_numbers": p}
                           for c, n, p in clients])


def _doc(rt: Runtime, doc_id: int) -> Document:
    with Session(rt.engine) as s:
        d = s.get(Document, doc_id)
        assert d is not None
        return d


@pytest.mark.slow
def test_chinese_scan_is_ocred_linked_and_searchable_pdf_stored(
    instance: Callable[..., Settings]
) -> None:
    s = instance()
    rt = open_runtime(s)
    _register(rt, ("KH-2024-000123", "张伟", "BD2024000123"), ("KH-2024-000999", "李娜", ""))
    out = capture(write_form(s.inbox / "理赔" / "claim.png", form_lines()), rt.capture_context())
    assert isinstance(out, Stored)
    assert _drain(rt) == 1
    doc = _doc(rt, out.document_id)
    assert doc.state == "indexed"
    assert "理赔申请书" in doc.text and "KH-2024-000123" in doc.text
    assert (doc.link_state, doc.client_id) == ("linked", "KH-2024-000123")
    with Session(rt.engine) as db:
        page = db.exec(select(Page).where(Page.document_id == doc.id)).one()
        assert page.source == "ocr" and page.confidence is not None and page.confidence > 60
        assert page.dpi == 300
    # The searchable PDF is stored encrypted beside the untouched original.
    assert doc.searchable_object_name and doc.searchable_wrapped_key
    pdf = b"".join(rt.store.iter_plaintext(
        doc.searchable_object_name, WrappedKey(doc.searchable_wrapped_key, doc.key_id)))
    assert pdf.startswith(b"%PDF")
    # Its text is tesseract's invisible GlyphLessFont layer (the file may keep its objects in
    # compressed streams, so look inside rather than at the raw bytes).
    with pikepdf.open(io.BytesIO(pdf)) as searchable:
        fonts = {str(f.get("/BaseFont", "")) for p in searchable.pages
                 for f in p.Resources.get("/Font", {}).values()}
    assert any("GlyphLessFont" in f for f in fonts), fonts


@pytest.mark.slow
def test_two_registered_clients_in_one_scan_are_left_for_review(
    instance: Callable[..., Settings]
) -> None:
    s = instance()
    rt = open_runtime(s)
    _register(rt, ("KH-2024-000123", "张伟", ""), ("KH-2024-000456", "王芳", ""))
    lines = form_lines(extra="共同被保险人客户编号：KH-2024-000456")
    out = capture(write_form(s.inbox / "joint.png", lines), rt.capture_context())
    assert isinstance(out, Stored)
    _drain(rt)
    doc = _doc(rt, out.document_id)
    assert doc.link_state == "ambiguous" and doc.client_id is None
    assert "KH-2024-000123" in doc.candidates and "KH-2024-000456" in doc.candidates


@pytest.mark.slow
def test_quality_thresholds_come_from_the_settings(instance: Callable[..., Settings]) -> None:
    """GIVEN an office that sets ocr.min_dpi_warning = 250 (not the default 300)
    WHEN a 200-dpi and a 300-dpi scan are OCR'd
    THEN the 200-dpi page is warned about against 250, and the 300-dpi page is not."""
    s = instance(ocr={"min_dpi_warning": 250, "low_confidence_warning": 0.0})
    rt = open_runtime(s)
    cfg = rt.worker_config()
    assert (cfg.min_dpi_warning, cfg.low_confidence_warning) == (250, 0.0)
    low = capture(write_form(s.inbox / "low.png", form_lines(), dpi=200), rt.capture_context())
    ok = capture(write_form(s.inbox / "ok.png", form_lines(client_id="KH-2024-000456")),
                 rt.capture_context())
    assert isinstance(low, Stored) and isinstance(ok, Stored)
    assert _drain(rt) == 2
    low_dpi = [w for w in json.loads(_doc(rt, low.document_id).warnings)
               if w["code"] == "low_dpi"]
    assert low_dpi == [{"page": 1, "code": "low_dpi", "value": 200, "limit": 250}]
    assert "low_dpi" not in {w["code"] for w in json.loads(_doc(rt, ok.document_id).warnings)}


@pytest.mark.slow
def test_the_low_confidence_threshold_comes_from_the_settings(
    instance: Callable[..., Settings],
) -> None:
    """An office that wants every page under 100% confidence looked at gets each one flagged
    (the worker once used a fixed 40 whatever the setting said)."""
    s = instance(ocr={"low_confidence_warning": 100.0})
    rt = open_runtime(s)
    out = capture(write_form(s.inbox / "claim.png", form_lines()), rt.capture_context())
    assert isinstance(out, Stored)
    assert _drain(rt) == 1
    flagged = [w for w in json.loads(_doc(rt, out.document_id).warnings)
               if w["code"] == "low_confidence"]
    assert len(flagged) == 1 and 40 < float(flagged[0]["value"]) < 100  # type: ignore[arg-type]


@pytest.mark.slow
def test_text_layer_pages_are_not_ocred_again(instance: Callable[..., Settings],
                                             copy_sample) -> None:  # type: ignore[no-untyped-def]
    s = instance()
    rt = open_runtime(s)
    src = copy_sample("pdfminer.six/samples/contrib/issue_566_test_2.pdf", s.inbox)
    out = capture(src, rt.capture_context())
    assert isinstance(out, Stored)
    _drain(rt)
    doc = _doc(rt, out.document_id)
    assert "甲方：中国饮料有限公司（盖章）" in doc.text
    with Session(rt.engine) as db:
        sources = {p.source for p in db.exec(select(Page).where(Page.document_id == doc.id))}
    assert sources == {"text_layer"}


@pytest.mark.slow
# Pages and a growing file, not the index, are under test: one database is enough.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_fifty_page_pdf_is_processed_a_page_at_a_time(
    instance: Callable[..., Settings], tmp_path: Path
) -> None:
    """GIVEN a 50-page scanned PDF WHEN the worker runs THEN every page is OCR'd and
    neither the worker nor any page process held the whole document's images."""
    s = instance(ocr={"dpi": 150})
    rt = open_runtime(s)
    pages = [[f"第 {i} 页 理赔材料", f"Page {i} KH-2024-000123"] for i in range(1, 51)]
    src = write_multipage_pdf(s.inbox / "fifty.pdf", pages, dpi=100)
    out = capture(src, rt.capture_context())
    assert isinstance(out, Stored)
    before_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Sample this drain's own page processes and their tesseracts: RUSAGE_CHILDREN would also
    # count every child earlier tests waited for (a browser, CLI subprocesses).
    others = {c.pid for c in psutil.Process().children(recursive=True)}
    peaks: dict[int, int] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            for c in psutil.Process().children(recursive=True):
                if c.pid in others:
                    continue
                with contextlib.suppress(psutil.Error):
                    peaks[c.pid] = max(peaks.get(c.pid, 0), c.memory_info().rss // 1024)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _drain(rt)
    finally:
        stop.set()
        sampler.join()
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_self
    assert len(peaks) >= 2, "the page processes were not seen"
    child_peak_kb = max(peaks.values())
    # 50 pages at 150 dpi are ~300 MB as RGB bitmaps; one page is ~6 MB.
    assert grown_kb < 150_000, f"worker grew by {grown_kb} kB"
    assert child_peak_kb < 400_000, f"a page process peaked at {child_peak_kb} kB"
    doc = _doc(rt, out.document_id)
    with Session(rt.engine) as db:
        texts = [p.text for p in db.exec(select(Page).where(Page.document_id == doc.id)
                                         .order_by(Page.page_no))]
        job = db.exec(select(Job).where(Job.document_id == doc.id)).one()
    assert len(texts) == 50 and job.state == "done"
    assert "50" in texts[49]
    searchable = tmp_path / "s.pdf"
    assert doc.searchable_object_name and doc.searchable_wrapped_key
    rt.store.download(doc.searchable_object_name,
                      WrappedKey(doc.searchable_wrapped_key, doc.key_id), searchable)
    with pikepdf.open(searchable) as pdf:
        assert len(pdf.pages) == 50


def test_clients_register_import_updates_by_id(instance: Callable[..., Settings]) -> None:
    s = instance()
    rt = open_runtime(s)
    _register(rt, ("kh-2024-000123", "张伟", "BD1;BD2"))
    _register(rt, ("KH-2024-000123", "张伟（更新）", "BD3"))
    with Session(rt.engine) as db:
        c = db.get(Client, "KH-2024-000123")
        assert c is not None and c.name == "张伟（更新）" and c.policy_numbers == "BD3"
