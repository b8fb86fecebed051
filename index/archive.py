"""What the CLI, the web pages and the REST API share: find a document, describe it, name the
stored object to decrypt, and record every search, view and download in the audit trail.

Nothing here knows HTTP or the terminal, so ``papervault show`` and ``/api/documents/1``
cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from papervault.config.errors import BadInput, NotFound
from papervault.config.settings import Settings
from papervault.index.accounts.audit import load_audit_key, record
from papervault.index.accounts.scope import Hidden, Scope
from papervault.index.catalog import doctypes
from papervault.index.catalog.models import Client, Document, Page, PaperRecord
from papervault.index.registers.parties import mentioning
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


def get_document(session: Session, doc_id: int, scope: Scope) -> Document:
    """The document, or :class:`NotFound` naming it (:class:`Hidden`, which reads the
    same, when it lies outside ``scope``)."""
    doc = session.get(Document, doc_id)
    if doc is None:
        raise NotFound(what=f"document {doc_id}")
    if not scope.sees_document(doc):
        raise Hidden(what=f"document {doc_id}", target=f"document:{doc_id}")
    return doc


def classify_by_hand(session: Session, doc_id: int, scope: Scope, s: Settings,
                     doc_type: str | None = None, department: str | None = None,
                     level: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set a document's type, department and/or 密级 by hand, within ``scope`` (a person
    cannot move a document where they could not see it, nor above their clearance);
    returns the fields before and after, for the caller's audit entry. None: unchanged."""
    # Fetched first: an ID outside the scope answers "not found" (audited) before any
    # other refusal could tell that it exists.
    doc = get_document(session, doc_id, scope)
    if doc_type is None and department is None and level is None:
        raise BadInput(detail="give a type, a department or a level")
    if department is not None and not scope.sees_department(department.strip() or None):
        raise BadInput(detail=f"department {department}: outside your scope")
    if level is not None and (level not in s.access.levels or not scope.sees_level(level)):
        raise BadInput(detail=f"level {level!r}: one of {' '.join(s.access.levels)}, "
                       "at most your clearance")
    before = {"doc_type": doc.doc_type, "department": doc.department,
              "sensitivity": doc.sensitivity}
    if doc_type is not None:
        doctypes.set_by_hand(doc, doc_type, doctypes.rules_from(s.classify).names)
    if department is not None:
        doc.department = department.strip() or None
    if level is not None:
        doc.sensitivity = level
    session.add(doc)
    return before, {"doc_type": doc.doc_type, "department": doc.department,
                    "sensitivity": doc.sensitivity}


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


def document_dict(doc: Document, pages: list[Page] | None = None,
                  parties: list[str] | None = None, level: str | None = None
                  ) -> dict[str, Any]:
    """The document as JSON-ready data (no keys, no object names); ``parties``: the other
    registered clients it names (:func:`index.registers.parties.parties_of`); ``level``:
    its 密级."""
    out: dict[str, Any] = {
        "id": doc.id, "original_name": doc.original_name, "media_type": doc.media_type,
        "size": doc.size, "sha256": doc.sha256, "page_count": doc.page_count,
        "state": doc.state, "link_state": doc.link_state, "client_id": doc.client_id,
        "record_no": doc.record_no, "department": doc.department, "doc_type": doc.doc_type,
        "doc_type_source": doc.doc_type_source, "sensitivity": level or doc.sensitivity,
        "doc_date": doc.doc_date, "ingested_at": doc.ingested_at, "ocr_at": doc.ocr_at,
        "source_folder": doc.source_folder, "verify_state": doc.verify_state,
        "has_searchable_pdf": bool(doc.searchable_object_name),
        "warnings": json.loads(doc.warnings or "[]"),
    }
    if parties is not None:
        out["parties"] = parties
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
    # Documents naming this client as a party (投保人, 被保险人 …) but linked elsewhere.
    mentioned: list[Document] = field(default_factory=list)


