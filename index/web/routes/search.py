"""Server-rendered pages for records officers: search, document, client."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from papervault.index.accounts.access import Perm, Principal
from papervault.index.archive import (
    classify_by_hand,
    client_view,
    get_document,
    hit_cards,
    known_values,
    marked,
    neighbours,
    pages_of,
    parse_date,
    record_title,
    scanned_records,
)
from papervault.index.catalog import doctypes
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Client
from papervault.index.coverage import completeness
from papervault.index.registers import review_queue
from papervault.index.search.query import LINK_STATES, SORTS, SearchQuery
from papervault.index.text import plain_int
from papervault.index.web import files
from papervault.index.web.deps import audit, principal_of, settings_of
from papervault.index.web.flash import redirect
from papervault.index.web.render import render
from papervault.index.web.routes.api import run_search

router = APIRouter(include_in_schema=False)
FILTERS = ("client_id", "record_no", "department", "doc_type", "link_state", "doc_from",
           "doc_to", "ingested_from", "ingested_to")
THUMBS_SHOWN = 60
# Server-rendered page widths the viewer's srcset offers (400: the worker's thumbnails).
VIEW_WIDTHS = (400, 800, 1200, 1600)


def _int(value: str | None, default: int) -> int:
    n = plain_int(value)
    return default if n is None else n


def _form(request: Request) -> dict[str, str]:
    p = request.query_params
    form = {k: p.get(k, "").strip() for k in ("q", *FILTERS)}
    form["sort"] = p.get("sort", "").strip()
    return form


def _query(form: dict[str, str], page: int) -> SearchQuery:
    return SearchQuery(
        q=form["q"], client_id=form["client_id"] or None, record_no=form["record_no"] or None,
        department=form["department"] or None, doc_type=form["doc_type"] or None,
        link_state=form["link_state"] or None, doc_from=parse_date(form["doc_from"]),
        doc_to=parse_date(form["doc_to"]), ingested_from=parse_date(form["ingested_from"]),
        ingested_to=parse_date(form["ingested_to"]), page=page,
        sort=form["sort"] or "relevance",
        # a 档号 or client names a batch and its parts alike: show the parts (B14)
        parts_only=bool(form["client_id"] or form["record_no"]),
    )


def _kept(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if v}


def pager(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to show: the first, the last and ``around`` either side (None: a gap)."""
    wanted = {1, pages, *range(max(1, page - around), min(pages, page + around) + 1)}
    out: list[int | None] = []
    for n in sorted(wanted):
        if out and out[-1] is not None and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out


