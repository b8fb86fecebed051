"""Cover sheets end to end: printed to PDF, rasterised like a scan, placed in a batch with
generated forms, captured and OCR'd by the real pipeline → split and linked per record."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from rich.progress import Progress
from sqlmodel import Session, col, select

from papervault.config.settings import Settings
from papervault.index.accounts.scope import EVERYTHING
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, Page, PaperRecord
from papervault.index.coverage import report as coverage
from papervault.index.coverage.coversheets import decode, encode, render
from papervault.index.registers.tables import import_paper_records
from papervault.index.search.query import SearchQuery, search
from papervault.ingest.runtime import open_runtime
from papervault.ingest.service import ingest_paths
from papervault.ingest.stages.barcodes import codes_in_image
from papervault.ingest.stages.split import plan
from papervault.storage.crypto import WrappedKey
from tests.factories import form_lines, render_page


def _records() -> list[PaperRecord]:
    return [
        PaperRecord(record_no="DA-2024-LP-000101", client_id="KH-2024-000101",
                    title="张伟 理赔案卷",
                    department="理赔部", year=2024, room="3号库房", shelf="A-12", box="007",
                    expected_pages=2),
        PaperRecord(record_no="DA-2024-LP-000102", client_id="KH-2024-000102",
                    title="李娜 理赔案卷",
                    department="理赔部", year=2024, room="3号库房", shelf="A-12", box="008",
                    expected_pages=3),
        PaperRecord(record_no="DA-2024-LP-000103", client_id="KH-2024-000103",
                    title="王芳 投保资料",
                    department="核保部", year=2024, shelf="B-01"),
    ]


def test_payload_is_ours_only() -> None:
    assert decode(encode("DA-2024-LP-000101", "KH-2024-000101")) is not None
    assert decode(encode("DA-2024-LP-000101", None)).client_id is None  # type: ignore[union-attr]
    assert decode("https://example.com/policy/123") is None
    assert decode("PV2|DA-2024-LP-000101|") is None


def test_plan_parts_and_warnings() -> None:
    a, b, c = (decode(encode(f"DA-2024-LP-00010{i}", None)) for i in (1, 2, 3))
    assert a and b and c
    parts, warnings = plan(8, {2: a, 5: b, 6: c})
    assert [(p.payload.record_no, p.pages) for p in parts] == [
        ("DA-2024-LP-000101", (3, 4)), ("DA-2024-LP-000103", (7, 8))]
    assert {w["code"] for w in warnings} == {"before_first_sheet", "empty_part"}


def test_codes_are_read_from_the_image_tesseract_reads(tmp_path: Path) -> None:
    """GIVEN a cover sheet scanned at 300 dpi as greyscale JPEG and as G4 TIFF (the images
    a page task hands tesseract) WHEN its codes are read from that very file THEN the
    record's payload is found (no second render of the page)."""
    src = tmp_path / "sheet.pdf"
    src.write_bytes(render(_records()[:1]))
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-jpeg", "-singlefile", str(src),
                    str(tmp_path / "s")], check=True)
    jpeg, g4 = tmp_path / "s.jpg", tmp_path / "s.tif"
    with Image.open(jpeg) as img:
        bilevel = img.point(lambda v: 255 if v > 128 else 0).convert("1", dither=Image.NONE)
    bilevel.save(g4, format="TIFF", compression="group4", dpi=(300, 300))
    for path in (jpeg, g4):
        payloads = [decode(t) for t in codes_in_image(path)]
        assert [p.record_no for p in payloads if p] == ["DA-2024-LP-000101"], path


def _scan_of(pdf: bytes, tmp: Path) -> list[Image.Image]:
    """What a scanner returns for printed sheets: greyscale page images at 150 dpi."""
    src = tmp / "sheets.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-jpeg", str(src), str(tmp / "sheet")],
                   check=True)
    return [Image.open(p) for p in sorted(tmp.glob("sheet-*.jpg"))]


