"""REST API (JSON; schema at /openapi.json) for the office's CRM.

No Swagger page: FastAPI's loads its script from a public CDN into a signed-in page, where a
tampered script could call the API as the user. Load /openapi.json into any OpenAPI viewer.

Deep links: ``/api/clients/{client_id}`` and ``/clients/{client_id}`` (the page).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from papervault.index.accounts.access import Perm
from papervault.index.archive import (
    client_dict,
    client_view,
    document_dict,
    find,
    get_document,
    pages_of,
    shown,
)
from papervault.index.archive import result_dict as to_json
from papervault.index.catalog.db import session_scope
from papervault.index.registers.parties import parties_of
from papervault.index.search.query import PER_PAGE_MAX, SearchQuery
from papervault.index.web import files
from papervault.index.web.deps import audit, principal_of, ui
from papervault.index.web.schemas import ClientOut, DocumentOut, SearchResponse

router = APIRouter(prefix="/api", tags=["api"])
schema = APIRouter(include_in_schema=False)


@schema.get("/openapi.json")
def openapi_schema(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


def run_search(request: Request, query: SearchQuery) -> Any:
    """Search and record it in the audit trail (shared by the page and the API)."""
    state = request.app.state
    with session_scope(state.engine) as session:
        scope = principal_of(request).scope
        result, audit_q = find(session, query, state.pi_key, scope)
        audit(request, session, "search", audit_q,
              {**query.filters(), "page": query.page, "total": result.total,
               **shown(result, scope)})
    return result


@router.get("/search", summary="Search documents / 检索", response_model=SearchResponse)
def api_search(
    request: Request,
    q: Annotated[str, Query(description="words, client ID, 档号; Chinese any length")] = "",
    client_id: str | None = None,
    record_no: str | None = None,
    department: str | None = None,
    doc_type: str | None = None,
    link_state: str | None = None,
    doc_from: date | None = None,
    doc_to: date | None = None,
    ingested_from: date | None = None,
    ingested_to: date | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,  # a bound: review L1
    per_page: Annotated[int, Query(ge=1, le=PER_PAGE_MAX)] = 20,
) -> dict[str, Any]:
    """Ranked hits with highlighted snippets, filters and pagination."""
    query = SearchQuery(q=q, client_id=client_id, record_no=record_no, department=department,
                        doc_type=doc_type, link_state=link_state, doc_from=doc_from,
                        doc_to=doc_to, ingested_from=ingested_from, ingested_to=ingested_to,
                        page=page, per_page=per_page)
    return to_json(query, run_search(request, query))


@router.get("/documents/{doc_id}", summary="One document with its pages and OCR text",
            response_model=DocumentOut, response_model_exclude_unset=True)
def api_document(request: Request, doc_id: int) -> dict[str, Any]:
    state = request.app.state
    with session_scope(state.engine) as session:
        scope = principal_of(request).scope
        doc = get_document(session, doc_id, scope)
        content = ui(request).can(Perm.VIEW_CONTENT)
        data = document_dict(doc, pages_of(session, doc_id) if content else None,
                             parties_of(session, doc_id), scope.level_of(doc))
        audit(request, session, "view", f"document:{doc_id}", {"client_id": doc.client_id})
    data["links"] = {"original": f"/api/documents/{doc_id}/original",
                     "searchable": f"/api/documents/{doc_id}/searchable",
                     "page": f"/documents/{doc_id}"}
    return data


@router.get("/documents/{doc_id}/original", summary="The decrypted original (streamed)",
            response_class=StreamingResponse)
def api_original(request: Request, doc_id: int) -> StreamingResponse:
    return files.download(request, doc_id, searchable=False)


@router.get("/documents/{doc_id}/searchable", summary="The searchable PDF (streamed)",
            response_class=StreamingResponse)
def api_searchable(request: Request, doc_id: int) -> StreamingResponse:
    return files.download(request, doc_id, searchable=True)


@router.get("/clients/{client_id}", summary="A client's documents and paper records",
            response_model=ClientOut, response_model_exclude_unset=True)
def api_client(request: Request, client_id: str) -> dict[str, Any]:
    state = request.app.state
    with session_scope(state.engine) as session:
        data = client_dict(client_view(session, client_id, principal_of(request).scope))
        audit(request, session, "view", f"client:{client_id}", {"client_id": client_id})
    data["page"] = f"/clients/{client_id}"
    return data
