"""Backup coverage of the paper-record register: which paper files have a verified copy.

"Electronic backup" means the encrypted original is in object storage and its checksum has
been verified. Each record's code lives in ``record_state`` (see :mod:`index.coverage.sql`);
:func:`refresh` (:mod:`index.coverage.upkeep`) recomputes the records the triggers marked and
keeps the counts per department, year and code, which the report then sums.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from papervault.config.errors import PapervaultError
from papervault.index import csvcells
from papervault.index.catalog.models import Document, DocumentMention, PaperRecord, Verification
from papervault.index.coverage.sql import UNFILED
from papervault.index.coverage.tables import (
    FAILED,
    NONE,
    REVIEW,
    STATE_NAMES,
    VERIFIED,
    CoverageCheck,
    CoverageCount,
    RecordState,
)
from papervault.index.coverage.upkeep import refresh

__all__ = ["refresh"]  # callers refresh through this module before reading record_state

CHUNK = 500


@dataclass
class Tally:
    """Counts of records per coverage state."""

    none: int = 0
    stored: int = 0
    verified: int = 0
    failed: int = 0
    review: int = 0  # scanned and verified, waiting for its link to be confirmed

    @property
    def total(self) -> int:
        return self.none + self.stored + self.verified + self.failed + self.review

    @property
    def percent(self) -> float:
        """Share of records with a verified backup, in percent (100 for an empty register)."""
        return round(100.0 * self.verified / self.total, 2) if self.total else 100.0

    def add(self, code: int, n: int) -> None:
        name = STATE_NAMES[code]
        setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "none": self.none, "stored": self.stored,
                "verified": self.verified, "failed": self.failed, "review": self.review,
                "percent": self.percent}


@dataclass(frozen=True)
class Catalogue:
    """DA/T 31's catalogue↔image check: every register row has its images, every image
    its register row, and the page counts agree where the register gives one."""

    rows_without_images: int = 0  # records with no scan at all (none)
    images_without_row: int = 0  # read documents linked to no registered 档号
    page_mismatch: int = 0  # records whose scans' pages differ from the register's count

    @property
    def ok(self) -> bool:
        return not (self.rows_without_images or self.images_without_row or self.page_mismatch)

    def as_dict(self) -> dict[str, Any]:
        return {"rows_without_images": self.rows_without_images,
                "images_without_row": self.images_without_row,
                "page_mismatch": self.page_mismatch, "ok": self.ok}


@dataclass
class Report:
    totals: Tally = field(default_factory=Tally)
    by_department: dict[str, Tally] = field(default_factory=dict)
    by_year: dict[str, Tally] = field(default_factory=dict)
    by_department_year: dict[tuple[str, str], Tally] = field(default_factory=dict)
    catalogue: Catalogue = field(default_factory=Catalogue)

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals.as_dict(),
            "by_department": {k: v.as_dict() for k, v in sorted(self.by_department.items())},
            "by_year": {k: v.as_dict() for k, v in sorted(self.by_year.items())},
            "catalogue": self.catalogue.as_dict(),
        }


def report(session: Session, departments: frozenset[str] | None = None) -> Report:
    """Totals and breakdowns by department and year (refreshes marked records first);
    ``departments``: a scoped auditor's (None: every record)."""
    refresh(session)
    n = func.sum(CoverageCount.n)
    stmt = select(CoverageCount.department, CoverageCount.year, CoverageCount.code, n)
    if departments is not None:
        stmt = stmt.where(col(CoverageCount.department).in_(sorted(departments)))
    rows = session.exec(
        stmt.group_by(col(CoverageCount.department), col(CoverageCount.year),
                      col(CoverageCount.code)).having(n != 0)
    ).all()
    rep = Report()
    for dept, year, code, count in rows:
        d, y = dept or "-", str(year) if year is not None else "-"
        rep.totals.add(code, int(count))
        rep.by_department.setdefault(d, Tally()).add(code, int(count))
        rep.by_year.setdefault(y, Tally()).add(code, int(count))
        rep.by_department_year.setdefault((d, y), Tally()).add(code, int(count))
    rep.catalogue = catalogue(session, rep.totals.none)
    return rep


def catalogue(session: Session, rows_without_images: int) -> Catalogue:
    """The catalogue↔image check's three counts (``rows_without_images`` is the report's
    "none" total, already counted): read documents without a 档号 counted live, the rest
    from ``coverage_check`` (kept by :func:`refresh`, which the report ran first)."""
    unfiled = session.execute(text(UNFILED)).scalar_one()
    images, pages = session.exec(
        select(func.coalesce(func.sum(CoverageCheck.images), 0),
               func.coalesce(func.sum(CoverageCheck.pages_off), 0))).one()
    return Catalogue(rows_without_images, int(unfiled) + int(images), int(pages))


