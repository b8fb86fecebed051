"""Rebuilding the index from the recovery records in S3 (see ``storage.records``).

After a lost database, every original comes back as a verified, stored document and its OCR
job is queued again: the OCR text, links, split parts and searchable PDFs are derived data
and are made afresh. Links made by hand and QA reviews are not in the records; they are lost
with the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from papervault.config.errors import PapervaultError, TransientError
from papervault.index.catalog import documents
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, Verification, utcnow
from papervault.storage.crypto import WrappedKey
from papervault.storage.objects import ObjectStore

BATCH = 200


def capture_details(original_name: str, source_folder: str, media_type: str,
                    page_count: int | None, ingested_at: datetime) -> dict[str, Any]:
    """What an original's recovery record keeps, as capture knows it before the upload
    (which adds the SHA-256 and size it reads)."""
    return {"original_name": original_name, "source_folder": source_folder,
            "media_type": media_type, "page_count": page_count,
            "ingested_at": ingested_at.isoformat()}


def details_of(doc: Document) -> dict[str, Any]:
    """The same details, from an indexed original."""
    return {**capture_details(doc.original_name, doc.source_folder, doc.media_type,
                              doc.page_count, doc.ingested_at),
            "sha256": doc.sha256, "size": doc.size}


@dataclass
class Restored:
    """What ``papervault recover`` did, record by record."""

    records: int = 0
    already_indexed: int = 0
    restored: list[int] = field(default_factory=list)
    duplicates: int = 0   # a second copy of a file the index already has (a crash leftover)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"records": self.records, "already_indexed": self.already_indexed,
                "restored": len(self.restored), "duplicates": self.duplicates,
                "failed": [{"object": n, "reason": r} for n, r in self.failed]}


def sync_records(engine: Engine, store: ObjectStore,
                 progress: Callable[[int], None] | None = None) -> int:
    """Make every captured original's recovery record agree with the index: write the ones
    that are missing (originals stored before records existed) or wrapped under another
    master key than the index says (a verify that raced a rotation); returns how many were
    written. One small read per original."""
    written, last_id = 0, 0
    while True:
        with session_scope(engine) as s:
            docs = s.exec(select(Document).where(col(Document.parent_id).is_(None),
                                                 col(Document.id) > last_id)
                          .order_by(col(Document.id)).limit(BATCH)).all()
        if not docs:
            return written
        for d in docs:
            if store.record_key_id(d.object_name) != d.key_id:
                store.write_record(d.object_name, WrappedKey(d.wrapped_key, d.key_id),
                                   details_of(d))
                written += 1
        last_id = docs[-1].id or last_id
        if progress is not None:
            progress(len(docs))


def _indexed(session: Session, names: list[str]) -> set[str]:
    rows = session.exec(select(Document.object_name)
                        .where(col(Document.object_name).in_(names))).all()
    return set(rows)


def restore(engine: Engine, store: ObjectStore, names: Iterable[str] | None = None,
            progress: Callable[[int], None] | None = None) -> Restored:
    """Add every recorded original the index lacks, after reading it back and checking its
    SHA-256; safe to run again (what is indexed already is skipped)."""
    report = Restored()
    batch: list[str] = []

    def flush() -> None:
        with session_scope(engine) as s:
            known = _indexed(s, batch)
        for name in batch:
            report.records += 1
            if name in known:
                report.already_indexed += 1
            else:
                _restore_one(engine, store, name, report)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for name in store.list_records() if names is None else names:
        batch.append(name)
        if len(batch) >= BATCH:
            flush()
    flush()
    return report


def _restore_one(engine: Engine, store: ObjectStore, name: str, report: Restored) -> None:
    try:
        rec = store.read_record(name)
        d = rec.details
        sha = str(d["sha256"])
        with session_scope(engine) as s:
            # Before reading the whole object back: a duplicate is not restored anyway.
            if documents.find_by_sha(s, sha) is not None:
                report.duplicates += 1
                return
        store.verify(name, rec.wrapped, sha)
    except TransientError:
        raise  # the server is away: stop, the run can be repeated
    except (PapervaultError, KeyError) as e:
        reason = e.message("en") if isinstance(e, PapervaultError) else f"missing {e}"
        report.failed.append((name, reason))
        return
    now = utcnow()
    with session_scope(engine) as s:
        doc = Document(
            sha256=sha, size=int(d["size"]),
            original_name=str(d["original_name"]), source_folder=str(d["source_folder"]),
            media_type=str(d["media_type"]), page_count=d.get("page_count"),
            object_name=name, object_size=store.object_size(name),
            wrapped_key=rec.wrapped.blob, key_id=rec.wrapped.key_id,
            ingested_at=datetime.fromisoformat(str(d["ingested_at"])),
            verify_state="verified", verified_at=now,
        )
        documents.add_document(s, doc)
        assert doc.id is not None
        s.add(Verification(document_id=doc.id, object_name=name, at=now, ok=True,
                           detail="read back and checked when the index was recovered"))
        report.restored.append(doc.id)
