"""Document types (保单, 理赔申请书, 身份证复印件 …): where a document's type comes from.

Precedence, highest first: set by hand > the paper record's 题名 > the cover sheet > keyword
rules over the first lines of the OCR text. A lower source never overwrites a higher one,
so OCR run again keeps what an officer set. A document no source names stays unclassified
(``doc_type`` None) and is listed for an officer to set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from papervault.config.errors import BadInput
from papervault.config.settings import ClassifySettings
from papervault.index.catalog.models import Document
from papervault.index.text import clean_ocr_text, fold_cell

# Lowest first: the rank of a source is its index.
SOURCES = ("keywords", "coversheet", "record", "manual")
UNCLASSIFIED = "unclassified"
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True)
class TypeRules:
    """The configured types, each with the words that name it, and how many lines of a
    document's text the words are looked for in."""

    types: tuple[tuple[str, tuple[str, ...]], ...]
    first_lines: int = 8

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.types)


def rules_from(cfg: ClassifySettings) -> TypeRules:
    return TypeRules(tuple((t.name, tuple(t.keywords)) for t in cfg.types), cfg.first_lines)


def _squash(text: str) -> str:
    # tesseract puts spaces between Hanzi and NFKC folds full-width forms: compare neither.
    return _BLANKS.sub("", fold_cell(text))


def classify_text(text: str, rules: TypeRules) -> str | None:
    """The type whose keyword appears first in the first lines of ``text`` (a title sits on
    top; a claim form names the policy lower down, which is not what it is); None if none.
    Ties go to the longer keyword (投保单 before 保单)."""
    lines = [ln for ln in clean_ocr_text(text).splitlines() if ln.strip()]
    head = _squash("\n".join(lines[: rules.first_lines]))
    best: tuple[int, int, str] | None = None
    for name, keywords in rules.types:
        for word in keywords:
            at = head.find(_squash(word))
            if at >= 0 and (best is None or (at, -len(word)) < best[:2]):
                best = (at, -len(word), name)
    return best[2] if best else None


def offer_type(doc: Document, doc_type: str | None, source: str) -> bool:
    """Set ``doc``'s type from ``source`` unless a higher source set it; True if set."""
    if doc_type is None:
        return False
    held = SOURCES.index(doc.doc_type_source) if doc.doc_type_source in SOURCES else -1
    if SOURCES.index(source) < held:
        return False
    doc.doc_type, doc.doc_type_source = doc_type, source
    return True


def offer_level(doc: Document, level: str | None, levels: Sequence[str]) -> None:
    """Raise ``doc``'s 密级 to ``level`` (its paper record's), never lower it: a record
    marked 机密 makes its documents 机密, a person's higher mark stands."""
    if level not in levels:
        return
    if doc.sensitivity not in levels or levels.index(level) > levels.index(doc.sensitivity):
        doc.sensitivity = level


def set_by_hand(doc: Document, doc_type: str, known: Sequence[str]) -> None:
    """An officer's choice: one of the configured types (or ``unclassified`` to clear it)."""
    doc_type = doc_type.strip()
    if doc_type == UNCLASSIFIED:
        doc.doc_type, doc.doc_type_source = None, None
        return
    if doc_type not in known:
        raise BadInput(detail=f"document type {doc_type!r}: one of {' '.join(known)}")
    doc.doc_type, doc.doc_type_source = doc_type, "manual"


def to_classify(session: Session, where: object, limit: int = 200) -> list[Document]:
    """Documents without a type or a department, oldest first (``where``: the caller's
    visibility rule)."""
    stmt = (select(Document)
            .where(or_(col(Document.doc_type).is_(None), col(Document.department).is_(None)),
                   where)  # type: ignore[arg-type]
            .order_by(col(Document.ingested_at), col(Document.id)).limit(limit))
    return list(session.exec(stmt))
