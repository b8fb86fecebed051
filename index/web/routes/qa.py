"""Spot checks: the reviewer sees the sampled scans (and only those) and marks them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from papervault.config.errors import NotFound
from papervault.index.accounts.scope import Scope
from papervault.index.archive import get_document
from papervault.index.catalog.db import session_scope
from papervault.index.coverage import qa
from papervault.index.coverage.tables import QaCheck
from papervault.index.web import files
from papervault.index.web.deps import audit, principal_of, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)


def _sampled(session: Session, doc_id: int, scope: Scope) -> None:
    """NotFound unless ``doc_id`` was drawn for a spot check (auditors see no other scans)
    and lies in the reviewer's scope."""
    if session.exec(select(QaCheck).where(QaCheck.document_id == doc_id)).first() is None:
        raise NotFound(what=f"spot check of document {doc_id}")
    get_document(session, doc_id, scope)


@router.get("/qa", response_class=HTMLResponse)
def qa_page(request: Request) -> HTMLResponse:
    with session_scope(request.app.state.engine) as s:
        rows = qa.pending(s, principal_of(request).scope)
        rep = qa.report(s)
    return render(request, "qa.html", {"pending": rows[:50], "n_pending": len(rows),
                                       "qa": rep})


@router.get("/qa/{doc_id}/pages/{page_no}.jpg")
def qa_page_image(request: Request, doc_id: int, page_no: int, w: int = 800) -> Response:
    with session_scope(request.app.state.engine) as s:
        _sampled(s, doc_id, principal_of(request).scope)
        audit(request, s, "qa.view", f"document:{doc_id}", {"page": page_no})
    return files.thumbnail(request, doc_id, page_no, w)


@router.post("/qa/{doc_id}", response_class=HTMLResponse)
def qa_mark(request: Request, doc_id: int, verdict: Annotated[str, Form()],
            reason: Annotated[str, Form()] = "") -> Response:
    u = ui(request)
    with session_scope(request.app.state.engine) as s:
        _sampled(s, doc_id, principal_of(request).scope)
        qa.mark(s, doc_id, verdict, reason, u.actor)
        audit(request, s, f"qa.{verdict}", f"document:{doc_id}", {"reason": reason.strip()})
    return redirect("/qa", f"flash_qa_{verdict}" if verdict in ("pass", "fail") else None)