@dataclass(frozen=True)
class Flagged:
    """A paper record without a verified backup, with where to find the paper."""

    record_no: str
    state: str
    reason: str
    client_id: str | None
    title: str
    department: str | None
    year: int | None
    room: str | None
    shelf: str | None
    box: str | None
    documents: tuple[int, ...]

    @property
    def location(self) -> str:
        return " / ".join(p for p in (self.room, self.shelf, self.box) if p) or "-"

    def as_dict(self) -> dict[str, Any]:
        return {"record_no": self.record_no, "state": self.state, "reason": self.reason,
                "client_id": self.client_id, "title": self.title,
                "department": self.department, "year": self.year, "room": self.room,
                "shelf": self.shelf, "box": self.box, "location": self.location,
                "documents": list(self.documents)}


@dataclass(frozen=True)
class FlagFilter:
    """Which flagged records to list (every field optional)."""

    state: str | None = None  # none | stored | failed
    department: str | None = None
    year: int | None = None
    record_nos: tuple[str, ...] = ()
    # A scoped auditor's departments: records of others are not listed (None: every one).
    departments: frozenset[str] | None = None


def flagged(session: Session, flt: FlagFilter | None = None, limit: int | None = None,
            offset: int = 0) -> list[Flagged]:
    """Records not verified, in 档号 order, with the reason each one is flagged."""
    return list(iter_flagged(session, flt, limit, offset))


def count_flagged(session: Session, flt: FlagFilter | None = None) -> int:
    """How many records :func:`flagged` lists (without limit)."""
    f = flt or FlagFilter()
    if f.record_nos:  # named records: count their rows
        stmt = select(func.count()).select_from(RecordState)
        return int(session.exec(_where(stmt, f)).one())
    # Else from the kept counts: filters are on department, year and code only.
    total = select(func.coalesce(func.sum(CoverageCount.n), 0))
    return int(session.exec(_where(total, f, CoverageCount)).one())


def _where(stmt: Any, flt: FlagFilter,
           table: type[RecordState] | type[CoverageCount] = RecordState) -> Any:
    stmt = stmt.where(col(table.code) != VERIFIED)
    if flt.state:
        codes = [c for c, n in STATE_NAMES.items() if n == flt.state]
        stmt = stmt.where(col(table.code).in_(codes))
    if flt.department:
        stmt = stmt.where(col(table.department) == flt.department)
    if flt.year is not None:
        stmt = stmt.where(col(table.year) == flt.year)
    if flt.record_nos:
        stmt = stmt.where(col(RecordState.record_no).in_(flt.record_nos))
    if flt.departments is not None:
        stmt = stmt.where(col(table.department).in_(sorted(flt.departments)))
    return stmt


def iter_flagged(session: Session, flt: FlagFilter | None = None, limit: int | None = None,
                 offset: int = 0, batch: int = 1000) -> Iterator[Flagged]:
    """Stream flagged records in batches (the CSV export may hold a million)."""
    stmt = _where(select(RecordState.record_no, RecordState.code), flt or FlagFilter())
    stmt = stmt.order_by(col(RecordState.record_no)).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(session.exec(stmt))
    for i in range(0, len(rows), batch):
        yield from _describe(session, rows[i : i + batch])


def _describe(session: Session, rows: list[tuple[str, int]]) -> Iterator[Flagged]:
    nos = [r[0] for r in rows]
    recs = {r.record_no: r for r in
            session.exec(select(PaperRecord).where(col(PaperRecord.record_no).in_(nos)))}
    docs: dict[str, list[Document]] = {}
    for d in session.exec(select(Document).where(col(Document.record_no).in_(nos))
                          .order_by(col(Document.id))):
        docs.setdefault(d.record_no or "", []).append(d)
    waiting = [no for no, code in rows if code == REVIEW]
    if waiting:  # the scans that name these 档号 but wait for review
        for no, doc_id in session.exec(
                select(DocumentMention.value, DocumentMention.document_id).where(
                    col(DocumentMention.kind) == "record",
                    col(DocumentMention.value).in_(waiting))):
            scan = session.get(Document, doc_id)
            if scan is not None:
                docs.setdefault(no, []).append(scan)
    qa = _qa_failures(session, [d.id for ds in docs.values() for d in ds if d.id is not None])
    # One query for the batch: one per failed document cost a round trip each (~20 ms on
    # a loaded PostgreSQL server: most of the report at 1M records).
    failures = _last_failures(session, [d.id for ds in docs.values() for d in ds
                                        if d.id is not None and d.verify_state == "failed"])
    for no, code in rows:
        rec = recs.get(no)
        if rec is None:  # deleted meanwhile; the next refresh drops it
            continue
        mine = docs.get(no, [])
        yield Flagged(no, STATE_NAMES[code], _reason(code, mine, qa, failures), rec.client_id,
                      rec.title, rec.department, rec.year, rec.room, rec.shelf, rec.box,
                      tuple(d.id for d in mine if d.id is not None))


