"""Server-rendered pages for records officers: search, document, client."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from papervault.index.accounts.access import Perm, Principal
from papervault.index.archive import client_view, get_document, pages_of, parse_date
from papervault.index.catalog.db import session_scope
from papervault.index.search.query import LINK_STATES, SearchQuery
from papervault.index.web import files
from papervault.index.web.deps import audit, principal_of
from papervault.index.web.render import render
from papervault.index.web.routes.api import run_search

router = APIRouter(include_in_schema=False)
FILTERS = ("client_id", "record_no", "department", "doc_type", "link_state", "doc_from",
           "doc_to", "ingested_from", "ingested_to")
THUMBS_SHOWN = 60


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


@router.get("/", response_class=HTMLResponse, response_model=None)
def search_page(request: Request) -> Response:
    principal: Principal = request.state.principal
    if not principal.can(Perm.SEARCH):
        return RedirectResponse(principal.home(), status_code=303)
    p = request.query_params
    form = {k: p.get(k, "").strip() for k in ("q", *FILTERS)}
    query = SearchQuery(
        q=form["q"], client_id=form["client_id"] or None, record_no=form["record_no"] or None,
        department=form["department"] or None, doc_type=form["doc_type"] or None,
        link_state=form["link_state"] or None, doc_from=parse_date(form["doc_from"]),
        doc_to=parse_date(form["doc_to"]), ingested_from=parse_date(form["ingested_from"]),
        ingested_to=parse_date(form["ingested_to"]), page=_int(p.get("page"), 1),
    )
    asked = any(form.values())
    result = run_search(request, query) if asked else None

    def page_url(n: int) -> str:
        kept = {k: v for k, v in form.items() if v}
        return "/?" + urlencode({**kept, "page": n})

    return render(request, "search.html", {
        "form": form, "result": result, "asked": asked, "page_url": page_url,
        "link_states": LINK_STATES,
        "open_filters": any(form[k] for k in FILTERS),
    })


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: int) -> HTMLResponse:
    state = request.app.state
    with session_scope(state.engine) as session:
        doc = get_document(session, doc_id, principal_of(request).scope)
        pages = pages_of(session, doc_id)
        audit(request, session, "view", f"document:{doc_id}", {"client_id": doc.client_id})
    count = doc.page_count or len(pages) or 1
    return render(request, "document.html", {
        "doc": doc, "pages": pages, "thumbs": list(range(1, min(count, THUMBS_SHOWN) + 1)),
        "more_pages": max(0, count - THUMBS_SHOWN), "q": request.query_params.get("q", ""),
        "warnings": json.loads(doc.warnings or "[]"),
    })


@router.get("/documents/{doc_id}/original")
def original(request: Request, doc_id: int) -> StreamingResponse:
    return files.download(request, doc_id, searchable=False)


@router.get("/documents/{doc_id}/searchable")
def searchable(request: Request, doc_id: int) -> StreamingResponse:
    return files.download(request, doc_id, searchable=True)


@router.get("/documents/{doc_id}/pages/{page_no}.jpg")
def page_image(request: Request, doc_id: int, page_no: int, w: int = 240) -> Response:
    return files.thumbnail(request, doc_id, page_no, w)


@router.get("/clients/{client_id}", response_class=HTMLResponse)
def client_page(request: Request, client_id: str) -> HTMLResponse:
    state = request.app.state
    with session_scope(state.engine) as session:
        view = client_view(session, client_id, principal_of(request).scope)
        audit(request, session, "view", f"client:{client_id}", {"client_id": client_id})
    return render(request, "client.html", {"view": view})
