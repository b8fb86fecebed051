"""Tables of the backup-coverage audit (issue 4), kept apart from :mod:`index.models`.

``record_state`` caches each paper record's coverage code so the report over a million
records is one index scan; triggers (migration 0003) put every record whose documents or
register row change on ``coverage_dirty``, and :func:`index.coverage.refresh` catches up.
``coverage_count`` and ``coverage_check`` (migration 0015) are kept by the same refresh, so the
report reads a few hundred rows instead of grouping a million.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from papervault.index.catalog.models import utcnow

# Coverage codes, ordered so that the worst document of a record wins under max().
# REVIEW only ever comes from documents that do not carry the 档号 (see coverage.sql).
NONE, VERIFIED, STORED, FAILED, REVIEW = 0, 1, 2, 3, 4
STATE_NAMES = {NONE: "none", VERIFIED: "verified", STORED: "stored", FAILED: "failed",
               REVIEW: "review"}


class RecordState(SQLModel, table=True):
    """The coverage code of one paper record, derived from its documents."""

    __tablename__ = "record_state"

    record_no: str = Field(primary_key=True, max_length=64)
    department: str | None = Field(default=None, max_length=128)
    year: int | None = None
    code: int = Field(default=NONE)


class CoverageDirty(SQLModel, table=True):
    """A record whose coverage must be recomputed (filled by triggers)."""

    __tablename__ = "coverage_dirty"

    record_no: str = Field(primary_key=True, max_length=64)


class CoverageCount(SQLModel, table=True):
    """A change in how many ``record_state`` rows have one (department, year, code).

    Signed rows, summed when read: refresh appends what it changed instead of updating one
    row per group in place (no unique key over nullable columns on SQLite, no lock queue on
    a hot row), and folds them together now and then. The sum per group always equals the
    count of ``record_state`` rows, in every transaction that sees both."""

    __tablename__ = "coverage_count"

    id: int | None = Field(default=None, primary_key=True)
    department: str | None = Field(default=None, max_length=128)
    year: int | None = None
    code: int
    n: int


class CoverageCheck(SQLModel, table=True):
    """A 档号 failing the catalogue check (see :data:`index.coverage.sql.CHECK_ALL`)."""

    __tablename__ = "coverage_check"

    record_no: str = Field(primary_key=True, max_length=64)
    images: int = 0  # read documents carrying this 档号, which the register lacks
    pages_off: int = 0  # 1: a registered record whose scans' pages differ from its count


class QaCheck(SQLModel, table=True):
    """One document drawn for the DA/T 31-2017 manual spot check, and its verdict."""

    __tablename__ = "qa_check"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", unique=True)
    sample_id: str = Field(max_length=32, index=True)
    sampled_at: datetime = Field(default_factory=utcnow)
    result: str = Field(default="pending", max_length=16, index=True)  # pending pass fail
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reviewer: str | None = Field(default=None, max_length=128)
    marked_at: datetime | None = None
