"""The review queue: documents waiting for a client link, their candidates, and the link an
officer makes by hand (the same service as ``papervault review --link``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from papervault.config.errors import BadInput, NotFound
from papervault.config.settings import Settings
from papervault.index.accounts.scope import Hidden
from papervault.index.catalog.db import session_scope
from papervault.index.registers import review, review_queue
from papervault.index.registers.metadata import compile_dates
from papervault.index.web.deps import audit, principal_of, settings_of, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)
PER_PAGE = 20


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, page: int = 1) -> HTMLResponse:
    page = max(page, 1)
    with session_scope(request.app.state.engine) as session:
        waiting, total = review_queue.queue(session, limit=PER_PAGE,
                                            offset=(page - 1) * PER_PAGE,
                                            scope=principal_of(request).scope)
        audit(request, session, "review.view", "",
              {"documents": [w.document.id for w in waiting]})
    return render(request, "review.html", {
        "waiting": waiting, "total": total, "page": page,
        "pages": max(1, -(-total // PER_PAGE))})


@router.get("/review/matches", response_class=HTMLResponse)
def review_matches(request: Request, doc: int, typed: str = "") -> HTMLResponse:
    """Register entries matching what the officer typed (an htmx fragment)."""
    with session_scope(request.app.state.engine) as session:
        found = review_queue.matches(session, typed, scope=principal_of(request).scope)
    return render(request, "_review_matches.html", {"matches": found, "doc_id": doc,
                                                     "typed": typed.strip()})


@router.post("/review/bulk")
def review_bulk(request: Request, doc_ids: Annotated[list[int] | None, Form()] = None,
                client_id: Annotated[str, Form()] = "",
                record_no: Annotated[str, Form()] = "") -> Response:
    """Link every ticked document to one client and/or 档号, all or none: a refusal of one
    (a 档号 of another client, a document out of scope) links none and names it."""
    client_id, record_no = client_id.strip(), record_no.strip()
    ids = sorted(set(doc_ids or []))
    if not ids:
        return redirect("/review", "flash_review_bulk_none", "warning")
    if not client_id and not record_no:
        return redirect("/review", "flash_review_choose", "warning")
    settings: Settings = settings_of(request)
    u = ui(request)
    current = ids[0]
    try:
        with session_scope(request.app.state.engine) as session:
            for current in ids:
                done = review.link_by_hand(
                    session, current, client_id or None, record_no or None,
                    audit_key=request.app.state.auditor.key, actor=u.actor, origin=u.origin,
                    dates=compile_dates(settings.link.date_patterns),
                    scope=principal_of(request).scope)
    except (BadInput, NotFound) as e:
        if isinstance(e, Hidden):  # out of scope: answered and audited as not found
            raise
        return redirect("/review", "flash_review_bulk_refused", "danger", doc=current,
                        reason=e.message(u.lang)[:200])
    return redirect("/review", "flash_review_bulk_linked", n=len(ids),
                    client=done.client_id or done.record_no or "-")


@router.post("/review/{doc_id}/link")
def review_link(request: Request, doc_id: int, client_id: Annotated[str, Form()] = "",
                record_no: Annotated[str, Form()] = "") -> Response:
    client_id, record_no = client_id.strip(), record_no.strip()
    if not client_id and not record_no:
        return redirect(f"/review#doc-{doc_id}", "flash_review_choose", "warning")
    settings: Settings = settings_of(request)
    u = ui(request)
    try:
        with session_scope(request.app.state.engine) as session:
            # One hand link for the web and the CLI: the 档号's client is taken, a client
            # and 档号 that do not belong together are refused, metadata follows (B1).
            done = review.link_by_hand(
                session, doc_id, client_id or None, record_no or None,
                audit_key=request.app.state.auditor.key, actor=u.actor, origin=u.origin,
                dates=compile_dates(settings.link.date_patterns),
                scope=principal_of(request).scope)
    except NotFound as e:
        if e.key != "not_found" or "document" in str(e.params.get("what", "")):
            raise
        return redirect(f"/review#doc-{doc_id}", "flash_review_no_client", "warning",
                        client=(client_id or record_no)[:64])
    except BadInput as e:
        return redirect(f"/review#doc-{doc_id}", "flash_review_refused", "danger",
                        reason=e.message(u.lang)[:200])
    return redirect("/review", "flash_review_linked", doc=doc_id,
                    client=done.client_id or done.record_no or "-")
