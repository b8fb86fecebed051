"""Mentioned parties and unconfirmed 档号: what a document names beyond its own link.

Kept in ``document_mention`` whenever a document is (re)linked, by the worker, the register
import's relink or a hand link, so search, client pages and coverage read one table.
"""

from __future__ import annotations

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from papervault.index.catalog.models import Document, DocumentMention
from papervault.index.registers.linking import LinkDecision

CLIENT, RECORD = "client", "record"


def save_mentions(session: Session, doc: Document, decision: LinkDecision) -> None:
    """Replace ``doc``'s mentions with what ``decision`` found, minus what its link (which
    may be a kept hand or cover-sheet link) already says."""
    assert doc.id is not None
    found_clients = set(decision.parties) | ({decision.client_id} if decision.client_id
                                             else set())
    found_records = set(decision.records_seen) | ({decision.record_no} if decision.record_no
                                                  else set())
    wanted = {(CLIENT, c) for c in found_clients if c != doc.client_id} | \
             {(RECORD, r) for r in found_records if r != doc.record_no}
    replace_mentions(session, doc.id, wanted, decision.source or "")


def replace_mentions(session: Session, doc_id: int, wanted: set[tuple[str, str]],
                     source: str = "") -> None:
    have = {(m.kind, m.value): m for m in session.exec(
        select(DocumentMention).where(col(DocumentMention.document_id) == doc_id))}
    gone = [m.id for key, m in have.items() if key not in wanted and m.id is not None]
    if gone:
        session.execute(delete(DocumentMention).where(col(DocumentMention.id).in_(gone)))
    for kind, value in sorted(wanted - set(have)):
        session.add(DocumentMention(document_id=doc_id, kind=kind, value=value, source=source))


def drop_mention(session: Session, doc_id: int, kind: str, value: str | None) -> None:
    """Forget one mention (it became the document's own link)."""
    if value:
        session.execute(delete(DocumentMention).where(
            col(DocumentMention.document_id) == doc_id, col(DocumentMention.kind) == kind,
            col(DocumentMention.value) == value))


def parties_of(session: Session, doc_id: int) -> list[str]:
    """The registered clients a document names besides its own client."""
    return sorted(session.exec(select(DocumentMention.value).where(
        col(DocumentMention.document_id) == doc_id, col(DocumentMention.kind) == CLIENT)))


def records_seen_on(session: Session, doc_id: int) -> list[str]:
    """Registered 档号 found on a document that is not linked to them."""
    return sorted(session.exec(select(DocumentMention.value).where(
        col(DocumentMention.document_id) == doc_id, col(DocumentMention.kind) == RECORD)))


def mentioning(session: Session, client_id: str) -> list[Document]:
    """Documents naming ``client_id`` as a party (not linked to it), newest first: the
    client page lists them beside the client's own documents."""
    ids = select(DocumentMention.document_id).where(
        col(DocumentMention.kind) == CLIENT, col(DocumentMention.value) == client_id)
    return list(session.exec(select(Document).where(
        col(Document.id).in_(ids),
        or_(col(Document.client_id).is_(None), col(Document.client_id) != client_id))
        .order_by(col(Document.ingested_at).desc())))