def _qa_failures(session: Session, doc_ids: list[int]) -> dict[int, str]:
    from papervault.index.coverage.tables import QaCheck

    if not doc_ids:
        return {}
    stmt = select(QaCheck).where(col(QaCheck.document_id).in_(doc_ids),
                                 col(QaCheck.result) == "fail")
    return {q.document_id: q.reason for q in session.exec(stmt)}


def _reason(code: int, docs: list[Document], qa: dict[int, str],
            failures: dict[int, str]) -> str:
    """Why the record is flagged, in words a clerk can act on."""
    if code == NONE:
        return "no scan / 未扫描"
    if code == REVIEW:
        ids = ", ".join(str(d.id) for d in docs)
        return f"scanned, awaiting review / 已扫描，待核实关联 (doc {ids})"
    if code != FAILED:
        return "stored, not yet verified / 已存储，待校验"
    parts: list[str] = []
    for d in docs:
        if d.id in qa:
            parts.append(f"doc {d.id}: spot check failed / 抽检不合格: {qa[d.id]}")
        elif d.verify_state == "failed":
            parts.append(f"doc {d.id}: "
                         + failures.get(d.id or 0, "verification failed / 校验失败"))
    return "; ".join(parts) or "failed"


def _last_failures(session: Session, doc_ids: list[int]) -> dict[int, str]:
    """Each document's latest failed verification detail (where it has one)."""
    if not doc_ids:
        return {}
    stmt = (select(Verification.document_id, Verification.detail)
            .where(col(Verification.document_id).in_(doc_ids), col(Verification.ok).is_(False))
            .order_by(col(Verification.id)))
    return {doc_id: detail for doc_id, detail in session.exec(stmt) if detail}  # newest last


CSV_COLUMNS = ("record_no", "state", "reason", "client_id", "title", "department", "year",
               "room", "shelf", "box")


def flagged_csv(session: Session, flt: FlagFilter,
                header: Sequence[str] = CSV_COLUMNS) -> bytes:
    """Flagged records as CSV in UTF-8 with a BOM, so Excel shows the Chinese.

    ``header``: the first row, one label per ``CSV_COLUMNS`` entry (the web page passes
    them in its language; scripts get the stable column names)."""
    assert len(header) == len(CSV_COLUMNS)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for f in iter_flagged(session, flt):
        d = f.as_dict()
        w.writerow(csvcells.row("" if d[c] is None else d[c] for c in CSV_COLUMNS))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def sheet_records(session: Session, every: bool, record_nos: tuple[str, ...] = (),
                  flt: FlagFilter | None = None) -> list[PaperRecord]:
    """Records to print cover sheets for: all (or the named ones), else the flagged ones."""
    if every:
        stmt = select(PaperRecord).order_by(col(PaperRecord.record_no))
        if record_nos:
            stmt = stmt.where(col(PaperRecord.record_no).in_(record_nos))
        return list(session.exec(stmt))
    refresh(session)
    f = flt or FlagFilter()
    stmt2 = _where(select(RecordState.record_no), FlagFilter(f.state, f.department, f.year,
                                                             record_nos, f.departments))
    # A scan waiting for review is a scan: a cover sheet would have the paper scanned twice.
    stmt2 = stmt2.where(col(RecordState.code) != REVIEW)
    nos = list(session.exec(stmt2.order_by(col(RecordState.record_no))))
    recs: dict[str, PaperRecord] = {}
    for i in range(0, len(nos), CHUNK):
        stmt3 = select(PaperRecord).where(col(PaperRecord.record_no).in_(nos[i : i + CHUNK]))
        recs.update({r.record_no: r for r in session.exec(stmt3)})
    return [recs[n] for n in nos if n in recs]


class CoverageBelow(PapervaultError):
    """Coverage is below the threshold the auditor asked for."""

    exit_code = 5
    key = "coverage_below"
