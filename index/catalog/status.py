"""Counts for ``papervault status``: documents by state, queue depth, last errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from papervault.index.catalog.models import Document, IngestEvent, Job


def _group(session: Session, column: Any) -> dict[str, int]:
    rows = session.exec(select(column, func.count()).group_by(column)).all()
    return {str(k): int(v) for k, v in rows}


def status(session: Session, last: int = 10) -> dict[str, Any]:
    """A JSON-ready summary of the archive and the queue."""
    docs = _group(session, Document.state)
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
    return {
        "documents": {
            "total": sum(docs.values()),
            "by_state": docs,
            "by_link": _group(session, Document.link_state),
            "by_verification": _group(session, Document.verify_state),
        },
        "intake": _group(session, IngestEvent.outcome),
        "queue": {"depth": jobs.get("queued", 0) + jobs.get("running", 0), "by_state": jobs},
        "last_errors": [
            {"at": e.at.isoformat(), "file": e.path, "outcome": e.outcome, "reason": e.reason}
            for e in errors
        ],
        "job_errors": [
            {"job": j.id, "document": j.document_id, "state": j.state, "attempts": j.attempts,
             "error": j.last_error}
            for j in failed_jobs
        ],
    }
