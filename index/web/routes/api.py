"""REST API (JSON; schema at /openapi.json) for the office's CRM.

No Swagger page: FastAPI's loads its script from a public CDN into a signed-in page, where a
tampered script could call the API as the user. Load /openapi.json into any OpenAPI viewer.

Deep links: ``/api/clients/{client_id}`` and ``/clients/{client_id}`` (the page).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from papervault.index.accounts.access import Perm, Principal
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
from papervault.index.search.query import PER_PAGE_MAX, LinkState, SearchQuery
from papervault.index.web import files
from papervault.index.web.deps import audit, principal_of, single_valued, ui
from papervault.index.web.schemas import (
    ApiError,
    ClientOut,
    DocumentOut,
    IsoDate,
    Me,
    SearchResponse,
    errors,
)
from papervault.index.web.security import SESSION_COOKIE

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(single_valued)])
schema = APIRouter(include_in_schema=False)
# A download's body is the file itself, in its own type; a stored object that fails its
# authentication is refused before the first byte (review M3) as a 500, and audited.
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file, with Content-Disposition and X-Content-SHA256",
          "content": {mime: {"schema": {"type": "string", "format": "binary"}}
                      for mime in sorted({*files.MIME.values(), "application/octet-stream"})}},
    **errors(400, 404, 422),
    500: {"model": ApiError, "description": "The stored object failed its integrity check "
                                            "(integrity_mismatch): nothing was sent"},
}


# How a caller proves who they are: an API token (made on /account or with `users
# token-create`), or the browser's sign-in cookie. Said in the schema so clients and
# schemathesis know every operation needs one.
SECURITY_SCHEMES = {
    "token": {"type": "http", "scheme": "bearer",
              "description": "An API token: Authorization: Bearer pv_…"},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "The browser's sign-in session"},
}


@schema.get("/openapi.json")
def openapi_schema(request: Request) -> JSONResponse:
    doc = request.app.openapi()
    doc.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    doc["security"] = [{name: []} for name in SECURITY_SCHEMES]
    return JSONResponse(doc)


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


@router.get("/me", response_model=Me, summary="Who am I: name, roles and permissions",
            responses=errors())
def me(request: Request) -> Me:
    p: Principal = request.state.principal
    return Me(username=p.username, roles=sorted(p.roles), via=p.via,
              permissions=sorted(p.perms))


@router.get("/search", summary="Search documents / 检索", response_model=SearchResponse,
            responses=errors(400, 422))
def api_search(
    request: Request,
    q: Annotated[str, Query(description="words, client ID, 档号; Chinese any length")] = "",
    client_id: str | None = None,
    record_no: str | None = None,
    department: str | None = None,
    doc_type: str | None = None,
    link_state: LinkState | None = None,
    doc_from: IsoDate | None = None,
    doc_to: IsoDate | None = None,
    ingested_from: IsoDate | None = None,
    ingested_to: IsoDate | None = None,
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
            response_model=DocumentOut, response_model_exclude_unset=True,
            responses=errors(400, 404, 422))
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
            response_class=StreamingResponse, responses=DOWNLOAD)
def api_original(request: Request, doc_id: int) -> StreamingResponse:
    return files.download(request, doc_id, searchable=False)


@router.get("/documents/{doc_id}/searchable", summary="The searchable PDF (streamed)",
            response_class=StreamingResponse, responses=DOWNLOAD)
def api_searchable(request: Request, doc_id: int) -> StreamingResponse:
    return files.download(request, doc_id, searchable=True)


@router.get("/clients/{client_id}", summary="A client's documents and paper records",
            response_model=ClientOut, response_model_exclude_unset=True,
            responses=errors(404))
def api_client(request: Request, client_id: str) -> dict[str, Any]:
    state = request.app.state
    with session_scope(state.engine) as session:
        data = client_dict(client_view(session, client_id, principal_of(request).scope))
        audit(request, session, "view", f"client:{client_id}", {"client_id": client_id})
    data["page"] = f"/clients/{client_id}"
    return data
