"""Writes and reads of documents and ingest events used by the pipeline and the CLI."""

from __future__ import annotations

from sqlmodel import Session, col, select

from papervault.index.catalog import jobs
from papervault.index.catalog.models import Document, IngestEvent


def find_by_sha(session: Session, sha256: str) -> Document | None:
    """The first stored document with these exact bytes, if any (parts of a batch excluded)."""
    stmt = (
        select(Document)
        .where(col(Document.sha256) == sha256, col(Document.parent_id).is_(None))
        .order_by(col(Document.id))
        .limit(1)
    )
    return session.exec(stmt).first()


def add_document(session: Session, doc: Document, ocr: bool = True) -> Document:
    """Insert a stored document and queue its OCR job, in the caller's transaction."""
    session.add(doc)
    session.flush()
    assert doc.id is not None
    if ocr:
        jobs.enqueue(session, doc.id)
    return doc


def record_event(
    session: Session, path: str, outcome: str, sha256: str | None = None,
    document_id: int | None = None, reason: str | None = None,
) -> None:
    """Remember what happened to one dropped file (for status and the audit of intake)."""
    session.add(IngestEvent(path=path, outcome=outcome, sha256=sha256,
                            document_id=document_id, reason=reason))


def get_document(session: Session, doc_id: int) -> Document | None:
    return session.get(Document, doc_id)


def client_for(session: Session, value: str) -> str | None:
    """The client ID for a client ID or policy number, if the register knows it."""
    from papervault.index.catalog.models import Client

    hit = session.get(Client, value)
    if hit is not None:
        return hit.client_id
    stmt = select(Client).where(col(Client.policy_numbers).contains(value)).limit(2)
    rows = [c for c in session.exec(stmt) if value in c.policy_numbers.split()]
    return rows[0].client_id if len(rows) == 1 else None


def record_owner(session: Session, record_no: str) -> str | None | bool:
    """The client of a registered 档号, True for a record without a client, None if unknown."""
    from papervault.index.catalog.models import PaperRecord

    rec = session.get(PaperRecord, record_no)
    if rec is None:
        return None
    return rec.client_id or True
