"""The audit trail: append-only, each entry chained to the previous one by a hash.

The chain makes edits, insertions and deletions detectable (``papervault audit verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from index.models import AuditEntry, utcnow


def _digest(key: bytes, prev: str, at: datetime, actor: str, action: str, target: str,
            detail: str, origin: str) -> str:
    payload = json.dumps(
        [prev, at.isoformat(timespec="microseconds"), actor, action, target, detail, origin],
        ensure_ascii=False,
    ).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def record(session: Session, key: bytes, actor: str, action: str, target: str = "",
           detail: dict[str, object] | None = None, origin: str = "cli") -> AuditEntry:
    """Append one entry in the caller's transaction."""
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    prev = last.hash if last is not None else ""
    at = utcnow()
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    entry = AuditEntry(at=at, actor=actor, action=action, target=target, detail=text,
                       origin=origin, prev_hash=prev)
    entry.hash = _digest(key, prev, at, actor, action, target, text, origin)
    session.add(entry)
    session.flush()
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
    """The chain's HMAC key from its file (0600, beside the master key), made on first use."""
    import os
    import secrets

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