def client_view(session: Session, client_id: str, scope: Scope) -> ClientView:
    """A client's register entry, documents (newest first) and paper records, as far as
    ``scope`` sees them; a client of whom it sees nothing is :class:`Hidden`."""
    client_id = client_id.strip()
    client = session.get(Client, client_id)
    docs = list(session.exec(select(Document).where(Document.client_id == client_id,
                                                    scope.document_where())
                             .order_by(col(Document.ingested_at).desc())))
    records = list(session.exec(select(PaperRecord).where(PaperRecord.client_id == client_id,
                                                          scope.record_where())
                                .order_by(col(PaperRecord.record_no))))
    # Forms naming the client as a party are documents too: the same scope applies.
    mentioned = [d for d in mentioning(session, client_id) if scope.sees_document(d)]
    shown_client = client if client is not None and scope.sees_client(client) else None
    if shown_client is None and not docs and not records and not mentioned:
        exists = client is not None or session.exec(
            select(Document.id).where(Document.client_id == client_id).limit(1)).first() \
            is not None or session.exec(select(PaperRecord.record_no).where(
                PaperRecord.client_id == client_id).limit(1)).first() is not None
        if exists:
            raise Hidden(what=f"client {client_id}", target=f"client:{client_id}")
        raise NotFound(what=f"client {client_id}")
    return ClientView(client_id, shown_client, docs, records, mentioned)


def client_dict(view: ClientView) -> dict[str, Any]:
    c = view.client
    return {
        "client_id": view.client_id,
        "name": c.name if c else None,
        "department": c.department if c else None,
        "policy_numbers": c.policy_numbers.split() if c and c.policy_numbers else [],
        "documents": [document_dict(d) for d in view.documents],
        "mentioned_in": [document_dict(d) for d in view.mentioned],
        "paper_records": [
            {"record_no": r.record_no, "title": r.title, "department": r.department,
             "year": r.year, "room": r.room, "shelf": r.shelf, "box": r.box}
            for r in view.records
        ],
    }


def shown(result: SearchResult, scope: Scope) -> dict[str, object]:
    """What a search showed, for its audit entry: snippets are OCR content, so the
    documents and clients they came from are named (review M9: the per-client audit
    filter missed them); a limited user's scope is named too (what was filtered)."""
    out: dict[str, object] = {"documents": [h.document_id for h in result.hits],
                              "clients": sorted({h.client_id for h in result.hits
                                                 if h.client_id})}
    if not scope.unrestricted:
        out["scope"] = scope.describe()
    return out


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


def find(session: Session, query: SearchQuery, pi_key: bytes | None, scope: Scope
         ) -> tuple[SearchResult, str]:
    """Search, with full ID/card numbers found through their hashes when text is masked;
    returns the result and the query as the audit trail may keep it (numbers masked)."""
    from dataclasses import replace

    from papervault.index.accounts.privacy import rewrite_query
    from papervault.index.search.query import search

    rw = rewrite_query(session, query.q, pi_key)
    if rw.doc_ids is not None:
        query = replace(query, q=rw.q, doc_ids=rw.doc_ids)
    return search(session, query, scope), rw.audit_q


def parse_date(value: str | None) -> date | None:
    """``YYYY-MM-DD`` or nothing (BadInput otherwise)."""
    from papervault.config.errors import BadInput

    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as e:
        raise BadInput(detail=f"{value}: YYYY-MM-DD") from e


@dataclass(frozen=True)
class HitCard:
    """What a result line shows beyond the hit: a title a reader recognises, the client's
    name, the batch folder, and whether the document is one part of a split batch."""

    title: str
    file_name: str
    client_name: str | None
    folder: str
    part_of: int | None
    has_pages: bool


