"""Counts for ``papervault status``: documents by state, queue depth, last errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from papervault.index.accounts.scope import Scope
from papervault.index.catalog.models import Document, IngestEvent, Job, Page


def _group(session: Session, column: Any, where: Any = None) -> dict[str, int]:
    stmt = select(column, func.count())
    if where is not None:
        stmt = stmt.where(where)
    rows = session.exec(stmt.group_by(column)).all()
    return {str(k): int(v) for k, v in rows}


def status(session: Session, scope: Scope, last: int = 10) -> dict[str, Any]:
    """A JSON-ready summary of the archive and the queue, as far as ``scope`` sees it.

    Counts by state are of the scope's departments at every 密级: a tally says nothing of
    what a document holds, and scanning staff (who handle every paper) must see their whole
    queue. Named files (OCR failures) follow the full scope; intake errors and job errors
    name scans that belong to no department yet, so only an unscoped user sees them."""
    seen = scope.departments_only().document_where()
    docs = _group(session, Document.state, seen)
    jobs = _group(session, Job.state)
    errors = session.exec(
        select(IngestEvent)
        .where(col(IngestEvent.outcome).in_(["quarantined", "retry", "vanished"]))
        .order_by(col(IngestEvent.id).desc())
        .limit(last)
    ).all()
    failed_jobs = session.exec(
        select(Job).where(col(Job.last_error).is_not(None))
        .order_by(col(Job.updated_at).desc()).limit(last)
    ).all()
    if scope.departments is not None:
        errors, failed_jobs = [], []
    return {
        "documents": {
            "total": sum(docs.values()),
            "by_state": docs,
            "by_link": _group(session, Document.link_state, seen),
            "by_verification": _group(session, Document.verify_state, seen),
        },
        "intake": _group(session, IngestEvent.outcome),
        "queue": {"depth": jobs.get("queued", 0) + jobs.get("running", 0), "by_state": jobs},
        "last_errors": [
            {"at": e.at.isoformat(), "file": e.path, "outcome": e.outcome, "reason": e.reason}
            for e in errors
        ],
        "ocr_failures": ocr_failures(session, scope, last),
        "job_errors": [
            {"job": j.id, "document": j.document_id, "state": j.state, "attempts": j.attempts,
             "error": j.last_error}
            for j in failed_jobs
        ],
    }


def ocr_failures(session: Session, scope: Scope, last: int = 10) -> list[dict[str, Any]]:
    """Documents OCR could not read, in full or in part, each with its reasons (per page
    where a page was at fault, else the job's): beside the intake errors in status."""
    docs = session.exec(
        select(Document).where(col(Document.state).in_(["ocr_failed", "partly_read"]),
                               scope.document_where())
        .order_by(col(Document.id).desc()).limit(last)
    ).all()
    out: list[dict[str, Any]] = []
    for d in docs:
        reasons = [p.failure for p in session.exec(
            select(Page).where(col(Page.document_id) == d.id, col(Page.failure).is_not(None))
            .order_by(col(Page.page_no)))]
        if not reasons:
            job = session.exec(select(Job).where(col(Job.document_id) == d.id)
                               .order_by(col(Job.id).desc())).first()
            reasons = [job.last_error] if job is not None and job.last_error else []
        out.append({"document": d.id, "file": d.original_name, "state": d.state,
                    "reasons": reasons})
    return out
