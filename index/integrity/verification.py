"""Read stored originals back, decrypt them and compare their SHA-256 with the index.

A failed check (object missing, unreadable, wrong checksum, key that no longer unwraps) is
recorded and flips the document to ``failed``; an unreachable S3 server is not a failure of
the object, so the run stops and says so instead of flagging everything.

A good original's recovery record (``storage.records``) is checked too; one that is missing
or does not match the index is written again from the index, which is authoritative while
it exists: the record is there for the day it does not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, or_, select

from papervault.config.errors import PapervaultError, TransientError
from papervault.index.catalog import jobs
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, Job, Verification, utcnow
from papervault.index.integrity.recovery import details_of
from papervault.index.registers import retention
from papervault.storage.crypto import WrappedKey
from papervault.storage.objects import ObjectStore
from papervault.storage.records import record_name

# A new original's first lock is dated from its upload, the expected one from its
# ingest time, a moment later: not a short lock.
SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Selection:
    """Which documents a run checks: a random share, and/or those not checked lately."""

    sample: float = 1.0
    older_than_days: float | None = None
    seed: int | None = None


@dataclass
class RunResult:
    checked: int = 0
    ok: int = 0
    failed: list[int] = field(default_factory=list)
    records_rewritten: list[int] = field(default_factory=list)
    # Searchable PDFs missing or broken: OCR queued again, which rebuilds them (M3).
    searchable_regenerating: list[int] = field(default_factory=list)
    interrupted: str | None = None  # why the run stopped early (S3 unreachable)
    # Originals (or recovery records) whose lock was missing or shorter than their
    # retain-until: put back (extended only). None: no lock checked (bucket unlocked/off).
    locks_reapplied: list[int] | None = None

    def as_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "ok": self.ok, "failed": len(self.failed),
                "failed_ids": self.failed[:200],
                "records_rewritten": len(self.records_rewritten),
                "records_rewritten_ids": self.records_rewritten[:200],
                "searchable_regenerating": len(self.searchable_regenerating),
                "searchable_regenerating_ids": self.searchable_regenerating[:200],
                "locks_checked": self.locks_reapplied is not None,
                "locks_reapplied": len(self.locks_reapplied or []),
                "locks_reapplied_ids": (self.locks_reapplied or [])[:200],
                "interrupted": self.interrupted}


def select_ids(engine: Engine, sel: Selection) -> list[int]:
    """Ids to check, least recently verified first."""
    if not 0 < sel.sample <= 1:
        from papervault.config.errors import BadInput

        raise BadInput(detail="--sample must be a fraction in (0, 1], e.g. 0.1")
    stmt = select(Document.id)
    if sel.older_than_days is not None:
        cutoff = utcnow() - timedelta(days=sel.older_than_days)
        stmt = stmt.where(or_(col(Document.verified_at).is_(None),
                              col(Document.verified_at) < cutoff))
    stmt = stmt.order_by(col(Document.verified_at).asc().nulls_first(), col(Document.id))
    with session_scope(engine) as s:
        ids = [i for i in s.exec(stmt) if i is not None]
    if sel.sample < 1 and ids:
        k = max(1, round(len(ids) * sel.sample))
        chosen = set(random.Random(sel.seed).sample(ids, k))
        ids = [i for i in ids if i in chosen]
    return ids


def record_matches(store: ObjectStore, doc: Document) -> bool:
    """Whether the original's recovery record opens and names the same file and key."""
    try:
        rec = store.read_record(doc.object_name)
    except TransientError:
        raise
    except PapervaultError:  # missing, tampered with, or under a key no longer held
        return False
    return (rec.details.get("sha256") == doc.sha256 and rec.wrapped.key_id == doc.key_id
            and rec.details.get("original_name") == doc.original_name)


def check_lock(engine: Engine, store: ObjectStore, doc: Document,
               defaults: retention.Defaults) -> str | None:
    """Compare the server's lock on an original and its recovery record with what its
    record asks (retain-until, or a legal hold for 永久); put back a missing or short one
    (only ever extended). Returns what was wrong, or None."""
    lock = store.active_lock()
    if lock is None or doc.parent_id is not None:  # split parts live in their batch
        return None
    with session_scope(engine) as s:
        keep = retention.for_document(s, doc, defaults, lock.until(doc.ingested_at))
    wrong: list[str] = []
    for obj in (doc.object_name, record_name(doc.object_name)):
        # The mode is not compared: a lock only grows, and an existing GOVERNANCE lock
        # is not turned into COMPLIANCE behind the office's back.
        until = store.retention_of(obj)[1]
        if keep.hold and not store.legal_hold_of(obj):
            wrong.append(f"{obj}: no legal hold (永久)")
        elif keep.until is not None and (until is None or until + SLACK < keep.until):
            wrong.append(f"{obj}: locked until {until.date() if until else 'never'}, "
                         f"needs {keep.until.date()}")
    if not wrong:
        return None
    store.retain(doc.object_name, None if keep.hold else keep.until)
    return "lock re-applied: " + "; ".join(wrong)


