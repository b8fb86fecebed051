"""The retention report: per stored original, what expires when and how it is locked.

Within the caller's scope (documents they may see), sorted by expiry: the soonest first,
permanent records (legal hold) last. The lock columns are what the S3 server holds, asked
per original, so a report also shows an original whose lock is short (``verify`` puts it
back).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from papervault.index import csvcells
from papervault.index.accounts.scope import Scope
from papervault.index.catalog.models import Document, PaperRecord, utcnow
from papervault.index.integrity.verification import SLACK
from papervault.index.registers import retention
from papervault.storage.objects import ObjectStore
from papervault.storage.records import record_name


@dataclass(frozen=True)
class Row:
    document_id: int
    record_no: str | None
    title: str
    client_id: str | None
    department: str | None
    year: int | None
    retention: str | None
    retain_until: str | None  # ISO date; None: permanent
    legal_hold: bool
    why: str
    state: str  # expired | kept | permanent
    lock_mode: str | None
    lock_until: str | None
    lock_hold: bool
    lock_ok: bool | None  # None: not checked (no lock on the bucket)


def report(session: Session, scope: Scope, defaults: retention.Defaults,
           store: ObjectStore | None, now: datetime | None = None,
           limit: int | None = None) -> list[Row]:
    """Every original in ``scope``, soonest expiry first."""
    now = now or utcnow()
    lock = store.active_lock() if store is not None else None
    q = (select(Document).where(col(Document.parent_id).is_(None), scope.document_where())
         .order_by(col(Document.id)))
    rows: list[Row] = []
    for doc in session.exec(q):
        assert doc.id is not None
        rec = session.get(PaperRecord, doc.record_no) if doc.record_no else None
        keep = retention.for_document(session, doc, defaults,
                                      lock.until(doc.ingested_at) if lock else None)
        state = "permanent" if keep.hold else (
            "expired" if keep.until is not None and keep.until <= now else "kept")
        mode = until = None
        hold = False
        ok: bool | None = None
        if lock is not None and store is not None:
            mode, until = store.retention_of(doc.object_name)
            hold = store.legal_hold_of(doc.object_name)
            rec_until = store.retention_of(record_name(doc.object_name))[1]
            ok = hold if keep.hold else (
                keep.until is not None and until is not None and rec_until is not None
                and min(until, rec_until) + SLACK >= keep.until)
        rows.append(Row(
            doc.id, doc.record_no, rec.title if rec else "", doc.client_id,
            doc.department, rec.year if rec else None, rec.retention if rec else None,
            keep.until.date().isoformat() if keep.until else None, keep.hold, keep.why,
            state, mode, until.date().isoformat() if until else None, hold, ok))
    rows.sort(key=lambda r: (r.retain_until is None, r.retain_until or "", r.document_id))
    return rows[:limit] if limit is not None else rows


def as_dicts(rows: list[Row]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]


HEADER = ["文档 document", "档号", "题名", "客户编号", "部门", "年度", "保管期限", "保管至",
          "永久", "依据 why", "状态 state", "锁模式 lock", "锁至 locked until", "法律保留 hold",
          "锁正确 lock ok"]


def as_csv(rows: list[Row]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for r in rows:
        w.writerow(csvcells.row([
            r.document_id, r.record_no or "", r.title, r.client_id or "", r.department or "",
            r.year or "", r.retention or "", r.retain_until or "", "yes" if r.legal_hold else "",
            r.why, r.state, r.lock_mode or "", r.lock_until or "",
            "yes" if r.lock_hold else "", "" if r.lock_ok is None else str(r.lock_ok).lower()]))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
