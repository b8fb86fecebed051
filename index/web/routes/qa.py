"""Spot checks: the auditor draws a sample, reads every page of each sampled scan and marks
it; auditors see the sampled scans and only those."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from papervault.config.errors import NotFound
from papervault.index.accounts.scope import Scope
from papervault.index.archive import get_document
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document
from papervault.index.coverage import qa
from papervault.index.coverage.tables import QaCheck
from papervault.index.web import files
from papervault.index.web.deps import audit, principal_of, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)
FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5)
PAGE_WIDTH = 1200  # legible on a 1366 px desk screen; a phone scales it down
SHOWN = 50


def _sampled(session: Session, doc_id: int, scope: Scope) -> QaCheck:
    """The spot check of ``doc_id``; NotFound unless it was drawn (auditors see no other
    scans) and lies in the reviewer's scope."""
    check = session.exec(select(QaCheck).where(QaCheck.document_id == doc_id)).first()
    if check is None:
        raise NotFound(what=f"spot check of document {doc_id}")
    get_document(session, doc_id, scope)
    return check


@router.get("/qa", response_class=HTMLResponse)
def qa_page(request: Request) -> HTMLResponse:
    with session_scope(request.app.state.engine) as s:
        rows = qa.pending(s, scope=principal_of(request).scope)
        rep = qa.report(s)
        departments = qa.departments(s)
    return render(request, "qa.html", {"pending": rows[:SHOWN], "n_pending": len(rows),
                                       "qa": rep, "fractions": FRACTIONS,
                                       "departments": departments})


@router.post("/qa/sample")
def qa_sample(request: Request, fraction: Annotated[float, Form()] = qa.MIN_FRACTION,
              department: Annotated[str, Form()] = "") -> Response:
    if fraction not in FRACTIONS:
        return redirect("/qa", "flash_qa_fraction_bad", "danger")
    dept = department.strip() or None
    with session_scope(request.app.state.engine) as s:
        sample = qa.draw(s, fraction, department=dept)
        audit(request, s, "qa.sample", sample.sample_id,
              {"fraction": fraction, "department": dept, "population": sample.population,
               "documents": list(sample.document_ids)})
    if not sample.document_ids:
        return redirect("/qa", "flash_qa_nothing", "warning")
    return redirect("/qa", "flash_qa_sampled", count=len(sample.document_ids),
                    population=sample.population)


def _check_view(request: Request, doc_id: int, page: int, reason: str = "",
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    with session_scope(request.app.state.engine) as s:
        check = _sampled(s, doc_id, principal_of(request).scope)
        rows = [r for r in qa.pending(s) if r["document_id"] == doc_id]
        doc = s.get(Document, doc_id)
        if doc is None:
            raise NotFound(what=f"document {doc_id}")
        row: dict[str, Any] = rows[0] if rows else {
            "document_id": doc_id, "original_name": doc.original_name,
            "record_no": doc.record_no, "client_id": doc.client_id, "title": "",
            "expected_pages": None, "page_count": doc.page_count or 1}
        # Where "next document" goes: the next one still waiting after this one.
        after = s.exec(select(QaCheck.document_id).where(
            col(QaCheck.result) == "pending", col(QaCheck.document_id) > doc_id)
            .order_by(col(QaCheck.document_id)).limit(1)).first()
        result = check.result
    n = row["page_count"]
    page = min(max(1, page), n)
    return render(request, "qa_check.html", {
        "d": row, "page": page, "pages": n, "width": PAGE_WIDTH, "reason": reason,
        "error": error, "result": result, "next_doc": after}, status_code=status_code)


@router.get("/qa/{doc_id}", response_class=HTMLResponse)
def qa_check(request: Request, doc_id: int, page: int = 1) -> HTMLResponse:
    return _check_view(request, doc_id, page)


@router.get("/qa/{doc_id}/pages/{page_no}.jpg")
def qa_page_image(request: Request, doc_id: int, page_no: int, w: int = 800) -> Response:
    with session_scope(request.app.state.engine) as s:
        _sampled(s, doc_id, principal_of(request).scope)
        audit(request, s, "qa.view", f"document:{doc_id}", {"page": page_no})
    return files.thumbnail(request, doc_id, page_no, w)


@router.post("/qa/{doc_id}", response_class=HTMLResponse)
def qa_mark(request: Request, doc_id: int, verdict: Annotated[str, Form()],
            reason: Annotated[str, Form()] = "", page: Annotated[int, Form()] = 1
            ) -> Response:
    if verdict == "fail" and not reason.strip():
        # The form comes back as it was, with the page the auditor was on (B5).
        return _check_view(request, doc_id, page, reason,
                           ui(request).t("ui_qa_reason_required"), status_code=422)
    u = ui(request)
    with session_scope(request.app.state.engine) as s:
        _sampled(s, doc_id, principal_of(request).scope)
        qa.mark(s, doc_id, verdict, reason, u.actor)
        audit(request, s, f"qa.{verdict}", f"document:{doc_id}", {"reason": reason.strip()})
    return redirect("/qa", f"flash_qa_{verdict}")
