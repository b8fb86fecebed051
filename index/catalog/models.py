"""The index: documents, pages, clients, the paper-record register, jobs,
verification results, ingest events and the audit log.

Times are aware UTC (SQLModel's UTCDateTime stores them the same on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, in UTC, as every column stores it."""
    return datetime.now(UTC)


class Document(SQLModel, table=True):
    """One captured file (or one part of a split batch) and everything known about it."""

    # A scoped officer's searches all carry the department (migration 0016).
    __table_args__ = (Index("ix_document_department_doc_date", "department", "doc_date"),
                      Index("ix_document_department_ingested_at", "department", "ingested_at"))

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True, max_length=64)
    size: int
    original_name: str = Field(max_length=1024)
    source_folder: str = Field(default="", max_length=2048)
    media_type: str = Field(max_length=32)
    page_count: int | None = None
    parent_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    object_name: str = Field(max_length=128, unique=True)
    object_size: int
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(max_length=64, index=True)
    searchable_object_name: str | None = Field(default=None, max_length=128)
    searchable_wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    searchable_key_id: str | None = Field(default=None, max_length=64)
    searchable_sha256: str | None = Field(default=None, max_length=64)
    # Page thumbnails (one multi-page TIFF, encrypted), rendered once by the worker.
    thumbs_object_name: str | None = Field(default=None, max_length=128)
    thumbs_wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    thumbs_key_id: str | None = Field(default=None, max_length=64)
    # stored → indexed (OCR done) | partly_read (some pages failed) | ocr_failed
    state: str = Field(default="stored", max_length=16, index=True)
    # pending (before OCR) → linked | unlinked (no ID found) | ambiguous (several clients)
    link_state: str = Field(default="pending", max_length=16, index=True)
    link_source: str | None = Field(default=None, max_length=32)
    client_id: str | None = Field(default=None, max_length=64, index=True)
    record_no: str | None = Field(default=None, max_length=64, index=True)
    department: str | None = Field(default=None, max_length=128, index=True)
    doc_type: str | None = Field(default=None, max_length=64, index=True)
    # Who set doc_type (index.catalog.doctypes.SOURCES): a lower source never overwrites
    # a higher one (a hand-set type survives OCR being run again).
    doc_type_source: str | None = Field(default=None, max_length=16)
    # 密级 set by a person or the paper record; None: by type, else access.default_level.
    sensitivity: str | None = Field(default=None, max_length=32, index=True)
    doc_date: date | None = Field(default=None, index=True)
    doc_date_source: str | None = Field(default=None, max_length=16)  # text | record
    ingested_at: datetime = Field(default_factory=utcnow, index=True)
    ocr_at: datetime | None = None
    verify_state: str = Field(default="unverified", max_length=16, index=True)
    verified_at: datetime | None = None
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    candidates: str = Field(default="", max_length=2048)
    warnings: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))


class DocumentMention(SQLModel, table=True):
    """A registered client or 档号 found on a document that its link does not carry.

    kind ``client``: a mentioned party (a form names 投保人, 被保险人, 受益人 — several may be
    clients); the client filter and the party's client page find the document through it.
    kind ``record``: a registered 档号 on a document still waiting for review, so coverage
    can tell "scanned, awaiting review" from "no scan"."""

    __tablename__ = "document_mention"
    __table_args__ = (UniqueConstraint("document_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    kind: str = Field(max_length=8)  # client | record
    value: str = Field(max_length=64, index=True)
    source: str = Field(default="", max_length=32)


class Page(SQLModel, table=True):
    """Text and confidence of one page, as tesseract gave it (or the PDF's own text layer)."""

    __table_args__ = (UniqueConstraint("document_id", "page_no"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    page_no: int
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    confidence: float | None = None
    source: str = Field(default="ocr", max_length=16)  # ocr | text_layer | failed
    width_px: int | None = None
    height_px: int | None = None
    dpi: int | None = None
    # Why the page could not be read (source = failed): Chinese / English, for the clerk.
    failure: str | None = Field(default=None, sa_column=Column(Text))
    turn: int = 0  # clockwise degrees the worker turned the page to read it upright
    skew: float = 0.0  # degrees it straightened the page by


class Client(SQLModel, table=True):
    """The clients register, imported from the CRM's export."""

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(default="", max_length=256)
    department: str | None = Field(default=None, max_length=128)
    policy_numbers: str = Field(default="", max_length=2048)
    updated_at: datetime = Field(default_factory=utcnow)


class PaperRecord(SQLModel, table=True):
    """One paper file in the register, keyed by its 档号."""

    record_no: str = Field(primary_key=True, max_length=64)
    client_id: str | None = Field(default=None, max_length=64, index=True)
    title: str = Field(default="", max_length=512)
    department: str | None = Field(default=None, max_length=128, index=True)
    year: int | None = Field(default=None, index=True)
    retention: str | None = Field(default=None, max_length=32)
    room: str | None = Field(default=None, max_length=64)
    shelf: str | None = Field(default=None, max_length=64)
    box: str | None = Field(default=None, max_length=64)
    expected_pages: int | None = None
    sensitivity: str | None = Field(default=None, max_length=32)  # 密级; None: the default
    # The contract's end (合同终止日期), when the register gives it: retention runs from it.
    contract_end: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Job(SQLModel, table=True):
    """A unit of work for the OCR workers, claimed under a lease."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    kind: str = Field(default="ocr", max_length=16)
    state: str = Field(default="queued", max_length=16, index=True)  # queued running done failed
    attempts: int = 0
    worker: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None
    not_before: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WorkerBeat(SQLModel, table=True):
    """Each OCR worker process's last sign of life, idle or busy: /readyz and
    papervault doctor ask whether any worker is alive, from any machine."""

    __tablename__ = "worker_beat"

    name: str = Field(primary_key=True, max_length=128)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


class Verification(SQLModel, table=True):
    """One read-back check of a stored object."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    object_name: str = Field(max_length=128)
    at: datetime = Field(default_factory=utcnow, index=True)
    ok: bool
    detail: str = Field(default="", max_length=1024)


class IngestEvent(SQLModel, table=True):
    """What happened to each dropped file: stored, duplicate, quarantined or retry."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    path: str = Field(max_length=4096)
    sha256: str | None = Field(default=None, max_length=64, index=True)
    outcome: str = Field(max_length=16, index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    reason: str | None = Field(default=None, sa_column=Column(Text))


class AuditEntry(SQLModel, table=True):
    """Who did what, when, from where: append-only."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=128, index=True)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=512)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    origin: str = Field(default="cli", max_length=128)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class User(SQLModel, table=True):
    """One person (never a shared account). ``roles``: space-separated role names."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=128)
    roles: str = Field(default="", max_length=128)
    # The departments the user works for, one a line; empty: every department (unscoped).
    departments: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # 密级 the user may see; None: their roles' clearance (access.role_clearance).
    clearance: str | None = Field(default=None, max_length=32)
    # argon2id; None for an account that may only act locally (CLI) or by token.
    password_hash: str | None = Field(default=None, sa_column=Column(Text))
    must_change_password: bool = True
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=64)
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    """A user's token for an integration; only its SHA-256 is kept (shown once)."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=128)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginSession(SQLModel, table=True):
    """A signed-in browser; only the SHA-256 of its cookie is kept."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    origin: str = Field(default="", max_length=128)
    revoked_at: datetime | None = None


class PiDigest(SQLModel, table=True):
    """A keyed hash of a masked ID/card number, so a full-number query finds its document."""

    __tablename__ = "pi_digest"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    digest: str = Field(max_length=64, index=True)
