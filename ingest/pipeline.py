"""Capture: durability first. A dropped file becomes an encrypted, verified object and a
row in the index before its source leaves the inbox.

    triage → fingerprint → duplicate? → seal + upload → verify → record → remove source

Expected outcomes are values (:class:`Stored`, :class:`Duplicate`, :class:`Quarantined`,
:class:`Retry`, :class:`Vanished`); only programming errors escape as exceptions.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from papervault.config.errors import TransientError
from papervault.config.messages import text
from papervault.index.catalog import documents
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, Verification, utcnow
from papervault.index.integrity import recovery
from papervault.ingest.errors import Rejected
from papervault.ingest.inbox import Entry, locate, open_target_dir
from papervault.ingest.quarantine import display_name, quarantine
from papervault.ingest.stages.fingerprint import sha256_file
from papervault.ingest.stages.triage import Limits, triage
from papervault.storage.errors import DiskFull, IntegrityError
from papervault.storage.objects import ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    path: str
    sha256: str
    document_id: int
    outcome: str = "stored"


@dataclass(frozen=True)
class Duplicate:
    path: str
    sha256: str
    document_id: int
    outcome: str = "duplicate"


@dataclass(frozen=True)
class Quarantined:
    path: str
    reason_code: str
    reason: str
    sha256: str | None = None
    moved_to: str | None = None
    outcome: str = "quarantined"


@dataclass(frozen=True)
class Retry:
    """Transient trouble: the source stays where it is and is tried again later."""

    path: str
    reason: str
    sha256: str | None = None
    outcome: str = "retry"


@dataclass(frozen=True)
class Vanished:
    """The source was removed (by a person or the scanner) before it was stored: nothing was
    archived, nothing is quarantined, and there is nothing left to retry."""

    path: str
    reason: str
    sha256: str | None = None
    outcome: str = "vanished"


Outcome = Stored | Duplicate | Quarantined | Retry | Vanished


@dataclass(frozen=True)
class CaptureContext:
    engine: Engine
    store: ObjectStore
    limits: Limits
    inbox: Path
    quarantine_dir: Path
    done_dir: Path
    after_store: str = "delete"
    extra_ignored: frozenset[str] = field(default_factory=frozenset)


def capture(path: Path, ctx: CaptureContext) -> Outcome:
    """Take one file from the inbox into the archive, or say why not."""
    name = display_name(path)
    try:
        entry = locate(ctx.inbox, path)
    except Rejected as e:  # not below the inbox at all: nothing there is ours to move
        return Quarantined(name, e.key, e.message("zh"))
    except FileNotFoundError:
        return _vanished(ctx, name, None)
    except NotADirectoryError:
        return _vanished(ctx, name, None)
    except OSError as e:
        return _retry(ctx, name, f"{type(e).__name__}: {e.strerror}", None)
    with entry:
        return _capture(entry, path, ctx)


def _capture(entry: Entry, path: Path, ctx: CaptureContext) -> Outcome:
    name = display_name(path)
    sha: str | None = None
    try:
        triaged = triage(entry, ctx.limits)
        with entry.reader() as f:
            sha = sha256_file(f)
        if not entry.still_here():
            # Removed or replaced after it was opened: the bytes read are not what the
            # inbox holds now, so nothing is stored (and nothing there is touched).
            return _vanished(ctx, name, sha)
        with session_scope(ctx.engine) as s:
            existing = documents.find_by_sha(s, sha)
            if existing is not None:
                assert existing.id is not None
                documents.record_event(s, name, "duplicate", sha, existing.id)
                dup = Duplicate(name, sha, existing.id)
        if existing is not None:
            _dispose(entry, ctx)
            return dup
        original_name, folder = display_name(Path(entry.name)), _folder(entry)
        now = utcnow()
        with entry.reader() as f:
            obj = ctx.store.put_file(f, details=recovery.capture_details(
                original_name, folder, triaged.media_type, triaged.pages, now))
        if obj.sha256 != sha:
            # The scanner is still writing: try again once the file has settled. The copy
            # of the half-written file must not be restorable by ``papervault recover``.
            _abandon(ctx, obj.name)
            return _retry(ctx, name, "file changed while being stored", sha)
        try:
            ctx.store.verify(obj.name, obj.wrapped, sha)
        except IntegrityError:
            _abandon(ctx, obj.name)
            raise
        doc = Document(
            sha256=sha, size=triaged.size, original_name=original_name,
            source_folder=folder, media_type=triaged.media_type,
            page_count=triaged.pages, object_name=obj.name, object_size=obj.size,
            wrapped_key=obj.wrapped.blob, key_id=obj.wrapped.key_id,
            ingested_at=now, verify_state="verified", verified_at=utcnow(),
        )
        with session_scope(ctx.engine) as s:
            documents.add_document(s, doc)
            assert doc.id is not None
            s.add(Verification(document_id=doc.id, object_name=obj.name, ok=True,
                               detail="read back and checked at capture"))
            documents.record_event(s, name, "stored", sha, doc.id)
        assert doc.id is not None
        _dispose(entry, ctx)
        return Stored(name, sha, doc.id)
    except Rejected as e:
        return _quarantine(entry, path, ctx, e.key, e.params, sha)
    except FileNotFoundError:
        if os.path.lexists(path):  # something else is missing (the staging folder?)
            return _retry(ctx, name, "a working folder is missing", sha)
        return _vanished(ctx, name, sha)
    except (TransientError, IntegrityError) as e:
        # A failed read-back is the store's fault, not the file's: keep it and retry.
        return _retry(ctx, name, e.message("en"), sha)
    except SQLAlchemyError as e:
        log.warning("database error storing %s: %r", name, e)  # the class name: for the log
        return _retry(ctx, name, "the database is busy or unreachable", sha)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            return _retry(ctx, name, DiskFull().message("en"), sha)
        if e.errno in (errno.EACCES, errno.EPERM):
            return _quarantine(entry, path, ctx, "unreadable", {}, sha)
        log.warning("file system error on %s: %r", name, e)
        return _retry(ctx, name, f"file system: {e.strerror or 'error'}", sha)


def _abandon(ctx: CaptureContext, object_name: str) -> None:
    """Best effort: remove an upload that will not be recorded (the orphan sweep catches
    what this cannot)."""
    try:
        ctx.store.delete(object_name)
    except TransientError:
        log.warning("could not remove abandoned upload %s; orphans delete will", object_name)


def _folder(entry: Entry) -> str:
    return "" if entry.folder == Path() else display_name(entry.folder)


def _dispose(entry: Entry, ctx: CaptureContext) -> None:
    """Remove the source only now that its copy is stored and verified (or a duplicate),
    through its folder's descriptor, and only while the name is still that file inside
    the inbox: a folder swapped for a link must not make us delete or move anything else."""
    if not entry.still_here():
        log.warning("%s was replaced or moved after it was stored; left where it is",
                    display_name(Path(entry.name)))
        return
    if ctx.after_store != "move":
        os.unlink(entry.name, dir_fd=entry.dir_fd)
        return
    done_fd = open_target_dir(ctx.done_dir, entry.folder)
    try:
        try:
            os.rename(entry.name, entry.name, src_dir_fd=entry.dir_fd, dst_dir_fd=done_fd)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            # The inbox is a share mounted elsewhere: copy through the open descriptor.
            out = os.open(entry.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                          0o600, dir_fd=done_fd)
            with entry.reader() as src, os.fdopen(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.unlink(entry.name, dir_fd=entry.dir_fd)
    finally:
        os.close(done_fd)


def _record(ctx: CaptureContext, name: str, outcome: str, sha: str | None, reason: str) -> None:
    """Best effort: the event explains the outcome, it does not decide it."""
    log.warning("%s %s: %s", outcome, name, reason)
    try:
        with session_scope(ctx.engine) as s:
            documents.record_event(s, name, outcome, sha, reason=reason)
    except (TransientError, SQLAlchemyError):
        log.warning("could not record the %s event of %s", outcome, name)


def _both(key: str, params: dict[str, object]) -> str:
    """A reason as the status page and ``papervault status`` show it: the scanning staff's
    Chinese first, then English, as the rest of the UI pairs them."""
    return f"{text(key, 'zh', **params)} / {text(key, 'en', **params)}"


def _retry(ctx: CaptureContext, name: str, reason: str, sha: str | None) -> Retry:
    _record(ctx, name, "retry", sha, reason)
    return Retry(name, reason, sha)


def _vanished(ctx: CaptureContext, name: str, sha: str | None) -> Vanished:
    _record(ctx, name, "vanished", sha, _both("file_vanished", {}))
    return Vanished(name, text("file_vanished", "zh"), sha)


def _quarantine(
    entry: Entry, path: Path, ctx: CaptureContext, key: str, params: dict[str, object],
    sha: str | None,
) -> Outcome:
    name = display_name(path)
    try:
        target = quarantine(entry, ctx.quarantine_dir, key, params, sha)
    except FileNotFoundError:
        if os.path.lexists(path):
            return _retry(ctx, name, "the quarantine folder is missing", sha)
        return _vanished(ctx, name, sha)
    except OSError as e:
        return _retry(ctx, name, f"cannot move to quarantine: {e.strerror}", sha)
    if target is None:  # the folder left the inbox: nothing of ours to move
        return _vanished(ctx, name, sha)
    err = Rejected(key, **params)
    try:
        with session_scope(ctx.engine) as s:
            documents.record_event(s, name, "quarantined", sha, reason=_both(key, params))
    except (TransientError, SQLAlchemyError):
        log.warning("quarantined %s but could not record it", name)
    return Quarantined(name, key, err.message("zh"), sha, display_name(target))
