"""The audit trail: append-only, each entry chained to the previous one by a hash.

The chain makes edits, insertions and deletions detectable (``papervault audit verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, text
from sqlmodel import Session, col, select

from papervault.config.errors import PapervaultError
from papervault.index import csvcells
from papervault.index.accounts import anchor
from papervault.index.catalog.models import AuditEntry, utcnow

CHAIN_LOCK = 0x7076_6175_6469_74  # "pvaudit": the advisory lock id of the chain


def _digest(key: bytes, prev: str, at: datetime, actor: str, action: str, target: str,
            detail: str, origin: str) -> str:
    payload = json.dumps(
        [prev, at.isoformat(timespec="microseconds"), actor, action, target, detail, origin],
        ensure_ascii=False,
    ).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def cli_origin() -> str:
    """Where a command-line action came from: this machine and its OS account."""
    import getpass
    import socket

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = f"uid {os.getuid()}"
    return f"cli {who}@{socket.gethostname()}"[:128]


def lock_chain(session: Session) -> None:
    """Serialise appends so two writers never chain to the same predecessor.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write statement first, which
    takes the database write lock before the last entry is read.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    elif dialect == "sqlite":
        session.connection().execute(text("UPDATE auditentry SET id = id WHERE id < 0"))


def record(session: Session, key: bytes, actor: str, action: str, target: str = "",
           detail: dict[str, object] | None = None, origin: str | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction."""
    origin = origin or cli_origin()
    lock_chain(session)
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    prev = last.hash if last is not None else ""
    at = utcnow()
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    entry = AuditEntry(at=at, actor=actor[:128], action=action, target=target[:512],
                       detail=body, origin=origin[:128], prev_hash=prev)
    entry.hash = _digest(key, prev, at, entry.actor, action, entry.target, body, entry.origin)
    session.add(entry)
    session.flush()
    anchor.note_append(session, entry)
    return entry


def verify_chain(session: Session, key: bytes) -> list[str]:
    """Problems found in the chain, one sentence each; empty when it is intact."""
    problems: list[str] = []
    prev = ""
    prev_id = 0
    for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))):
        assert e.id is not None
        if e.id != prev_id + 1 and prev_id:
            problems.append(f"entries {prev_id + 1}..{e.id - 1} are missing (deleted)")
        if e.prev_hash != prev:
            problems.append(
                f"entry {e.id}: does not follow entry {prev_id} (inserted or reordered)"
            )
        at = e.at
        want = _digest(key, e.prev_hash, at, e.actor, e.action, e.target, e.detail, e.origin)
        if not hmac.compare_digest(want, e.hash):
            problems.append(f"entry {e.id}: content was changed")
        prev, prev_id = e.hash, e.id
    return problems


def load_audit_key(path: Path) -> bytes:
    """An HMAC key from its file (0600, beside the master key), made on first use: the
    chain's, and likewise the session and PI keys."""
    import os
    import secrets

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class LogFilter:
    """What an auditor asks of the trail; every field optional."""

    actor: str | None = None
    action: str | None = None       # exact, or a prefix ending in "." ("login.")
    target: str | None = None
    client_id: str | None = None    # every entry about the client or one of their documents
    # Who really acted (review M7): "cli root@host" names the OS account behind a CLI
    # entry whatever actor it claimed; a prefix such as "cli " or "web 10.0.".
    origin: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def params(self) -> dict[str, object]:
        out = {"actor": self.actor, "action": self.action, "target": self.target,
               "client_id": self.client_id, "origin": self.origin,
               "since": self.since.date().isoformat() if self.since else None,
               "until": self.until.date().isoformat() if self.until else None}
        return {k: v for k, v in out.items() if v}


def _where(session: Session, flt: LogFilter) -> list[Any]:
    from papervault.index.catalog.models import Document

    conds: list[Any] = []
    if flt.actor:
        conds.append(AuditEntry.actor == flt.actor)
    if flt.action:
        if flt.action.endswith("."):
            conds.append(col(AuditEntry.action).startswith(flt.action))
        else:
            conds.append(AuditEntry.action == flt.action)
    if flt.target:
        conds.append(AuditEntry.target == flt.target)
    if flt.origin:
        conds.append(col(AuditEntry.origin).startswith(flt.origin))
    if flt.client_id:
        ids = session.exec(select(Document.id).where(Document.client_id == flt.client_id)).all()
        targets = [f"client:{flt.client_id}", *(f"document:{i}" for i in ids)]
        # Searches whose snippets showed the client's documents name the client (M9).
        shown = json.dumps(flt.client_id, ensure_ascii=False)
        conds.append(or_(col(AuditEntry.target).in_(targets),
                         and_(col(AuditEntry.action) == "search",
                              col(AuditEntry.detail).contains(shown))))
    if flt.since:
        conds.append(col(AuditEntry.at) >= flt.since)
    if flt.until:
        conds.append(col(AuditEntry.at) < flt.until)
    return conds


def entries(session: Session, flt: LogFilter, limit: int = 200,
            offset: int = 0) -> list[AuditEntry]:
    """Matching entries, newest first."""
    q = select(AuditEntry).where(*_where(session, flt)).order_by(col(AuditEntry.id).desc())
    return list(session.exec(q.offset(offset).limit(limit)))


def count(session: Session, flt: LogFilter) -> int:
    from sqlalchemy import func

    q = select(func.count()).select_from(AuditEntry).where(*_where(session, flt))
    return int(session.exec(q).one())


def entry_dict(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "target": e.target, "detail": json.loads(e.detail or "{}"), "origin": e.origin}


CSV_COLUMNS = ("id", "at_utc", "actor", "action", "target", "origin", "detail", "hash")


def entries_csv(session: Session, flt: LogFilter, limit: int = 1_000_000,
                header: Sequence[str] = CSV_COLUMNS) -> bytes:
    """The matching entries as CSV (UTF-8 with BOM so spreadsheet programs show Chinese).

    ``header``: the first row, one label per ``CSV_COLUMNS`` entry (the web page's
    language; the stable names by default)."""
    import csv
    import io

    assert len(header) == len(CSV_COLUMNS)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    q = select(AuditEntry).where(*_where(session, flt)).order_by(col(AuditEntry.id))
    for e in session.exec(q.limit(limit)):
        w.writerow(csvcells.row([e.id, e.at.isoformat(), e.actor, e.action, e.target,
                                 e.origin, e.detail, e.hash]))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


class AuditBroken(PapervaultError):
    """The audit chain does not verify: entries were edited, inserted or deleted."""

    exit_code = 6
    key = "audit_broken"