@router.get("/", response_class=HTMLResponse, response_model=None)
def search_page(request: Request) -> Response:
    principal: Principal = request.state.principal
    if not principal.can(Perm.SEARCH):
        return RedirectResponse(principal.home(), status_code=303)
    form = _form(request)
    page = _int(request.query_params.get("page"), 1)
    query = _query(form, page)
    asked = any(v for k, v in form.items() if k != "sort")
    result = run_search(request, query) if asked else None
    with session_scope(request.app.state.engine) as session:
        cards = hit_cards(session, result.hits) if result else {}
        known = known_values(session, principal_of(request).scope)
        waiting = None if asked else review_queue.queue(session, limit=0,
                                                          scope=principal_of(request).scope)[1]
    kept = _kept(form)

    def page_url(n: int) -> str:
        return "/?" + urlencode({**kept, "page": n})

    def sort_url(sort: str) -> str:
        return "/?" + urlencode({**{k: v for k, v in kept.items() if k != "sort"},
                                 "sort": sort})

    def doc_url(doc_id: int, index: int) -> str:
        return f"/documents/{doc_id}?" + urlencode({**kept, "page": page, "i": index})

    return render(request, "search.html", {
        "form": form, "result": result, "asked": asked, "page_url": page_url,
        "sort_url": sort_url, "doc_url": doc_url, "cards": cards, "sorts": SORTS,
        "sort": query.sort, "pager": pager(result.page, result.pages) if result else [],
        "link_states": LINK_STATES, "known": known, "waiting": waiting,
        "open_filters": any(form[k] for k in FILTERS),
    })


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: int) -> HTMLResponse:
    state = request.app.state
    form = _form(request)
    kept = _kept(form)
    page = _int(request.query_params.get("page"), 1)
    index = plain_int(request.query_params.get("i"))
    with session_scope(state.engine) as session:
        doc = get_document(session, doc_id, principal_of(request).scope)
        pages = pages_of(session, doc_id)
        title = record_title(session, doc)
        client = session.get(Client, doc.client_id) if doc.client_id else None
        before = after = None
        if index is not None and any(
                v for k, v in form.items() if k != "sort"):
            # ids only, from a search this officer already ran (and the trail recorded)
            before, after = neighbours(session, _query(form, page), index, state.pi_key,
                                       principal_of(request).scope)
        audit(request, session, "view", f"document:{doc_id}", {"client_id": doc.client_id})
        classify = _classify_choices(request, session)
    scope = principal_of(request).scope
    count = doc.page_count or len(pages) or 1
    shown = min(max(_int(request.query_params.get("p"), 1), 1), count)
    here = next((p for p in pages if p.page_no == shown), None)
    per_page = 20

    def nav_url(target: int, shift: int) -> str:
        i = int(index or 0) + shift
        n = page + (-1 if i < 0 else 1 if i >= per_page else 0)
        return f"/documents/{target}?" + urlencode({**kept, "page": n, "i": i % per_page})

    def view_url(n: int) -> str:
        extra = {"page": page, "i": index} if index is not None else {}
        return f"/documents/{doc_id}?" + urlencode({**kept, **extra, "p": n}) + "#viewer"

    results_url = "/?" + urlencode({**kept, "page": page}) if kept else None
    return render(request, "document.html", {
        "doc": doc, "pages": pages, "title": title, "client": client,
        "thumbs": list(range(1, min(count, THUMBS_SHOWN) + 1)),
        "more_pages": max(0, count - THUMBS_SHOWN), "q": form["q"],
        "warnings": json.loads(doc.warnings or "[]"), "count": count, "shown": shown,
        "here": here, "marked": marked(here.text, form["q"]) if here else [],
        "widths": VIEW_WIDTHS, "view_url": view_url, "results_url": results_url,
        "prev_url": nav_url(before, -1) if before else None,
        "next_url": nav_url(after, 1) if after else None,
        "level": scope.level_of(doc), "classify": classify,
    })


def _classify_choices(request: Request, session: Session) -> dict[str, list[str]] | None:
    """What an officer may set on the document page (None: not theirs to set): the
    configured types, and the departments and 密级 within their own scope."""
    principal = principal_of(request)
    if not principal.can(Perm.LINK):
        return None
    s = settings_of(request)
    scope = principal.scope
    departments = (sorted(scope.departments) if scope.departments is not None else sorted(
        set(known_values(session)["department"]) | set(s.completeness.departments)))
    return {"types": list(doctypes.rules_from(s.classify).names), "departments": departments,
            "levels": [lv for lv in s.access.levels if scope.sees_level(lv)]}


@router.post("/documents/{doc_id}/classify")
def classify(request: Request, doc_id: int, doc_type: Annotated[str, Form()] = "",
             department: Annotated[str, Form()] = "",
             level: Annotated[str, Form()] = "") -> RedirectResponse:
    """Set the type, department or 密级 by hand: what ``papervault classify set`` does, in
    the officer's scope (a refusal reaches the app's error page with its reason)."""
    with session_scope(request.app.state.engine) as session:
        before, after = classify_by_hand(
            session, doc_id, principal_of(request).scope, settings_of(request),
            doc_type.strip() or None, department.strip() or None, level.strip() or None)
        audit(request, session, "document.classify", f"document:{doc_id}",
              {"before": before, "after": after})
    return redirect(f"/documents/{doc_id}", "flash_doc_classified", id=doc_id)


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
        scanned = scanned_records(session, view)
        titles = {d.id: record_title(session, d) for d in view.documents}
        checklist = _checklist(request, session, client_id)
    return render(request, "client.html", {"view": view, "scanned": scanned, "titles": titles,
                                           "checklist": checklist})


def _checklist(request: Request, session: Session, client_id: str) -> list[dict[str, Any]]:
    """The client's file and paper records against their checklists (the viewer's scope:
    a record of another department is not listed), each required type with its state."""
    s = settings_of(request)
    rep = completeness.check(session, s.completeness, doctypes.rules_from(s.classify),
                             principal_of(request).scope, client_id=client_id)
    out = []
    for f in rep.files:
        states = {**dict.fromkeys(f.missing, "missing"),
                  **dict.fromkeys(f.unverified, "unverified"),
                  **dict.fromkeys(f.present, "present")}
        out.append({"file": f, "lines": [(t, states[t]) for t in f.required]})
    return out
