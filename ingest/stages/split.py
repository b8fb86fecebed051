"""Split a scanned batch at our cover sheets into one child document per paper record.

Each part (the pages after a sheet, up to the next sheet) is cut from the original with
pikepdf (or Pillow for multi-page TIFF), stored encrypted and verified like any capture,
and indexed with its pages' OCR text reused — nothing is recognised twice. The sheet itself
belongs to no part. The batch stays as it was scanned, marked ``split``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from papervault.index.catalog import doctypes, documents
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, Page, PaperRecord, Verification, utcnow
from papervault.index.coverage.coversheets import SheetPayload
from papervault.index.registers import metadata
from papervault.ingest.stages import quality
from papervault.ingest.stages.ocr import PageResult
from papervault.ingest.stages.searchable_pdf import assemble
from papervault.storage.objects import ObjectStore, StoredObject

log = logging.getLogger(__name__)

Warnings = list[dict[str, object]]


@dataclass(frozen=True)
class Part:
    sheet_page: int
    payload: SheetPayload
    pages: tuple[int, ...]


@dataclass(frozen=True)
class Checks:
    """Thresholds of the quality checks (settings.ocr.min_dpi_warning, …)."""

    min_dpi: int = 300
    low_confidence: float = 40.0
    type_rules: doctypes.TypeRules = doctypes.TypeRules(())


def plan(page_count: int, sheets: dict[int, SheetPayload]) -> tuple[list[Part], Warnings]:
    """Parts between sheets, and warnings for pages before the first sheet and empty parts."""
    starts = sorted(sheets)
    warnings: Warnings = [
        {"page": n, "code": "before_first_sheet"} for n in range(1, starts[0] if starts else 1)
    ]
    parts: list[Part] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else page_count + 1
        pages = tuple(range(start + 1, end))
        if not pages:
            warnings.append({"page": start, "code": "empty_part",
                             "record_no": sheets[start].record_no})
            continue
        parts.append(Part(start, sheets[start], pages))
    return parts, warnings


def extract(original: Path, media_type: str, pages: Sequence[int], out: Path) -> Path:
    """Write the given 1-based pages of ``original`` to ``out`` (PDF, or TIFF for images)."""
    if media_type == "pdf":
        with pikepdf.open(original) as src, pikepdf.new() as dst:
            for n in pages:
                dst.pages.append(src.pages[n - 1])
            dst.save(out)
        return out
    frames: list[Image.Image] = []
    with Image.open(original) as img:
        dpi = img.info.get("dpi", (300, 300))
        for n in pages:
            img.seek(n - 1)
            frames.append(img.copy())
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:],
                   compression="tiff_lzw", dpi=dpi)
    return out


def after_save(engine: Engine, store: ObjectStore, doc_id: int, original: Path,
               media_type: str, pages: list[PageResult], sheets: dict[int, SheetPayload],
               workdir: Path, checks: Checks = Checks()) -> list[int]:
    """Quality warnings on the saved document, then the split; returns the children's ids."""
    dpi = quality.native_dpi(original, media_type)
    with session_scope(engine) as s:
        doc = s.get(Document, doc_id)
        if doc is None or doc.state not in ("indexed", "partly_read"):
            return []
        extra = quality.page_warnings(pages, dpi, checks.min_dpi, checks.low_confidence)
        extra += quality.page_count_warning(len(pages), _expected(s, doc.record_no))
        parts, split_warnings = plan(len(pages), sheets) if sheets else ([], [])
        doc.warnings = json.dumps(quality.merge(json.loads(doc.warnings or "[]"),
                                                extra + split_warnings), ensure_ascii=False)
        if parts and doc.link_source != "manual":
            doc.link_state, doc.link_source = "split", "coversheet"
        s.add(doc)
        done = s.exec(select(Document.id).where(col(Document.parent_id) == doc_id)).first()
    if not parts or done is not None:  # a retried job must not split twice
        return []
    by_no = {p.page_no: p for p in pages}
    return [_child(engine, store, doc, original, [by_no[n] for n in part.pages], part, i,
                   workdir, dpi, checks)
            for i, part in enumerate(parts, start=1)]


def _expected(s: Session, record_no: str | None) -> int | None:
    rec = s.get(PaperRecord, record_no) if record_no else None
    return rec.expected_pages if rec is not None else None


def _put(store: ObjectStore, path: Path, kind: str) -> StoredObject:
    with path.open("rb") as f:
        obj = store.put_file(f, kind=kind)
    store.verify(obj.name, obj.wrapped, obj.sha256)
    return obj


def _child(engine: Engine, store: ObjectStore, parent: Document, original: Path,
           pages: list[PageResult], part: Part, i: int, workdir: Path, dpi: dict[int, int],
           checks: Checks) -> int:
    suffix = ".pdf" if parent.media_type == "pdf" else ".tif"
    media = "pdf" if parent.media_type == "pdf" else "tiff"
    path = extract(original, parent.media_type, part.pages, workdir / f"part-{i}{suffix}")
    obj = _put(store, path, "o")
    searchable = assemble(pages, original if parent.media_type == "pdf" else None,
                          workdir / f"part-{i}-searchable.pdf")
    sobj = _put(store, searchable, "s")
    first, last = part.pages[0], part.pages[-1]
    warnings = quality.page_warnings(pages, dpi, checks.min_dpi, checks.low_confidence,
                                     renumber=True)
    with session_scope(engine) as s:
        owner = documents.record_owner(s, part.payload.record_no)
        client = owner if isinstance(owner, str) else part.payload.client_id
        warnings += quality.page_count_warning(len(pages), _expected(s, part.payload.record_no))
        now = utcnow()
        child = Document(
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(), size=path.stat().st_size,
            original_name=f"{parent.original_name} #{first}-{last}",
            source_folder=parent.source_folder, media_type=media, page_count=len(pages),
            parent_id=parent.id, object_name=obj.name, object_size=obj.size,
            wrapped_key=obj.wrapped.blob, key_id=obj.wrapped.key_id,
            searchable_object_name=sobj.name, searchable_wrapped_key=sobj.wrapped.blob,
            searchable_key_id=sobj.wrapped.key_id, searchable_sha256=sobj.sha256,
            state="indexed", link_state="linked", link_source="coversheet", client_id=client,
            record_no=part.payload.record_no, department=parent.department,
            ingested_at=parent.ingested_at, ocr_at=now, verify_state="verified",
            verified_at=now, text="\n\f\n".join(p.text for p in pages),
            candidates=part.payload.record_no,
            warnings=json.dumps(warnings, ensure_ascii=False),
        )
        # Each part is its own document: its own first lines say what it is.
        doctypes.offer_type(child, doctypes.classify_text(child.text, checks.type_rules),
                            "keywords")
        documents.add_document(s, child, ocr=False)
        assert child.id is not None
        metadata.apply_record_metadata(s, child)
        s.add(Verification(document_id=child.id, object_name=obj.name, at=now, ok=True,
                           detail="split from batch"))
        for n, p in enumerate(pages, start=1):
            s.add(Page(document_id=child.id, page_no=n, text=p.text, confidence=p.confidence,
                       source=p.source, width_px=p.width_px, height_px=p.height_px,
                       dpi=p.dpi))
        log.info("document %s: pages %s-%s → %s (%s)", parent.id, first, last, child.id,
                 part.payload.record_no)
        return child.id

