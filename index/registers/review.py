"""The review queue's decisions: link a document by hand to a client, a paper record, or both.

One function for the CLI (``papervault review --link``) and the web review page, so both
check the register the same way and leave the same audit entry. The register's 档号→client
mapping is evidence: a 档号 alone brings its client; a 档号 and a client that disagree are
refused rather than stored half-right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from papervault.config.errors import BadInput, LinkMismatch, NotFound
from papervault.index.accounts import audit
from papervault.index.accounts.scope import EVERYTHING, Hidden, Scope
from papervault.index.catalog.models import Client, Document, PaperRecord
from papervault.index.registers import metadata, parties
from papervault.index.text import fold_id


@dataclass(frozen=True)
class HandLink:
    document_id: int
    client_id: str | None
    record_no: str | None
    before: tuple[str | None, str | None]


def propose(session: Session, record_no: str) -> str | None:
    """The client the register gives a 档号 (what the review page fills in)."""
    rec = session.get(PaperRecord, fold_id(record_no).strip())
    return rec.client_id if rec is not None else None


def link_by_hand(session: Session, doc_id: int, client_id: str | None,
                 record_no: str | None, *, audit_key: bytes, actor: str,
                 origin: str | None = None,
                 dates: Sequence[re.Pattern[str]] = metadata.DEFAULT_DATES,
                 scope: Scope = EVERYTHING) -> HandLink:
    """Link ``doc_id`` by hand, in the caller's transaction, and audit it.

    With a 档号 the record's client is taken (or checked against ``client_id``); with a
    client alone, a 档号 the document already carries stays if it is that client's."""
    if not (client_id and client_id.strip()) and not (record_no and record_no.strip()):
        raise BadInput("link_needs_target")
    doc = session.get(Document, doc_id, with_for_update=True)
    if doc is None:
        raise NotFound(what=f"document {doc_id}")
    if not scope.sees_document(doc):
        raise Hidden(what=f"document {doc_id}", target=f"document:{doc_id}")
    client = _client(session, client_id) if client_id and client_id.strip() else None
    rec = _record(session, record_no) if record_no and record_no.strip() else None
    # Nobody links into a department or 密级 they may not see (tiers).
    if client is not None and not scope.sees_client(client):
        raise Hidden(what=f"client {client_id}", target=f"client:{client.client_id}")
    if rec is not None and not scope.sees_record(rec, client):
        raise Hidden(what=f"paper record {record_no}", target=f"record:{rec.record_no}")
    if rec is None and doc.record_no:
        kept = session.get(PaperRecord, doc.record_no)
        keep = kept is not None and (kept.client_id is None or client is None
                                     or kept.client_id == client.client_id)
        rec = kept if keep else None
    if rec is not None and rec.client_id and client is not None \
            and rec.client_id != client.client_id:
        raise LinkMismatch(record_no=rec.record_no, owner=rec.client_id,
                           client_id=client.client_id)
    new_client = client.client_id if client is not None else (rec.client_id if rec else None)
    before = (doc.client_id, doc.record_no)
    doc.client_id, doc.record_no = new_client, rec.record_no if rec is not None else None
    doc.link_state, doc.link_source = "linked", "manual"
    session.add(doc)
    parties.drop_mention(session, doc_id, parties.CLIENT, doc.client_id)
    parties.drop_mention(session, doc_id, parties.RECORD, doc.record_no)
    metadata.apply_record_metadata(session, doc, dates)
    audit.record(session, audit_key, actor, "link", f"document:{doc_id}",
                 {"from": before[0], "to": doc.client_id, "record_from": before[1],
                  "record_to": doc.record_no}, origin)
    return HandLink(doc_id, doc.client_id, doc.record_no, before)


def _client(session: Session, client_id: str) -> Client:
    found = session.get(Client, fold_id(client_id).strip().upper())
    if found is None:
        raise NotFound(what=f"client {client_id}")
    return found


def _record(session: Session, record_no: str) -> PaperRecord:
    found = session.get(PaperRecord, fold_id(record_no).strip())
    if found is None:
        raise NotFound(what=f"paper record {record_no}")
    return found


def review_item(session: Session, doc: Document) -> dict[str, Any]:
    """What the review page shows for one waiting document: the registered clients and 档号
    found on it, each 档号 with the client the register gives it (the proposal)."""
    assert doc.id is not None
    records = parties.records_seen_on(session, doc.id)
    return {"id": doc.id, "link_state": doc.link_state, "original_name": doc.original_name,
            "clients": parties.parties_of(session, doc.id),
            "records": [{"record_no": r, "client_id": propose(session, r)} for r in records],
            "candidates": doc.candidates, "ingested_at": doc.ingested_at}
