"""Today's intake for the scanning staff: each dropped file with what became of it.

Read from the index only (ingest events, the documents they made, their OCR jobs), so the
web page and the CLI show the same thing. Paths are shown relative to the inbox: the
clerk knows the share, not the server's folders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from papervault.index.accounts.scope import EVERYTHING, Scope
from papervault.index.catalog.models import Document, IngestEvent, Job


@dataclass(frozen=True)
class IntakeRow:
    """One dropped file. ``status``: stored | ocr_pending | ocr_running | read |
    partly_read | ocr_failed | duplicate | quarantined | retry | vanished."""

    event_id: int
    at: datetime
    path: str
    status: str
    reason: dict[str, str] = field(default_factory=dict)  # {"zh": …, "en": …}
    moved_to: str | None = None  # quarantine folder, relative to the instance
    document_id: int | None = None
    duplicate_of: str | None = None  # the earlier document's file name
    duplicate_at: datetime | None = None
    client_id: str | None = None
    record_no: str | None = None
    link_state: str | None = None
    pages: int | None = None
    parts: int = 0
    warnings: list[dict[str, object]] = field(default_factory=list)


def day_start(zone: str, now: datetime | None = None) -> datetime:
    """Midnight of today in the office's zone, as a UTC time."""
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    return datetime.combine(local.date(), time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def relative(path: str, inbox: Path) -> str:
    """``path`` below the inbox as the clerk sees it; the bare name if it is not below."""
    p = Path(path)
    for root in (inbox, inbox.resolve()):
        try:
            return PurePosixPath(p.relative_to(root)).as_posix()
        except ValueError:
            continue
    return p.name


def split_reason(reason: str | None) -> dict[str, str]:
    """The capture writes reasons as ``"<zh> / <en>"``; each UI shows only its half.

    A reason with no pair (a transient English note such as "file changed while being
    stored") is shown as it is in both languages."""
    if not reason:
        return {}
    zh, sep, en = reason.partition(" / ")
    if not sep:
        return {"zh": reason, "en": reason}
    return {"zh": zh.strip(), "en": en.strip()}


def _status(doc: Document, job: Job | None) -> str:
    if doc.state == "indexed":
        return "read"
    if doc.state in ("partly_read", "ocr_failed"):
        return doc.state
    if job is not None and job.state == "running":
        return "ocr_running"
    return "ocr_pending"


def intake_since(session: Session, since: datetime, inbox: Path, quarantine: Path,
                 home: Path, limit: int = 200, scope: Scope = EVERYTHING) -> list[IntakeRow]:
    """Files dropped since ``since`` (UTC), newest first; for a limited ``scope`` only the
    files whose document it sees (a file name is content too: tiers).

    A file retried and then stored shows once, with its final outcome: earlier "retry"
    events of the same path are dropped when a later event exists for it."""
    events = session.exec(
        select(IngestEvent).where(col(IngestEvent.at) >= since)
        .order_by(col(IngestEvent.id).desc()).limit(limit * 4)
    ).all()
    doc_ids = {e.document_id for e in events if e.document_id is not None}
    docs = {d.id: d for d in session.exec(
        select(Document).where(col(Document.id).in_(doc_ids)))} if doc_ids else {}
    jobs: dict[int, Job] = {}
    parts: dict[int, int] = {}
    if doc_ids:
        for j in session.exec(select(Job).where(col(Job.document_id).in_(doc_ids))
                              .order_by(col(Job.id))):
            jobs[j.document_id] = j
        for child in session.exec(select(Document.parent_id)
                                  .where(col(Document.parent_id).in_(doc_ids))):
            if child is not None:
                parts[child] = parts.get(child, 0) + 1
    rel_q = relative(str(quarantine), home) if quarantine.is_relative_to(home) else quarantine.name
    seen: set[str] = set()
    rows: list[IntakeRow] = []
    for e in events:
        if e.outcome in ("retry", "vanished") and e.path in seen:
            continue
        if not scope.unrestricted:
            doc = docs.get(e.document_id)
            if doc is None or not scope.sees_document(doc):
                continue
        seen.add(e.path)
        rows.append(_row(e, relative(e.path, inbox), docs, jobs, parts, rel_q))
        if len(rows) >= limit:
            break
    return rows


def _row(e: IngestEvent, path: str, docs: dict[int | None, Document], jobs: dict[int, Job],
         parts: dict[int, int], rel_q: str) -> IntakeRow:
    assert e.id is not None
    base = IntakeRow(event_id=e.id, at=e.at, path=path, status=e.outcome,
                     reason=split_reason(e.reason), document_id=e.document_id)
    if e.outcome == "quarantined":
        folder = PurePosixPath(path).parent
        where = PurePosixPath(rel_q) / folder if str(folder) != "." else PurePosixPath(rel_q)
        return replace(base, moved_to=f"{where.as_posix()}/")
    doc = docs.get(e.document_id)
    if e.outcome == "duplicate" and doc is not None:
        return replace(base, duplicate_of=doc.original_name, duplicate_at=doc.ingested_at)
    if e.outcome == "stored" and doc is not None and doc.id is not None:
        return replace(
            base, status=_status(doc, jobs.get(doc.id)), client_id=doc.client_id,
            record_no=doc.record_no, link_state=doc.link_state, pages=doc.page_count,
            parts=parts.get(doc.id, 0), warnings=json.loads(doc.warnings or "[]"))
    return base


def counts(rows: list[IntakeRow]) -> dict[str, int]:
    """How many of today's files are in each status (the page's summary line)."""
    out: dict[str, int] = {}
    for r in rows:
        out[r.status] = out.get(r.status, 0) + 1
    return out
