"""Shapes of the REST API's answers, so /openapi.json says what each route returns.

The services in ``index.archive`` build the data; these models only describe and check it.
``extra="allow"``: a field a service adds reaches clients before its model here names it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Me(_Open):
    username: str
    roles: list[str]
    via: str
    permissions: list[str]


class Hit(_Open):
    id: int
    score: float | None = None
    original_name: str
    client_id: str | None = None
    record_no: str | None = None
    department: str | None = None
    doc_type: str | None = None
    doc_date: date | None = None
    ingested_at: datetime | None = None
    link_state: str
    page_count: int | None = None
    page_no: int | None = None
    snippet: str
    highlights: list[tuple[str, bool]]


class SearchResponse(_Open):
    query: str
    filters: dict[str, Any]
    total: int
    total_capped: bool
    page: int
    per_page: int
    pages: int
    hits: list[Hit]


class PageText(_Open):
    page_no: int
    text: str | None = None
    confidence: float | None = None
    source: str | None = None
    failure: str | None = None


class DocumentOut(_Open):
    id: int
    original_name: str
    media_type: str
    size: int
    sha256: str
    page_count: int | None = None
    state: str
    link_state: str
    client_id: str | None = None
    record_no: str | None = None
    department: str | None = None
    doc_type: str | None = None
    doc_date: date | None = None
    ingested_at: datetime | None = None
    ocr_at: datetime | None = None
    source_folder: str | None = None
    verify_state: str | None = None
    has_searchable_pdf: bool
    warnings: list[dict[str, Any]]
    pages: list[PageText] | None = None
    text: str | None = None
    links: dict[str, str] | None = None


class PaperRecordOut(_Open):
    record_no: str
    title: str | None = None
    department: str | None = None
    year: int | None = None
    room: str | None = None
    shelf: str | None = None
    box: str | None = None


class ClientOut(_Open):
    client_id: str
    name: str | None = None
    department: str | None = None
    policy_numbers: list[str]
    documents: list[DocumentOut]
    paper_records: list[PaperRecordOut]
    page: str | None = None
