"""Manual spot checks (DA/T 31-2017 asks for at least 5 % of newly digitised documents).

A sample draws from documents never sampled before; a reviewer marks each pass or fail.
A failed document is flagged for re-scan and counts against coverage until a newer
document for the same record replaces it (see :mod:`index.coverage_sql`).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, or_, select

from papervault.config.errors import BadInput, NotFound
from papervault.index.accounts.scope import EVERYTHING, Scope
from papervault.index.catalog.models import Document, PaperRecord, utcnow
from papervault.index.coverage.tables import CoverageDirty, QaCheck

MIN_FRACTION = 0.05
# A sample, not the archive (review L7: --fraction 1 gave auditors every page image).
MAX_FRACTION = 0.5


@dataclass(frozen=True)
class Sample:
    sample_id: str
    population: int
    document_ids: tuple[int, ...]


def draw(session: Session, fraction: float = MIN_FRACTION, seed: int | None = None,
         department: str | None = None) -> Sample:
    """Draw ``fraction`` (at least 5 %, at least one) of the documents not yet sampled,
    optionally of one department (the document's own, else its paper record's).

    Batches split at cover sheets are represented by their parts, not the batch itself.
    """
    if not MIN_FRACTION <= fraction <= MAX_FRACTION:
        raise BadInput(detail=f"--fraction must be between {MIN_FRACTION} and {MAX_FRACTION} "
                              "(DA/T 31-2017: at least 5 %)")
    sampled = select(QaCheck.document_id)
    stmt = (select(Document.id)
            .where(col(Document.id).not_in(sampled), col(Document.link_state) != "split")
            .order_by(col(Document.id)))
    if department:
        in_register = select(PaperRecord.record_no).where(
            col(PaperRecord.department) == department)
        stmt = stmt.where(or_(col(Document.department) == department,
                              col(Document.record_no).in_(in_register)))
    population = [i for i in session.exec(stmt) if i is not None]
    sample_id = uuid.uuid4().hex[:12]
    if not population:
        return Sample(sample_id, 0, ())
    k = min(len(population), max(1, math.ceil(len(population) * fraction)))
    chosen = sorted(random.Random(seed).sample(population, k))
    for doc_id in chosen:
        session.add(QaCheck(document_id=doc_id, sample_id=sample_id))
    session.flush()
    return Sample(sample_id, len(population), tuple(chosen))


def mark(session: Session, doc_id: int, verdict: str, reason: str, reviewer: str) -> QaCheck:
    """Record a reviewer's verdict; a failure needs a reason and re-flags the record."""
    if verdict not in ("pass", "fail"):
        raise BadInput(detail="verdict must be pass or fail")
    if verdict == "fail" and not reason.strip():
        raise BadInput("qa_reason_needed")
    doc = session.get(Document, doc_id)
    if doc is None:
        raise NotFound(what=f"document {doc_id}")
    check = session.exec(select(QaCheck).where(col(QaCheck.document_id) == doc_id)).first()
    if check is None:  # a reviewer may check a document outside any sample
        check = QaCheck(document_id=doc_id, sample_id="manual")
    check.result, check.reason = verdict, reason.strip()
    check.reviewer, check.marked_at = reviewer, utcnow()
    session.add(check)
    if doc.record_no:
        _mark_dirty(session, doc.record_no)
    session.flush()
    return check


def _mark_dirty(session: Session, record_no: str) -> None:
    if session.get(CoverageDirty, record_no) is None:
        session.add(CoverageDirty(record_no=record_no))


def pending(session: Session, sample_id: str | None = None, scope: Scope = EVERYTHING
            ) -> list[dict[str, Any]]:
    """Documents waiting for a verdict (of one sample, or all; of those ``scope`` sees),
    with what the register says the paper holds (题名, expected pages) so the reviewer can
    judge completeness."""
    stmt = (select(QaCheck, Document, PaperRecord)
            .join(Document, col(Document.id) == col(QaCheck.document_id))
            .outerjoin(PaperRecord, col(PaperRecord.record_no) == col(Document.record_no))
            .where(col(QaCheck.result) == "pending", scope.document_where())
            .order_by(col(QaCheck.document_id)))
    if sample_id is not None:
        stmt = stmt.where(col(QaCheck.sample_id) == sample_id)
    return [_row(q, d) | _register(r) for q, d, r in session.exec(stmt)]


def departments(session: Session) -> list[str]:
    """Departments a sample may be limited to (the register's and the documents' own)."""
    found = set(session.exec(select(PaperRecord.department).distinct()))
    found |= set(session.exec(select(Document.department).distinct()))
    return sorted(d for d in found if d)


def _register(r: PaperRecord | None) -> dict[str, Any]:
    return {"title": r.title if r else "", "expected_pages": r.expected_pages if r else None}


def report(session: Session) -> dict[str, Any]:
    """Counts, pass rate over marked checks, and the failures with where the paper is."""
    counts = dict(session.exec(select(QaCheck.result, func.count()).group_by(
        col(QaCheck.result))).all())
    passed, failed = counts.get("pass", 0), counts.get("fail", 0)
    marked = passed + failed
    stmt = (select(QaCheck, Document).join(Document, col(Document.id) == col(QaCheck.document_id))
            .where(col(QaCheck.result) == "fail").order_by(col(QaCheck.document_id)))
    return {
        "sampled": marked + counts.get("pending", 0), "pending": counts.get("pending", 0),
        "passed": passed, "failed": failed,
        "pass_rate": round(100.0 * passed / marked, 1) if marked else None,
        "failures": [_row(q, d) for q, d in session.exec(stmt)],
    }


def _row(q: QaCheck, d: Document) -> dict[str, Any]:
    return {"document_id": d.id, "original_name": d.original_name, "record_no": d.record_no,
            "client_id": d.client_id, "result": q.result, "reason": q.reason,
            "reviewer": q.reviewer, "sample_id": q.sample_id, "warnings": d.warnings,
            "page_count": d.page_count or 1}
