"""Linking documents stored before their client or paper record was registered.

The worker links a document when it is OCR'd, against the registers of that moment; a scan
that arrives before its register row stays unlinked (or linked without its 档号) for good.
When a register is imported, the documents that mention one of its IDs (in their text or
file name, found through the search index, or in their folder name) are decided again.
Links made by hand or by a cover sheet are never changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from papervault.config.settings import Settings
from papervault.index.catalog import documents
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document
from papervault.index.registers import linking as link
from papervault.index.registers import metadata, parties
from papervault.index.search.query import documents_with
from papervault.index.text import fold_id

KEEP = ("manual", "coversheet")


@dataclass(frozen=True)
class Relinked:
    checked: int
    changed: int


def relink(engine: Engine, s: Settings, values: Iterable[str]) -> Relinked:
    """Decide again the links of the documents that mention any of ``values``."""
    wanted = {v for v in values if v}
    ids: set[int] = set()
    with session_scope(engine) as session:
        for v in wanted:
            ids.update(documents_with(session, v))
        folders = session.exec(select(Document.source_folder).distinct()).all()
        folded = [fold_id(v) for v in wanted]
        hit = [f for f, ff in ((f, fold_id(f)) for f in folders if f)
               if any(v in ff for v in folded)]
        if hit:
            ids.update(i for i in session.exec(select(Document.id).where(
                col(Document.source_folder).in_(hit))) if i is not None)
        # Linked already (by hand, say) to a record or client in this import.
        ids.update(i for i in session.exec(select(Document.id).where(
            or_(col(Document.record_no).in_(wanted), col(Document.client_id).in_(wanted))))
            if i is not None)
    clients = link.compile_patterns(s.link.client_patterns)
    records = link.compile_patterns(s.link.record_patterns)
    dates = metadata.compile_dates(s.link.date_patterns)
    changed = 0
    for doc_id in sorted(ids):
        with session_scope(engine) as session:
            # Locked (PostgreSQL) so a hand link made meanwhile is seen, not overwritten.
            doc = session.get(Document, doc_id, with_for_update=True)
            if doc is None or doc.state not in ("indexed", "partly_read") \
                    or doc.link_state == "split":
                continue
            if doc.link_source in KEEP:  # the link stands; its record's row may be new
                metadata.apply_record_metadata(session, doc, dates)
                continue
            decision = link.decide_document(
                doc.original_name, doc.source_folder, doc.text, clients, records,
                lambda v: documents.client_for(session, v),
                lambda v: documents.record_owner(session, v))
            if (decision.state, decision.client_id, decision.record_no) != (
                    doc.link_state, doc.client_id, doc.record_no):
                decision.apply_to(doc)
                changed += 1
            doc.candidates = decision.candidate_text
            session.add(doc)
            # A newly registered client may be a party even where the link stays as it was.
            parties.save_mentions(session, doc, decision)
            metadata.apply_record_metadata(session, doc, dates)
    return Relinked(len(ids), changed)
