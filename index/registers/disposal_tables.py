"""Tables of the disposal workflow (销毁): a proposal, its records, and what was destroyed.

A row of ``disposal_item`` outlives the document it names: it is the 销毁清册 line (档号,
题名, client, dates, retain-until, SHA-256), so the destruction list can be exported after
the originals and their index rows are gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from papervault.index.catalog.models import utcnow

# proposed → approved → done | rejected; "removed": an administrator's mis-scan removal.
STATES = ("proposed", "approved", "rejected", "done", "removed")


class Disposal(SQLModel, table=True):
    """One proposal to destroy expired records (or one mis-scan removal)."""

    __tablename__ = "disposal"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default="proposed", max_length=16, index=True)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    proposer: str = Field(max_length=128)
    proposed_at: datetime = Field(default_factory=utcnow)
    approver: str | None = Field(default=None, max_length=128)
    decided_at: datetime | None = None
    decision_reason: str = Field(default="", sa_column=Column(Text, nullable=False,
                                                              default=""))
    run_by: str | None = Field(default=None, max_length=128)
    run_at: datetime | None = None


class DisposalItem(SQLModel, table=True):
    """One original in a disposal: its 销毁清册 line, kept after it is destroyed."""

    __tablename__ = "disposal_item"

    id: int | None = Field(default=None, primary_key=True)
    disposal_id: int = Field(foreign_key="disposal.id", index=True)
    record_no: str | None = Field(default=None, max_length=64, index=True)
    # No foreign key: the document row goes when the destruction runs.
    document_id: int = Field(index=True)
    object_name: str = Field(max_length=128)
    title: str = Field(default="", max_length=512)
    client_id: str | None = Field(default=None, max_length=64)
    original_name: str = Field(default="", max_length=1024)
    year: int | None = None
    ingested_at: datetime
    retain_until: datetime | None = None
    sha256: str = Field(max_length=64)
    destroyed_at: datetime | None = None
