"""Document metadata from the registers: 部门, 文件类型 (题名) and 文件日期.

:func:`apply_record_metadata` is the one entry point; the worker, the register relink, hand
links, cover-sheet parts and the 0011 migration all end in :func:`derive`, so search filters
read the same values whichever way a document got its link.

``doc_type`` precedence, strongest first: a type set by hand, the linked record's 题名, a
cover sheet's, then keyword rules (added by the tiers work through :func:`set_doc_type`).
A weaker source never replaces a stronger one; a record-derived type is cleared when the
document loses its record, so keyword rules may fill it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from papervault.config.settings import DEFAULT_DATE_PATTERNS, AccessSettings
from papervault.index.catalog import doctypes
from papervault.index.catalog.models import Client, Document, PaperRecord
from papervault.index.text import fold_cell

# Strongest first: the reverse of the tiers rule's order (index.catalog.doctypes.SOURCES),
# so both speak of the same sources.
DOC_TYPE_PRECEDENCE = tuple(reversed(doctypes.SOURCES))


def compile_dates(patterns: Iterable[str] = DEFAULT_DATE_PATTERNS) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


DEFAULT_DATES = compile_dates()


def date_in_text(text: str, patterns: Sequence[re.Pattern[str]] = DEFAULT_DATES) -> date | None:
    """The first labelled date (出险日期 2024年3月15日 …) in ``text`` that is a real date."""
    flat = re.sub(r"\s+", "", fold_cell(text))
    for pat in patterns:
        for m in pat.finditer(flat):
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:  # 2024年13月40日: misread, try the next
                continue
    return None


def rank(source: str | None) -> int:
    """Lower is stronger; an unknown or empty source is the weakest."""
    return DOC_TYPE_PRECEDENCE.index(source) if source in DOC_TYPE_PRECEDENCE \
        else len(DOC_TYPE_PRECEDENCE)


@dataclass(frozen=True)
class Facts:
    """What the registers and the text say, as plain values (the migration has no ORM)."""

    text: str
    record_title: str | None = None
    record_department: str | None = None
    record_year: int | None = None
    client_department: str | None = None


@dataclass(frozen=True)
class Metadata:
    department: str | None
    doc_type: str | None
    doc_type_source: str | None
    doc_date: date | None
    doc_date_source: str | None


def derive(current: Metadata, facts: Facts,
           dates: Sequence[re.Pattern[str]] = DEFAULT_DATES) -> Metadata:
    """The metadata a document should carry now."""
    department = facts.record_department or facts.client_department or current.department
    doc_type, type_source = current.doc_type, current.doc_type_source
    title = (facts.record_title or "").strip() or None
    if title and rank("record") <= rank(type_source):
        doc_type, type_source = title[:64], "record"
    elif not title and type_source == "record":  # lost its record: let weaker rules fill it
        doc_type, type_source = None, None
    doc_date, date_source = current.doc_date, current.doc_date_source
    found = date_in_text(facts.text, dates)
    if found is not None:
        doc_date, date_source = found, "text"
    elif date_source != "text":
        if facts.record_year:
            doc_date, date_source = date(facts.record_year, 1, 1), "record"
        elif date_source == "record":
            doc_date, date_source = None, None
    return Metadata(department, doc_type, type_source, doc_date, date_source)


def set_doc_type(doc: Any, value: str | None, source: str) -> bool:
    """Set ``doc.doc_type`` from ``source`` unless a stronger source set it; True if set."""
    if not value or rank(source) > rank(doc.doc_type_source):
        return False
    doc.doc_type, doc.doc_type_source = value[:64], source
    return True


def apply_record_metadata(session: Session, doc: Document,
                          dates: Sequence[re.Pattern[str]] = DEFAULT_DATES) -> None:
    """Fill ``doc``'s department, document type and date from its paper record (or its
    client's department) and its text, in the caller's transaction."""
    rec = session.get(PaperRecord, doc.record_no) if doc.record_no else None
    client = session.get(Client, doc.client_id) if doc.client_id else None
    facts = Facts(doc.text or "", rec.title if rec else None, rec.department if rec else None,
                  rec.year if rec else None, client.department if client else None)
    now = derive(Metadata(doc.department, doc.doc_type, doc.doc_type_source, doc.doc_date,
                          doc.doc_date_source), facts, dates)
    doc.department, doc.doc_type, doc.doc_type_source = (now.department, now.doc_type,
                                                         now.doc_type_source)
    doc.doc_date, doc.doc_date_source = now.doc_date, now.doc_date_source
    if rec is not None:  # a record marked 机密 makes its documents 机密 (tiers)
        doctypes.offer_level(doc, rec.sensitivity, AccessSettings().levels)
    session.add(doc)
