"""Shapes of the REST API's answers, so /openapi.json says what each route returns.

The services in ``index.archive`` build the data; these models only describe and check it.
``extra="allow"``: a field a service adds reaches clients before its model here names it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: object) -> object:
    """pydantic also reads ``12345`` or ``2e-21`` as a Unix time: a filter typed wrong
    would quietly mean 1970 (schemathesis found it). A date parameter is YYYY-MM-DD."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is YYYY-MM-DD")
    return value


# A query parameter's date: ISO 8601 calendar date only, as the schema says (format: date).
IsoDate = Annotated[date, BeforeValidator(_iso_only)]


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


class ApiError(BaseModel):
    """Every refusal or failure the API answers: a stable key for scripts, a sentence
    for people (in the caller's language)."""

    error: str
    message: str


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str | None = None


class InvalidInput(ApiError):
    """A parameter that does not parse or is out of its range (422)."""

    fields: list[str]
    detail: list[FieldProblem]


_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    400: (ApiError, "A value the archive cannot use (bad_input): the message says which"),
    401: (ApiError, "Not signed in (login_required): send Authorization: Bearer <token>"),
    403: (ApiError, "Not allowed (forbidden), or the one-time password is still to be "
                    "changed (password_must_change)"),
    404: (ApiError, "No such item, or outside the caller's departments or clearance "
                    "(not_found)"),
    422: (InvalidInput, "A parameter that does not parse or is out of range (invalid_input)"),
    503: (ApiError, "The database or the object store is unavailable for now: try again"),
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a route: ``responses=errors(404)``; 400 (a
    parameter given twice), 401, 403 and 503 (any route behind the sign-in gate, reading
    the index) are always included."""
    return {code: {"model": _ERRORS[code][0], "description": _ERRORS[code][1]}
            for code in sorted({400, 401, 403, 503, *statuses})}