def _batch(path: Path, pages: list[Image.Image]) -> Path:
    with pikepdf.new() as out:
        for img in pages:
            buf = io.BytesIO()
            img.convert("L").save(buf, format="PDF", resolution=150)
            out.pages.extend(pikepdf.open(io.BytesIO(buf.getvalue())).pages)
        out.save(path)
    return path


@pytest.mark.slow
def test_batch_with_cover_sheets_is_split_and_linked(
    instance: Callable[..., Settings], tmp_path: Path
) -> None:
    s = instance()
    rt = open_runtime(s)
    with session_scope(rt.engine) as db:
        import_paper_records(db, _records())
        sheet_records = coverage.sheet_records(db, every=False)
    assert [r.record_no for r in sheet_records] == [r.record_no for r in _records()]
    sheets = _scan_of(render(sheet_records[:2]), tmp_path)
    assert len(sheets) == 2
    forms = [render_page(form_lines(client_id="KH-2024-000101", name="张伟",
                                    extra=f"第 {n} 页 page {n}"), dpi=150) for n in (1, 2)]
    forms.append(render_page(form_lines(client_id="KH-2024-000102", name="李娜",
                                        policy="BD2024000102"), dpi=150))
    batch = _batch(tmp_path / "batch.pdf", [sheets[0], forms[0], forms[1], sheets[1], forms[2]])

    results = ingest_paths(s, [batch], Progress(disable=True), drain_ocr=True)
    assert [r["outcome"] for r in results] == ["stored"]

    with Session(rt.engine) as db:
        parent = db.exec(select(Document).where(col(Document.parent_id).is_(None))).one()
        children = db.exec(select(Document).where(col(Document.parent_id) == parent.id)
                           .order_by(col(Document.id))).all()
        assert parent.link_state == "split" and parent.page_count == 5
        assert [(c.record_no, c.client_id, c.page_count, c.verify_state, c.link_source)
                for c in children] == [
            ("DA-2024-LP-000101", "KH-2024-000101", 2, "verified", "coversheet"),
            ("DA-2024-LP-000102", "KH-2024-000102", 1, "verified", "coversheet")]
        first, second = children
        assert "张伟" in first.text and "第2页" in first.text and "李娜" not in first.text
        assert "档案扫描封面页" not in first.text  # the sheet belongs to no part
        pages = db.exec(select(Page).where(col(Page.document_id) == first.id)
                        .order_by(col(Page.page_no))).all()
        assert [p.page_no for p in pages] == [1, 2] and "page 2" in pages[1].text
        codes = {w["code"] for w in json.loads(second.warnings)}
        assert {"page_count", "low_dpi"} <= codes  # 1 page where 3 expected; 150 dpi scan
        assert "page_count" not in {w["code"] for w in json.loads(first.warnings)}
        # Each part is its own encrypted original: the pages cut from the batch.
        assert first.id is not None
        part = b"".join(rt.store.iter_plaintext(first.object_name,
                                                WrappedKey(first.wrapped_key, first.key_id)))
        with pikepdf.open(io.BytesIO(part)) as pdf:
            assert len(pdf.pages) == 2
        assert first.searchable_object_name and first.searchable_sha256

    with session_scope(rt.engine) as db:
        rep = coverage.report(db)
        flagged = [f.record_no for f in coverage.flagged(db)]
    assert (rep.totals.verified, rep.totals.none) == (2, 1)
    assert flagged == ["DA-2024-LP-000103"]
    # Search finds the parts, not the batch around them (whose text holds all of theirs).
    with session_scope(rt.engine) as db:
        for word, part in (("张伟", first), ("李娜", second), ("理赔", None)):
            hits = {h.document_id for h in search(db, SearchQuery(q=word), EVERYTHING).hits}
            assert parent.id not in hits, word
            assert part is None or hits == {part.id}, (word, hits)
