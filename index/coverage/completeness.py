"""Completeness of client files: which document types each client and paper record must hold
(``completeness.departments``, or ``record_types`` by the type of the record's 题名), which
are present (a verified copy), which are missing, and which files are stale.

One service for the CLI, the client page and the dashboard. A copy counts as present
whatever its 密级: the checklist says that a file is complete, not what is in it, so a
机密 ID copy the reader may not open still ticks its line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from papervault.config.settings import CompletenessSettings
from papervault.index.accounts.scope import Scope
from papervault.index.catalog.doctypes import TypeRules, classify_text
from papervault.index.catalog.models import Client, Document, PaperRecord, utcnow

CHUNK = 500


@dataclass(frozen=True)
class Held:
    """What one client's (or record's) documents hold of one type."""

    verified: bool
    newest: datetime | None


@dataclass(frozen=True)
class FileCheck:
    """One client file or paper record against its checklist."""

    kind: str  # "client" | "record"
    key: str  # client ID or 档号
    client_id: str | None
    department: str | None
    required: tuple[str, ...]
    present: tuple[str, ...]  # a verified copy exists
    unverified: tuple[str, ...]  # stored, its checksum not yet verified
    missing: tuple[str, ...]
    stale: tuple[str, ...]  # "register" (row not confirmed lately), "documents" (newest old)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.unverified

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "client_id": self.client_id,
                "department": self.department, "required": list(self.required),
                "present": list(self.present), "unverified": list(self.unverified),
                "missing": list(self.missing), "stale": list(self.stale),
                "complete": self.complete}


@dataclass
class DepartmentTally:
    files: int = 0
    complete: int = 0
    missing: int = 0  # missing document types, summed
    stale: int = 0

    @property
    def percent(self) -> float:
        return round(100.0 * self.complete / self.files, 1) if self.files else 100.0


@dataclass
class Completeness:
    files: list[FileCheck] = field(default_factory=list)

    def by_department(self) -> dict[str, DepartmentTally]:
        """Client files per department (the dashboard's figure)."""
        out: dict[str, DepartmentTally] = {}
        for f in self.files:
            if f.kind != "client":
                continue
            t = out.setdefault(f.department or "", DepartmentTally())
            t.files += 1
            t.complete += f.complete
            t.missing += len(f.missing)
            t.stale += bool(f.stale)
        return dict(sorted(out.items()))

    def as_dict(self) -> dict[str, Any]:
        return {"files": [f.as_dict() for f in self.files],
                "departments": {d: {"files": t.files, "complete": t.complete,
                                    "missing": t.missing, "stale": t.stale,
                                    "percent": t.percent}
                                for d, t in self.by_department().items()}}

    def csv(self) -> bytes:
        from papervault.index import csvcells

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["kind", "key", "client_id", "department", "present", "unverified",
                    "missing", "stale", "complete"])
        for f in self.files:
            w.writerow(csvcells.row((
                f.kind, f.key, f.client_id or "", f.department or "", " ".join(f.present),
                " ".join(f.unverified), " ".join(f.missing), " ".join(f.stale),
                "yes" if f.complete else "no")))
        return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel reads it as UTF-8


def check(session: Session, cfg: CompletenessSettings, rules: TypeRules, scope: Scope,
          department: str | None = None, client_id: str | None = None,
          now: datetime | None = None) -> Completeness:
    """Every client file and paper record ``scope`` sees that has a checklist, optionally
    of one department or one client, against its checklist."""
    cutoff = (now or utcnow()) - timedelta(days=cfg.stale_days)
    out = Completeness()
    stmt = select(Client).where(scope.client_where()).order_by(col(Client.client_id))
    if department:
        stmt = stmt.where(Client.department == department)
    if client_id:
        stmt = stmt.where(Client.client_id == client_id)
    clients = [c for c in session.exec(stmt) if cfg.departments.get(c.department or "")]
    for part in _chunks(clients):
        held = _held(session, col(Document.client_id), [c.client_id for c in part])
        for c in part:
            out.files.append(_file("client", c.client_id, c.client_id, c.department,
                                   cfg.departments[c.department or ""],
                                   held.get(c.client_id, {}), c.updated_at, cutoff))
    out.files.extend(_records(session, cfg, rules, scope, department, client_id, cutoff))
    return out


def _records(session: Session, cfg: CompletenessSettings, rules: TypeRules, scope: Scope,
             department: str | None, client_id: str | None,
             cutoff: datetime) -> Iterator[FileCheck]:
    stmt = select(PaperRecord).where(scope.record_where()).order_by(col(PaperRecord.record_no))
    if client_id:
        stmt = stmt.where(PaperRecord.client_id == client_id)
    records = list(session.exec(stmt))
    owners = _client_departments(session, {r.client_id for r in records if r.client_id})
    wanted: list[tuple[PaperRecord, str | None, list[str]]] = []
    for r in records:
        dep = r.department or owners.get(r.client_id or "")
        if department and dep != department:
            continue
        kind = classify_text(r.title, rules) if r.title else None
        needs = cfg.record_types.get(kind or "") or cfg.departments.get(dep or "")
        if needs:
            wanted.append((r, dep, needs))
    for i in range(0, len(wanted), CHUNK):
        part = wanted[i: i + CHUNK]
        held = _held(session, col(Document.record_no), [r.record_no for r, _, _ in part])
        for r, dep, needs in part:
            yield _file("record", r.record_no, r.client_id, dep, needs,
                        held.get(r.record_no, {}), r.updated_at, cutoff)


def _file(kind: str, key: str, client_id: str | None, department: str | None,
          required: Iterable[str], held: dict[str, Held], updated_at: datetime,
          cutoff: datetime) -> FileCheck:
    need = tuple(dict.fromkeys(required))
    present = tuple(t for t in need if t in held and held[t].verified)
    unverified = tuple(t for t in need if t in held and not held[t].verified)
    missing = tuple(t for t in need if t not in held)
    stale: list[str] = []
    if _aware(updated_at) < cutoff:
        stale.append("register")
    newest = max((h.newest for h in held.values() if h.newest), default=None)
    if newest is not None and _aware(newest) < cutoff:
        stale.append("documents")
    return FileCheck(kind, key, client_id, department, need, present, unverified, missing,
                     tuple(stale))


def _held(session: Session, key: Any, values: list[str]) -> dict[str, dict[str, Held]]:
    """Per key value (client ID or 档号), per document type: verified?, newest copy."""
    if not values:
        return {}
    verified = func.max(case((col(Document.verify_state) == "verified", 1), else_=0))
    stmt = (select(key, col(Document.doc_type), verified, func.max(col(Document.ingested_at)))
            .where(key.in_(values), col(Document.doc_type).is_not(None))
            .group_by(key, col(Document.doc_type)))
    out: dict[str, dict[str, Held]] = {}
    for k, doc_type, ok, newest in session.exec(stmt):
        out.setdefault(k, {})[doc_type or ""] = Held(bool(ok), newest)
    return out


def _client_departments(session: Session, ids: set[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    listed = sorted(ids)
    for i in range(0, len(listed), CHUNK):
        stmt = select(Client.client_id, Client.department).where(
            col(Client.client_id).in_(listed[i: i + CHUNK]))
        out.update(dict(session.exec(stmt).all()))
    return out


def _chunks(rows: list[Client]) -> Iterator[list[Client]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i: i + CHUNK]


def _aware(t: datetime) -> datetime:
    from datetime import UTC

    return t if t.tzinfo else t.replace(tzinfo=UTC)
