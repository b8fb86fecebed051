"""What the CLI, the web pages and the REST API share: find a document, describe it, name the
stored object to decrypt, and record every search, view and download in the audit trail.

Nothing here knows HTTP or the terminal, so ``papervault show`` and ``/api/documents/1``
cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from papervault.config.errors import NotFound
from papervault.config.settings import Settings
from papervault.index.accounts.audit import load_audit_key, record
from papervault.index.catalog.models import Client, Document, Page, PaperRecord
from papervault.index.search.query import Hit, SearchQuery, SearchResult
from papervault.storage.crypto import WrappedKey


@dataclass(frozen=True)
class StoredFile:
    """One decryptable object of a document: the original or its searchable PDF."""

    object_name: str
    wrapped: WrappedKey
    sha256: str | None
    filename: str
    media_type: str


def get_document(session: Session, doc_id: int) -> Document:
    """The document, or :class:`NotFound` naming it."""
    doc = session.get(Document, doc_id)
    if doc is None:
        raise NotFound(what=f"document {doc_id}")
    return doc


def stored_file(doc: Document, searchable: bool) -> StoredFile:
    """The original, or the searchable PDF (NotFound until OCR has made it)."""
    if not searchable:
        return StoredFile(doc.object_name, WrappedKey(doc.wrapped_key, doc.key_id), doc.sha256,
                          doc.original_name, doc.media_type)
    if not (doc.searchable_object_name and doc.searchable_wrapped_key and doc.searchable_key_id):
        raise NotFound(what=f"searchable PDF of document {doc.id} (OCR not finished)")
    stem = doc.original_name.rsplit(".", 1)[0] or f"document-{doc.id}"
    return StoredFile(doc.searchable_object_name,
                      WrappedKey(doc.searchable_wrapped_key, doc.searchable_key_id),
                      doc.searchable_sha256, f"{stem}.ocr.pdf", "application/pdf")


def thumbnails_file(doc: Document) -> StoredFile | None:
    """The worker's page thumbnails (a multi-page TIFF), None for documents made before."""
    if not (doc.thumbs_object_name and doc.thumbs_wrapped_key and doc.thumbs_key_id):
        return None
    return StoredFile(doc.thumbs_object_name, WrappedKey(doc.thumbs_wrapped_key,
                      doc.thumbs_key_id), None, f"document-{doc.id}-thumbs.tif", "image/tiff")


def pages_of(session: Session, doc_id: int) -> list[Page]:
    return list(session.exec(
        select(Page).where(Page.document_id == doc_id).order_by(col(Page.page_no))))


def document_dict(doc: Document, pages: list[Page] | None = None) -> dict[str, Any]:
    """The document as JSON-ready data (no keys, no object names)."""
    out: dict[str, Any] = {
        "id": doc.id, "original_name": doc.original_name, "media_type": doc.media_type,
        "size": doc.size, "sha256": doc.sha256, "page_count": doc.page_count,
        "state": doc.state, "link_state": doc.link_state, "client_id": doc.client_id,
        "record_no": doc.record_no, "department": doc.department, "doc_type": doc.doc_type,
        "doc_date": doc.doc_date, "ingested_at": doc.ingested_at, "ocr_at": doc.ocr_at,
        "source_folder": doc.source_folder, "verify_state": doc.verify_state,
        "has_searchable_pdf": bool(doc.searchable_object_name),
        "warnings": json.loads(doc.warnings or "[]"),
    }
    if pages is not None:
        out["pages"] = [{"page_no": p.page_no, "text": p.text, "confidence": p.confidence,
                         "source": p.source, "failure": p.failure} for p in pages]
        out["text"] = doc.text
    return out


def hit_dict(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.document_id, "score": hit.score, "original_name": hit.original_name,
        "client_id": hit.client_id, "record_no": hit.record_no, "department": hit.department,
        "doc_type": hit.doc_type, "doc_date": hit.doc_date, "ingested_at": hit.ingested_at,
        "link_state": hit.link_state, "page_count": hit.page_count, "page_no": hit.page_no,
        "snippet": hit.snippet_text(("", "")),
        "highlights": [[s, h] for s, h in hit.snippet],
    }


def result_dict(query: SearchQuery, result: SearchResult) -> dict[str, Any]:
    return {
        "query": query.q, "filters": query.filters(), "total": result.total,
        "total_capped": result.total_capped, "page": result.page,
        "per_page": result.per_page, "pages": result.pages,
        "hits": [hit_dict(h) for h in result.hits],
    }


@dataclass(frozen=True)
class ClientView:
    client_id: str
    client: Client | None
    documents: list[Document]
    records: list[PaperRecord]


def client_view(session: Session, client_id: str) -> ClientView:
    """A client's register entry, documents (newest first) and paper records."""
    client_id = client_id.strip()
    client = session.get(Client, client_id)
    docs = list(session.exec(select(Document).where(Document.client_id == client_id)
                             .order_by(col(Document.ingested_at).desc())))
    records = list(session.exec(select(PaperRecord).where(PaperRecord.client_id == client_id)
                                .order_by(col(PaperRecord.record_no))))
    if client is None and not docs and not records:
        raise NotFound(what=f"client {client_id}")
    return ClientView(client_id, client, docs, records)


def client_dict(view: ClientView) -> dict[str, Any]:
    c = view.client
    return {
        "client_id": view.client_id,
        "name": c.name if c else None,
        "department": c.department if c else None,
        "policy_numbers": c.policy_numbers.split() if c and c.policy_numbers else [],
        "documents": [document_dict(d) for d in view.documents],
        "paper_records": [
            {"record_no": r.record_no, "title": r.title, "department": r.department,
             "year": r.year, "room": r.room, "shelf": r.shelf, "box": r.box}
            for r in view.records
        ],
    }


def shown(result: SearchResult) -> dict[str, object]:
    """What a search showed, for its audit entry: snippets are OCR content, so the
    documents and clients they came from are named (review M9: the per-client audit
    filter missed them)."""
    return {"documents": [h.document_id for h in result.hits],
            "clients": sorted({h.client_id for h in result.hits if h.client_id})}


class Auditor:
    """Records who searched, viewed or downloaded what (key loaded once per process)."""

    def __init__(self, settings: Settings) -> None:
        self._key = load_audit_key(settings.path(settings.crypto.audit_key_file))

    @property
    def key(self) -> bytes:
        """The chain's HMAC key, for verifying it (never shown or logged)."""
        return self._key

    def record(self, session: Session, actor: str, action: str, target: str = "",
               detail: dict[str, object] | None = None, origin: str | None = None) -> None:
        """Append one entry in ``session``'s transaction."""
        record(session, self._key, actor, action, target, detail, origin)


def find(session: Session, query: SearchQuery, pi_key: bytes | None
         ) -> tuple[SearchResult, str]:
    """Search, with full ID/card numbers found through their hashes when text is masked;
    returns the result and the query as the audit trail may keep it (numbers masked)."""
    from dataclasses import replace

    from papervault.index.accounts.privacy import rewrite_query
    from papervault.index.search.query import search

    rw = rewrite_query(session, query.q, pi_key)
    if rw.doc_ids is not None:
        query = replace(query, q=rw.q, doc_ids=rw.doc_ids)
    return search(session, query), rw.audit_q


def parse_date(value: str | None) -> date | None:
    """``YYYY-MM-DD`` or nothing (BadInput otherwise)."""
    from papervault.config.errors import BadInput

    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as e:
        raise BadInput(detail=f"{value}: YYYY-MM-DD") from e
