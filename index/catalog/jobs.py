"""The OCR job queue in the index: claims under a lease, so two workers never take
the same job and a dead worker's job returns to the queue when its lease runs out.

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``; SQLite serialises writers, so one
``UPDATE … WHERE id = (SELECT …)`` statement is already atomic there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Job, WorkerBeat, utcnow


@dataclass(frozen=True)
class Claim:
    """A job this worker holds until ``lease_seconds`` pass without a heartbeat."""

    job_id: int
    document_id: int
    attempts: int


# Set when this process commits a job: a worker in the same process (``papervault up``:
# the watcher's capture) takes it at once instead of at its next poll, up to half a
# second later, with both cores idle. Workers elsewhere poll as before.
_QUEUED = threading.Event()


def enqueue(session: Session, document_id: int, kind: str = "ocr") -> Job:
    """Queue a job for a document (inside the caller's transaction)."""
    job = Job(document_id=document_id, kind=kind)
    session.add(job)
    event.listen(session, "after_commit", _wake, once=True)
    return job


def _wake(_session: Session) -> None:
    _QUEUED.set()


def wait_for_work(seconds: float) -> bool:
    """Sleep until this process queues a job (True), or ``seconds`` pass."""
    if _QUEUED.wait(seconds):
        _QUEUED.clear()
        return True
    return False


def claim(engine: Engine, worker: str, lease_seconds: float, kind: str = "ocr") -> Claim | None:
    """Take the oldest runnable job, or a running one whose lease has expired."""
    now = utcnow()
    runnable = or_(
        and_(col(Job.state) == "queued", col(Job.not_before) <= now),
        and_(col(Job.state) == "running", col(Job.lease_until) < now),
    )
    pick = (
        select(col(Job.id)).where(runnable, col(Job.kind) == kind).order_by(col(Job.id)).limit(1)
    )
    if engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Job)
        .where(col(Job.id) == pick.scalar_subquery(), runnable)
        .values(
            state="running",
            worker=worker,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=col(Job.attempts) + 1,
            updated_at=now,
        )
        .returning(col(Job.id), col(Job.document_id), col(Job.attempts))
    )
    with session_scope(engine) as s:
        row = s.execute(stmt).first()
    if row is None:
        return None
    return Claim(job_id=row[0], document_id=row[1], attempts=row[2])


def heartbeat(engine: Engine, claim_: Claim, worker: str, lease_seconds: float) -> bool:
    """Extend the lease; False when another worker has taken the job over."""
    now = utcnow()
    stmt = (
        update(Job)
        .where(col(Job.id) == claim_.job_id, col(Job.worker) == worker,
               col(Job.state) == "running")
        .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
    )
    with session_scope(engine) as s:
        return bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]


def finish(session: Session, claim_: Claim, worker: str) -> bool:
    """Mark done in the caller's transaction; False if the lease was lost meanwhile."""
    stmt = (
        update(Job)
        .where(col(Job.id) == claim_.job_id, col(Job.worker) == worker,
               col(Job.state) == "running")
        .values(state="done", lease_until=None, updated_at=utcnow(), last_error=None)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def release(
    engine: Engine, claim_: Claim, worker: str, error: str | None, *, retry_in: float | None,
) -> None:
    """Hand a job back: queued again after ``retry_in`` seconds, or failed for good."""
    now = utcnow()
    values: dict[str, object] = {"lease_until": None, "updated_at": now, "last_error": error}
    if retry_in is None:
        values["state"] = "failed"
    else:
        values.update(state="queued", not_before=now + timedelta(seconds=retry_in))
    stmt = (
        update(Job)
        .where(col(Job.id) == claim_.job_id, col(Job.worker) == worker)
        .values(**values)
    )
    with session_scope(engine) as s:
        s.execute(stmt)


def release_worker(engine: Engine, worker: str) -> int:
    """On clean shutdown: give back every job this worker still holds."""
    stmt = (
        update(Job)
        .where(col(Job.worker) == worker, col(Job.state) == "running")
        .values(state="queued", lease_until=None, updated_at=utcnow(),
                attempts=col(Job.attempts) - 1)
    )
    with session_scope(engine) as s:
        return int(s.execute(stmt).rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Waiting:
    """Jobs queued for a retry that is not due yet: how many, and when the first one is."""

    count: int
    first_at: datetime | None


def waiting(engine: Engine, kind: str = "ocr") -> Waiting:
    """What a drained queue still holds (``worker --drain`` must not call that empty)."""
    stmt = select(func.count(), func.min(col(Job.not_before))).where(
        col(Job.kind) == kind, col(Job.state).in_(["queued", "running"]))
    with session_scope(engine) as s:
        count, first = s.execute(stmt).one()
    return Waiting(int(count), first)


def requeue(session: Session, *, failed: bool, kind: str = "ocr") -> list[int]:
    """Make waiting jobs runnable now; with ``failed``, failed jobs too (attempts reset).
    Returns the documents whose jobs were queued."""
    states = ["queued", "failed"] if failed else ["queued"]
    stmt = (
        update(Job)
        .where(col(Job.kind) == kind, col(Job.state).in_(states))
        .values(state="queued", not_before=utcnow(), attempts=0, updated_at=utcnow())
        .returning(col(Job.document_id))
    )
    return [row[0] for row in session.execute(stmt)]


def beat(engine: Engine, worker: str) -> None:
    """Record that ``worker`` is alive now (idle or busy)."""
    with session_scope(engine) as s:
        row = s.get(WorkerBeat, worker)
        if row is None:
            s.add(WorkerBeat(name=worker, seen_at=utcnow()))
        else:
            row.seen_at = utcnow()


def last_beat(engine: Engine) -> datetime | None:
    """The freshest heartbeat of any worker, or None if none ever beat."""
    with session_scope(engine) as s:
        # ORDER BY, not max(): an aggregate loses the column's UTC type on SQLite.
        stmt = select(col(WorkerBeat.seen_at)).order_by(col(WorkerBeat.seen_at).desc()).limit(1)
        seen: datetime | None = s.execute(stmt).scalar()
        return seen


def forget_worker(engine: Engine, worker: str) -> None:
    """On clean shutdown: a stopped worker is not a live one."""
    with session_scope(engine) as s:
        row = s.get(WorkerBeat, worker)
        if row is not None:
            s.delete(row)