def verify_one(engine: Engine, store: ObjectStore, doc_id: int,
               rewritten: list[int] | None = None,
               regenerating: list[int] | None = None,
               defaults: retention.Defaults | None = None,
               relocked: list[int] | None = None) -> bool | None:
    """Check one document; True ok, False failed, None if it vanished from the index.
    A good original whose recovery record is wrong gets it rewritten (its id appended to
    ``rewritten``); a broken searchable PDF is rebuilt from it (id in ``regenerating``)."""
    with session_scope(engine) as s:
        doc = s.get(Document, doc_id)
    if doc is None:
        return None
    try:
        store.verify(doc.object_name, WrappedKey(doc.wrapped_key, doc.key_id), doc.sha256)
        ok, detail = True, ""
    except TransientError:
        raise
    except PapervaultError as e:  # IntegrityError, WrongKey: the copy cannot be trusted
        ok, detail = False, e.message("en")[:1024]
    if ok and doc.parent_id is None and not record_matches(store, doc):
        with session_scope(engine) as s:
            now_row = s.get(Document, doc_id)
            # A rotation since our read rewrote the record itself: ours would be stale.
            current = now_row is not None and (now_row.key_id, now_row.wrapped_key) == (
                doc.key_id, doc.wrapped_key)
        if current:
            store.write_record(doc.object_name, WrappedKey(doc.wrapped_key, doc.key_id),
                               details_of(doc))
            detail = "recovery record rewritten"
            if rewritten is not None:
                rewritten.append(doc_id)
    if ok and not searchable_ok(engine, store, doc) and regenerating is not None:
        regenerating.append(doc_id)
    if ok and defaults is not None:
        relock = check_lock(engine, store, doc, defaults)
        if relock is not None:
            detail = "; ".join(d for d in (detail, relock) if d)[:1024]
            if relocked is not None:
                relocked.append(doc_id)
    with session_scope(engine) as s:
        row = s.get(Document, doc_id)
        if row is None:
            return None
        now = utcnow()
        s.add(Verification(document_id=doc_id, object_name=doc.object_name, at=now, ok=ok,
                           detail=detail))
        row.verify_state = "verified" if ok else "failed"
        row.verified_at = now
        s.add(row)
    return ok


def searchable_ok(engine: Engine, store: ObjectStore, doc: Document) -> bool:
    """Check the searchable PDF too (thumbnails and its download read it): a missing or
    truncated one is recorded as a failed check and OCR is queued to rebuild it from the
    original, which is the backup and just passed its own check."""
    if not (doc.id is not None and doc.searchable_object_name and doc.searchable_wrapped_key
            and doc.searchable_key_id and doc.searchable_sha256):
        return True
    try:
        store.verify(doc.searchable_object_name,
                     WrappedKey(doc.searchable_wrapped_key, doc.searchable_key_id),
                     doc.searchable_sha256)
        return True
    except TransientError:
        raise
    except PapervaultError as e:
        detail = e.message("en")[:1024]
    with session_scope(engine) as s:
        s.add(Verification(document_id=doc.id, object_name=doc.searchable_object_name,
                           ok=False, detail=detail))
        if not s.exec(select(Job).where(
                col(Job.document_id) == doc.id,
                col(Job.state).in_(["queued", "running"]))).first():
            jobs.enqueue(s, doc.id)
    return False


def run(engine: Engine, store: ObjectStore, ids: list[int],
        progress: Callable[[int], None] = lambda _n: None,
        defaults: retention.Defaults | None = None) -> RunResult:
    """Verify ``ids`` in order; stops early (``interrupted``) when S3 is unreachable.
    With ``defaults`` (the retention settings) each original's lock is checked too."""
    result = RunResult()
    try:
        if defaults is not None and store.active_lock() is not None:
            result.locks_reapplied = []
    except TransientError as e:
        result.interrupted = e.message("en")
        return result
    for doc_id in ids:
        try:
            ok = verify_one(engine, store, doc_id, result.records_rewritten,
                            result.searchable_regenerating, defaults,
                            result.locks_reapplied)
        except TransientError as e:
            result.interrupted = e.message("en")
            break
        progress(1)
        if ok is None:
            continue
        result.checked += 1
        if ok:
            result.ok += 1
        else:
            result.failed.append(doc_id)
    return result


class VerifyFailed(PapervaultError):
    """Some stored copies failed their checksum or could not be read back."""

    exit_code = 4  # the same code as storage.errors.IntegrityError
    key = "verify_failures"