def hit_cards(session: Session, hits: list[Hit]) -> dict[int, HitCard]:
    """Cards for a page of hits, in three queries whatever the page size."""
    ids = [h.document_id for h in hits]
    docs = {d.id: d for d in session.exec(select(Document).where(col(Document.id).in_(ids)))}
    record_nos = {d.record_no for d in docs.values() if d.record_no}
    titles = {r.record_no: r.title for r in session.exec(
        select(PaperRecord).where(col(PaperRecord.record_no).in_(record_nos)))}
    client_ids = {d.client_id for d in docs.values() if d.client_id}
    names = {c.client_id: c.name for c in session.exec(
        select(Client).where(col(Client.client_id).in_(client_ids)))}
    cards: dict[int, HitCard] = {}
    for doc_id, d in docs.items():
        if doc_id is None:
            continue
        title = (titles.get(d.record_no or "") or d.doc_type or d.original_name)
        cards[doc_id] = HitCard(
            title=title, file_name=d.original_name,
            client_name=names.get(d.client_id or "") or None, folder=d.source_folder,
            part_of=d.parent_id,
            has_pages=bool(d.thumbs_object_name or d.searchable_object_name
                           or d.media_type != "pdf"))
    return cards


def record_title(session: Session, doc: Document) -> str:
    """The document's title: its paper record's 题名, else its type, else the file name."""
    record = session.get(PaperRecord, doc.record_no) if doc.record_no else None
    return (record.title if record and record.title else None) or doc.doc_type \
        or doc.original_name


def neighbours(session: Session, query: SearchQuery, index: int, pi_key: bytes | None,
               scope: Scope) -> tuple[int | None, int | None]:
    """The documents before and after hit ``index`` (0-based on ``query.page``) of a
    search, for back/next through results; reaches into the next or previous page."""
    from dataclasses import replace

    def ids(page: int) -> list[int]:
        if page < 1:
            return []
        result, _ = find(session, replace(query, page=page), pi_key, scope)
        return [h.document_id for h in result.hits]

    here = ids(query.page)
    before = here[index - 1] if 0 < index <= len(here) else None
    after = here[index + 1] if 0 <= index < len(here) - 1 else None
    if index == 0 and query.page > 1:
        prev_page = ids(query.page - 1)
        before = prev_page[-1] if prev_page else None
    if index == len(here) - 1 and len(here) == query.per_page:
        nxt = ids(query.page + 1)
        after = nxt[0] if nxt else None
    return before, after


def marked(body: str, q: str) -> list[tuple[str, bool]]:
    """``body`` cut into (text, is_hit) pieces for the query's words, as search matches them
    (across OCR's spaces between Hanzi)."""
    import unicodedata

    from papervault.index.search.query import parse_query, phrase_pattern

    shown = unicodedata.normalize("NFKC", body)
    spans = sorted((m.start(), m.end()) for g in parse_query(q)
                   for m in phrase_pattern(g).finditer(shown) if m.end() > m.start())
    out: list[tuple[str, bool]] = []
    pos = 0
    for s, e in spans:
        if s < pos:
            continue
        if s > pos:
            out.append((shown[pos:s], False))
        out.append((shown[s:e], True))
        pos = e
    if pos < len(shown):
        out.append((shown[pos:], False))
    return out


def known_values(session: Session, scope: Scope | None = None) -> dict[str, list[str]]:
    """Departments and document types the index and registers know, for the filters'
    suggestion lists (free text typed differently never matches); a department-scoped
    user is offered only their own departments (a name is a leak too)."""
    def distinct(*columns: Any) -> list[str]:
        values: set[str] = set()
        for c in columns:
            values.update(v for v in session.exec(select(c).distinct().limit(200)) if v)
        return sorted(values)

    departments = distinct(Document.department, PaperRecord.department)
    if scope is not None and scope.departments is not None:
        departments = [d for d in departments if d in scope.departments]
    return {"department": departments, "doc_type": distinct(Document.doc_type)}


def scanned_records(session: Session, view: ClientView) -> set[str]:
    """Which of the client's paper records have a document in the archive."""
    nos = [r.record_no for r in view.records]
    if not nos:
        return set()
    return {n for n in session.exec(select(Document.record_no).where(
        col(Document.record_no).in_(nos)).distinct()) if n}
