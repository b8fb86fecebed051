"""Disposal after retention (销毁): an officer proposes, an auditor approves, the run
destroys every stored version, and the 销毁清册 (destruction list) stays in the index.

Every step is an audit entry. Nothing here lifts a legal hold or shortens a lock: the run
deletes object versions whose retain-until has passed (the S3 server refuses the rest),
and refuses a record still under retention or kept permanently (永久) before it asks.
An administrator's mis-scan removal (:func:`remove`) is the one early deletion: under
GOVERNANCE only, with a reason, recorded as a disposal of its own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

import papervault.index.coverage.tables  # noqa: F401  (qa_check refers to documents)
from papervault.config.errors import BadInput
from papervault.index import csvcells
from papervault.index.accounts import audit
from papervault.index.accounts.scope import Hidden, Scope
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Client, Document, PaperRecord, utcnow
from papervault.index.registers import retention
from papervault.index.registers.disposal_tables import Disposal, DisposalItem
from papervault.storage.objects import Lock, ObjectStore


class DisposalRefused(BadInput):
    """A step of the disposal workflow that may not happen (not expired, same person …)."""

    key = "disposal_refused"


@dataclass(frozen=True)
class Expiry:
    """When one stored original may go, and why."""

    doc: Document
    record: PaperRecord | None
    keep: retention.Retain

    def expired(self, now: datetime) -> bool:
        return not self.keep.hold and self.keep.until is not None and self.keep.until <= now


def expiry_of(session: Session, doc: Document, defaults: retention.Defaults,
              lock: Lock | None) -> Expiry:
    rec = session.get(PaperRecord, doc.record_no) if doc.record_no else None
    floor = lock.until(doc.ingested_at) if lock is not None else None
    return Expiry(doc, rec, retention.for_document(session, doc, defaults, floor))


def _visible_record(session: Session, record_no: str, scope: Scope) -> PaperRecord:
    rec = session.get(PaperRecord, record_no)
    client = session.get(Client, rec.client_id) if rec is not None and rec.client_id else None
    if rec is None or not scope.sees_record(rec, client):
        raise Hidden(what=f"paper record {record_no}", target=f"record:{record_no}")
    return rec


def propose(session: Session, key: bytes, record_nos: Iterable[str], reason: str,
            actor: str, scope: Scope, defaults: retention.Defaults, lock: Lock | None,
            now: datetime | None = None) -> Disposal:
    """Propose destroying the originals of expired records; refuses the whole proposal if
    one of them is not expired, kept permanently, part of a batch or already proposed."""
    now = now or utcnow()
    if not reason.strip():
        raise DisposalRefused("reason_required")
    items: list[DisposalItem] = []
    for no in dict.fromkeys(record_nos):
        rec = _visible_record(session, no, scope)
        docs = list(session.exec(select(Document).where(col(Document.record_no) == no)
                                 .order_by(col(Document.id))))
        if not docs:
            raise DisposalRefused("disposal_nothing", record=no)
        for doc in docs:
            items.append(_item(session, doc, rec, defaults, lock, now))
    session.add(d := Disposal(reason=reason.strip(), proposer=actor, proposed_at=now))
    session.flush()
    for it in items:
        it.disposal_id = d.id or 0
        session.add(it)
    audit.record(session, key, actor, "disposal.propose", f"disposal:{d.id}",
                 {"records": sorted({i.record_no or "" for i in items}),
                  "documents": [i.document_id for i in items], "reason": d.reason})
    return d


def _item(session: Session, doc: Document, rec: PaperRecord, defaults: retention.Defaults,
          lock: Lock | None, now: datetime) -> DisposalItem:
    assert doc.id is not None
    if doc.parent_id is not None:
        raise DisposalRefused("disposal_batch", doc=doc.id, parent=doc.parent_id)
    open_item = session.exec(
        select(DisposalItem.disposal_id).join(Disposal, col(Disposal.id) == col(
            DisposalItem.disposal_id))
        .where(col(DisposalItem.document_id) == doc.id,
               col(Disposal.state).in_(["proposed", "approved"]))).first()
    if open_item is not None:
        raise DisposalRefused("disposal_open", record=rec.record_no, id=open_item)
    exp = expiry_of(session, doc, defaults, lock)
    if exp.keep.hold:
        raise DisposalRefused("disposal_on_hold", record=rec.record_no, doc=doc.id)
    if not exp.expired(now):
        until = exp.keep.until.date().isoformat() if exp.keep.until else "-"
        raise DisposalRefused("disposal_not_expired", record=rec.record_no, doc=doc.id,
                              until=until)
    return DisposalItem(disposal_id=0, record_no=rec.record_no, document_id=doc.id,
                        object_name=doc.object_name, title=rec.title,
                        client_id=doc.client_id or rec.client_id,
                        original_name=doc.original_name, year=rec.year,
                        ingested_at=doc.ingested_at, retain_until=exp.keep.until,
                        sha256=doc.sha256)


def _load(session: Session, disposal_id: int, scope: Scope) -> tuple[Disposal,
                                                                     list[DisposalItem]]:
    d = session.get(Disposal, disposal_id)
    if d is None:
        raise Hidden(what=f"disposal {disposal_id}", target=f"disposal:{disposal_id}")
    items = list(session.exec(select(DisposalItem).where(
        col(DisposalItem.disposal_id) == disposal_id).order_by(col(DisposalItem.id))))
    for it in items:  # a proposal naming a record outside the scope does not exist for them
        if it.record_no is not None and session.get(PaperRecord, it.record_no) is not None:
            _visible_record(session, it.record_no, scope)
    return d, items


def decide(session: Session, key: bytes, disposal_id: int, approve: bool, actor: str,
           scope: Scope, reason: str = "", now: datetime | None = None,
           origin: str | None = None) -> Disposal:
    """An auditor approves or rejects (with a reason) a proposal someone else made."""
    d, _ = _load(session, disposal_id, scope)
    action = "approved" if approve else "rejected"
    if d.state != "proposed":
        raise DisposalRefused("disposal_state", id=disposal_id, state=d.state, action=action)
    if d.proposer == actor:
        raise DisposalRefused("disposal_same_person", id=disposal_id, who=actor)
    if not approve and not reason.strip():
        raise DisposalRefused("reason_required")
    d.state, d.approver, d.decided_at = action, actor, now or utcnow()
    d.decision_reason = reason.strip()
    session.add(d)
    audit.record(session, key, actor, "disposal.approve" if approve else "disposal.reject",
                 f"disposal:{disposal_id}", {"reason": d.decision_reason}, origin)
    return d


def run(engine: Engine, store: ObjectStore, key: bytes, disposal_id: int, actor: str,
        scope: Scope, now: datetime | None = None) -> tuple[int, int]:
    """Destroy an approved proposal's originals (every version, with their recovery
    records, searchable PDFs and thumbnails) and forget them in the index; the 销毁清册
    lines stay. Returns (originals destroyed, object versions deleted)."""
    now = now or utcnow()
    with session_scope(engine) as s:
        d, items = _load(s, disposal_id, scope)
        if d.state != "approved":
            raise DisposalRefused("disposal_state", id=disposal_id, state=d.state,
                                  action="run")
    done = versions = 0
    for it in items:
        if it.destroyed_at is not None:
            continue  # a run interrupted part-way is run again
        _check_server(store, it, now)
        versions += _destroy_document(engine, store, it.document_id, bypass=False)
        with session_scope(engine) as s:
            row = s.get(DisposalItem, it.id)
            assert row is not None
            row.destroyed_at = utcnow()
            s.add(row)
            audit.record(s, key, actor, "disposal.destroy", f"document:{it.document_id}",
                         {"disposal": disposal_id, "record": it.record_no,
                          "sha256": it.sha256, "retain_until": it.retain_until})
        done += 1
    with session_scope(engine) as s:
        row_d = s.get(Disposal, disposal_id)
        assert row_d is not None
        row_d.state, row_d.run_by, row_d.run_at = "done", actor, utcnow()
        s.add(row_d)
        audit.record(s, key, actor, "disposal.run", f"disposal:{disposal_id}",
                     {"originals": done, "versions": versions})
    return done, versions


def _check_server(store: ObjectStore, it: DisposalItem, now: datetime) -> None:
    """The server's own lock has the last word: a later date or a legal hold set there
    (by hand, or a 保管期限 raised since the proposal) stops the run."""
    _, until = store.retention_of(it.object_name)
    if store.legal_hold_of(it.object_name):
        raise DisposalRefused("disposal_on_hold", record=it.record_no, doc=it.document_id)
    if until is not None and until > now:
        raise DisposalRefused("disposal_not_expired", record=it.record_no,
                              doc=it.document_id, until=until.date().isoformat())


def remove(engine: Engine, store: ObjectStore, key: bytes, doc_id: int, reason: str,
           actor: str) -> int:
    """An administrator removes a mis-scan before its retention ends: GOVERNANCE bypass,
    never under COMPLIANCE or a legal hold; audited, and kept in the 销毁清册 as a
    disposal of state "removed". Returns the object versions deleted."""
    if not reason.strip():
        raise DisposalRefused("reason_required")
    lock = store.active_lock()
    if lock is not None and lock.mode == "COMPLIANCE":
        raise DisposalRefused("remove_compliance", doc=doc_id)
    with session_scope(engine) as s:
        doc = s.get(Document, doc_id)
        if doc is None:
            raise Hidden(what=f"document {doc_id}", target=f"document:{doc_id}")
        rec = s.get(PaperRecord, doc.record_no) if doc.record_no else None
        if lock is not None and store.legal_hold_of(doc.object_name):
            raise DisposalRefused("disposal_on_hold", record=doc.record_no or "-", doc=doc_id)
        _, until = store.retention_of(doc.object_name)
        d = Disposal(state="removed", reason=reason.strip(), proposer=actor, approver=actor,
                     decided_at=utcnow(), run_by=actor)
        s.add(d)
        s.flush()
        s.add(DisposalItem(disposal_id=d.id or 0, record_no=doc.record_no,
                           document_id=doc_id, object_name=doc.object_name,
                           title=rec.title if rec else "", client_id=doc.client_id,
                           original_name=doc.original_name, year=rec.year if rec else None,
                           ingested_at=doc.ingested_at, retain_until=until,
                           sha256=doc.sha256))
        disposal_id = d.id
    versions = _destroy_document(engine, store, doc_id, bypass=True)
    with session_scope(engine) as s:
        for it in s.exec(select(DisposalItem).where(
                col(DisposalItem.disposal_id) == disposal_id)):
            it.destroyed_at = utcnow()
            s.add(it)
        row = s.get(Disposal, disposal_id)
        assert row is not None
        row.run_at = utcnow()
        s.add(row)
        audit.record(s, key, actor, "document.remove", f"document:{doc_id}",
                     {"reason": reason.strip(), "disposal": disposal_id,
                      "versions": versions, "retain_until": until})
    return versions


def _destroy_document(engine: Engine, store: ObjectStore, doc_id: int, bypass: bool) -> int:
    """Delete a document's objects (and its split parts') and then its index rows."""
    with session_scope(engine) as s:
        docs = list(s.exec(select(Document).where(
            (col(Document.id) == doc_id) | (col(Document.parent_id) == doc_id))))
        names = [(n, d.id == doc_id) for d in docs
                 for n in (d.object_name, d.searchable_object_name, d.thumbs_object_name)
                 if n]
    versions = 0
    for name, original in names:
        # Only the original and its recovery record are locked; the rest go plainly.
        versions += store.destroy(name, bypass_governance=bypass and original)
    with session_scope(engine) as s:
        forget_documents(s, [d.id for d in docs if d.id is not None])
    return versions


def forget_documents(session: Session, ids: list[int]) -> None:
    """Delete documents and every row that refers to them (pages, jobs, checks …). The
    search and coverage triggers on ``document`` drop them from those tables."""
    if not ids:
        return
    doc_table = SQLModel.metadata.tables["document"]
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if table.name == "document" or not any(
                    fk.column.table is doc_table for fk in column.foreign_keys):
                continue
            if column.nullable:  # ingest events stay: they are the capture history
                session.execute(update(table).where(column.in_(ids)).values({column.name: None}))
            else:
                session.execute(delete(table).where(column.in_(ids)))
    # Split parts first: they refer to their batch.
    session.execute(delete(Document).where(col(Document.id).in_(ids),
                                           col(Document.parent_id).is_not(None)))
    session.execute(delete(Document).where(col(Document.id).in_(ids)))

HEADER = ["档号", "题名", "客户编号", "年度", "原文件名", "扫描时间", "保管至", "提出人",
          "提出时间", "批准人", "批准时间", "销毁时间", "SHA-256", "销毁申请", "原因"]


def destruction_list_csv(session: Session, disposal_id: int, scope: Scope) -> bytes:
    """The 销毁清册 of one disposal (UTF-8 with BOM, for spreadsheet programs)."""
    d, items = _load(session, disposal_id, scope)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)

    def t(v: datetime | None) -> str:
        return v.strftime("%Y-%m-%d %H:%M:%S") if v else ""

    for it in items:
        w.writerow(csvcells.row([
            it.record_no or "", it.title, it.client_id or "", it.year or "",
            it.original_name, t(it.ingested_at),
            it.retain_until.date().isoformat() if it.retain_until else "",
            d.proposer, t(d.proposed_at), d.approver or "", t(d.decided_at),
            t(it.destroyed_at), it.sha256, d.id, d.reason]))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def items_of(disposal_id: int) -> SelectOfScalar[DisposalItem]:
    return select(DisposalItem).where(col(DisposalItem.disposal_id) == disposal_id)


def listing(session: Session, scope: Scope, state: str | None = None
            ) -> list[tuple[Disposal, int]]:
    """Disposals (newest first) with their number of originals; one naming a record
    outside ``scope`` is left out (its reason and people would tell it exists)."""
    q = select(Disposal).order_by(col(Disposal.id).desc())
    if state:
        q = q.where(col(Disposal.state) == state)
    out = []
    for d in session.exec(q):
        items = list(session.exec(items_of(d.id or 0)))
        try:
            for it in items:
                if it.record_no is not None \
                        and session.get(PaperRecord, it.record_no) is not None:
                    _visible_record(session, it.record_no, scope)
        except Hidden:
            continue
        out.append((d, len(items)))
    return out
