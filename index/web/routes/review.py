"""The review queue: documents waiting for a client link, their candidates, and the link an
officer makes by hand (the same service as ``papervault review --link``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from papervault.config.errors import NotFound
from papervault.index.catalog.db import session_scope
from papervault.index.registers import review
from papervault.index.web.deps import audit
from papervault.index.web.flash import redirect
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)
PER_PAGE = 20


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, page: int = 1) -> HTMLResponse:
    page = max(page, 1)
    with session_scope(request.app.state.engine) as session:
        waiting, total = review.queue(session, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
        audit(request, session, "review.view", "",
              {"documents": [w.document.id for w in waiting]})
    return render(request, "review.html", {
        "waiting": waiting, "total": total, "page": page,
        "pages": max(1, -(-total // PER_PAGE))})


@router.get("/review/matches", response_class=HTMLResponse)
def review_matches(request: Request, doc: int, typed: str = "") -> HTMLResponse:
    """Register entries matching what the officer typed (an htmx fragment)."""
    with session_scope(request.app.state.engine) as session:
        found = review.matches(session, typed)
    return render(request, "_review_matches.html", {"matches": found, "doc_id": doc,
                                                     "typed": typed.strip()})


@router.post("/review/{doc_id}/link")
def review_link(request: Request, doc_id: int, client_id: Annotated[str, Form()] = "",
                record_no: Annotated[str, Form()] = "") -> Response:
    client_id, record_no = client_id.strip(), record_no.strip()
    if not client_id:
        return redirect(f"/review#doc-{doc_id}", "flash_review_choose", "warning")
    with session_scope(request.app.state.engine) as session:
        # The records branch adds the 档号 to the hand link (B1); until it lands the form
        # carries record_no through and only the client is set.
        try:
            change = review.link_client(session, doc_id, client_id)
        except NotFound:
            return redirect(f"/review#doc-{doc_id}", "flash_review_no_client", "warning",
                            client=client_id[:64])
        audit(request, session, "link", f"document:{doc_id}",
              {"from": change.before, "to": change.after})
    return redirect("/review", "flash_review_linked", doc=doc_id, client=change.after)
