"""Verifying the audit chain on demand, for the CLI (``audit verify``) and the web's
"verify now": the HMAC chain, then both anchors kept outside the database, and only an
intact chain moves the object-store anchor forward."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from papervault.index.accounts import anchor, audit
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import AuditEntry, utcnow
from papervault.storage.objects import ObjectStore

SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class ChainStatus:
    """The outcome of one verification: problems (empty when intact) and when it ran."""

    problems: tuple[str, ...]
    checked_at: datetime
    entries: int

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_now(engine: Engine, store: ObjectStore, key: bytes, local_anchor: Path,
               actor: str, origin: str | None = None) -> ChainStatus:
    """Check the chain and its anchors, record ``audit.verify`` by ``actor``, and on an
    intact chain write the new head to the object store."""
    anchors = {"local": anchor.read_local(local_anchor, key)}
    raw = store.audit_checkpoint()
    anchors["object store"] = (anchor.parse(raw, key) or anchor.FORGED) if raw else None
    with session_scope(engine) as session:
        problems = audit.verify_chain(session, key)
        problems += anchor.check(session, {k: v for k, v in anchors.items() if v})
        head = anchor.head(session, key)
    with session_scope(engine) as session:
        audit.record(session, key, actor, "audit.verify", "audit",
                     # The first problems kept in the entry, so the page shows what the
                     # last check found after its redirect.
                     {"problems": len(problems), "found": problems[:SHOWN_PROBLEMS]}, origin)
    if not problems:
        # Only an intact chain moves the anchors forward (the local one already follows
        # every commit; the object store keeps each checkpoint as a version).
        with session_scope(engine) as session:
            cp = anchor.head(session, key)
        if cp is not None:
            store.put_audit_checkpoint(anchor.to_bytes(cp))
    return ChainStatus(tuple(problems), utcnow(), head.count if head else 0)


@dataclass(frozen=True)
class LastCheck:
    at: datetime
    problems: int
    found: tuple[str, ...]


def last_verification(engine: Engine) -> LastCheck | None:
    """When the chain was last verified and what that found (None: never)."""
    with session_scope(engine) as session:
        e = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "audit.verify")
                         .order_by(col(AuditEntry.id).desc()).limit(1)).first()
        if e is None:
            return None
        detail = json.loads(e.detail or "{}")
        return LastCheck(e.at, int(detail.get("problems", 0)),
                         tuple(str(p) for p in detail.get("found", [])))
