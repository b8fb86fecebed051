"""The review queue: documents the linker would not guess for, what it found in each, and
what was typed into the search-as-you-type box; the hand link itself is
:func:`index.registers.review.link_by_hand`. Shared by ``papervault review`` and the web.

A candidate is shown with the line it was read from, because an officer deciding between
two client IDs on one form needs to see which was the 客户号 and which the 关联客户号.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from papervault.index.accounts.scope import EVERYTHING, Scope
from papervault.index.catalog.models import Client, Document, PaperRecord
from papervault.index.text import fold_id

WAITING = ("ambiguous", "unlinked")
MATCHES_SHOWN = 8
_LINE_MAX = 160  # an OCR line longer than this is cut around the candidate


@dataclass(frozen=True)
class Candidate:
    value: str
    kind: str  # client | record
    name: str  # the client's name, or the paper record's 题名
    client_id: str | None  # the record's client (a record's candidate links its client)
    line: str | None  # the OCR line, file name or folder it was read from
    source: str | None  # text | filename | folder


@dataclass(frozen=True)
class Waiting:
    document: Document
    candidates: list[Candidate]


@dataclass(frozen=True)
class Match:
    """One register entry matching what the officer typed."""

    kind: str  # client | record
    value: str
    label: str
    client_id: str | None


def queue(session: Session, limit: int = 50, offset: int = 0, scope: Scope = EVERYTHING
          ) -> tuple[list[Waiting], int]:
    """The documents waiting for a link that ``scope`` sees, oldest first, and how many
    wait in all."""
    where = col(Document.link_state).in_(WAITING) & scope.document_where()
    total = int(session.exec(select(func.count()).select_from(Document).where(where)).one())
    docs = session.exec(select(Document).where(where).order_by(col(Document.id))
                        .offset(offset).limit(limit)).all()
    return [Waiting(d, candidates_of(session, d)) for d in docs], total


def candidates_of(session: Session, doc: Document) -> list[Candidate]:
    """The document's candidates, each with its register entry and where it was read."""
    out: list[Candidate] = []
    for value in doc.candidates.split():
        client = session.get(Client, value)
        if client is not None:
            needles = [value, *client.policy_numbers.split()]
            line, source = where_found(doc, needles)
            out.append(Candidate(value, "client", client.name, value, line, source))
            continue
        record = session.get(PaperRecord, value)
        line, source = where_found(doc, [value])
        out.append(Candidate(value, "record", record.title if record else "",
                             record.client_id if record else None, line, source))
    return out


def _squeeze(s: str) -> str:
    return re.sub(r"\s+", "", fold_id(s))


def where_found(doc: Document, needles: list[str]) -> tuple[str | None, str | None]:
    """The first OCR line (or the file or folder name) holding one of ``needles``, compared
    as the linker compares IDs: folded, spaces dropped (OCR splits IDs across spaces)."""
    wanted = [_squeeze(n) for n in needles if n]
    for line in doc.text.splitlines():
        flat = _squeeze(line)
        for n in wanted:
            at = flat.find(n)
            if at >= 0:
                shown = " ".join(line.split())
                if len(shown) > _LINE_MAX:
                    shown = shown[:_LINE_MAX] + "…"
                return shown, "text"
    for source, value in (("filename", doc.original_name), ("folder", doc.source_folder)):
        if any(n in _squeeze(value) for n in wanted):
            return value, source
    return None, None


def matches(session: Session, typed: str, limit: int = MATCHES_SHOWN,
            scope: Scope = EVERYTHING) -> list[Match]:
    """Clients (by ID, name or policy number) and paper records (by 档号 or 题名) matching
    what was typed, for search-as-you-type; nothing for fewer than 2 characters."""
    typed = typed.strip()
    if len(typed) < 2:
        return []
    like = f"%{typed.replace('%', '').replace('_', '')}%"
    folded = f"%{fold_id(typed).replace('%', '').replace('_', '')}%"
    clients = session.exec(select(Client).where(or_(
        col(Client.client_id).like(folded), col(Client.name).like(like),
        col(Client.policy_numbers).like(folded)), scope.client_where())
        .order_by(col(Client.client_id)).limit(limit))
    out = [Match("client", c.client_id, c.name, c.client_id) for c in clients]
    records = session.exec(select(PaperRecord).where(or_(
        col(PaperRecord.record_no).like(folded), col(PaperRecord.title).like(like)),
        scope.record_where())
        .order_by(col(PaperRecord.record_no)).limit(max(0, limit - len(out))))
    out += [Match("record", r.record_no, r.title, r.client_id) for r in records]
    return out
