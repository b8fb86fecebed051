"""The auditors' dashboard: coverage figures, a chart by department and year, the flagged
records with filters, CSV export and cover sheets for exactly what the filters show."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from papervault.config.errors import BadInput
from papervault.index.catalog.db import session_scope
from papervault.index.coverage import qa
from papervault.index.coverage import report as coverage
from papervault.index.coverage.report import FlagFilter
from papervault.index.web.app import audit, render, ui

router = APIRouter()
SHOWN = 200
STATES = ("none", "stored", "failed")


def _filter(request: Request) -> FlagFilter:
    p = request.query_params
    state = p.get("state") or None
    if state is not None and state not in STATES:
        raise BadInput(detail=f"state must be one of {', '.join(STATES)}")
    year = p.get("year") or None
    if year is not None and not year.isdigit():
        raise BadInput(detail="year must be a number")
    return FlagFilter(state=state, department=p.get("department") or None,
                      year=int(year) if year else None)


def _query(flt: FlagFilter) -> str:
    params = {"state": flt.state, "department": flt.department, "year": flt.year}
    return urlencode({k: v for k, v in params.items() if v is not None})


def _audit(request: Request, session: Any, action: str, detail: dict[str, object]) -> None:
    audit(request, session, action, "coverage", detail)


def _overview(request: Request, flt: FlagFilter, with_qa: bool
              ) -> tuple[coverage.Report, list[coverage.Flagged], int, dict[str, Any] | None]:
    """What the dashboard and /api/coverage show (one audited coverage.view)."""
    with session_scope(request.app.state.engine) as s:
        rep = coverage.report(s)
        flagged = coverage.flagged(s, flt, limit=SHOWN)
        n_flagged = coverage.count_flagged(s, flt)
        qa_report = qa.report(s) if with_qa else None
        _audit(request, s, "coverage.view", rep.totals.as_dict())
    return rep, flagged, n_flagged, qa_report


@router.get("/coverage", response_class=HTMLResponse, include_in_schema=False)
def coverage_page(request: Request) -> HTMLResponse:
    flt = _filter(request)
    rep, flagged, n_flagged, qa_report = _overview(request, flt, with_qa=True)
    chart = sorted(rep.by_department_year.items())
    return render(request, "coverage_dashboard.html", {
        "rep": rep, "chart": chart, "flagged": flagged, "n_flagged": n_flagged,
        "shown": SHOWN, "flt": flt, "query": _query(flt), "states": STATES,
        "departments": sorted(rep.by_department), "years": sorted(rep.by_year),
        "qa": qa_report,
    })


@router.get("/coverage/flagged.csv", include_in_schema=False)
def flagged_csv(request: Request) -> Response:
    flt = _filter(request)
    with session_scope(request.app.state.engine) as s:
        coverage.refresh(s)
        data = coverage.flagged_csv(s, flt)
        _audit(request, s, "coverage.export", {"filter": _query(flt)})
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="flagged-records.csv"'})


@router.get("/coverage/coversheets.pdf", include_in_schema=False)
def coversheets_pdf(request: Request) -> Response:
    from papervault.index.coverage.coversheets import render as render_sheets

    flt = _filter(request)
    with session_scope(request.app.state.engine) as s:
        records = coverage.sheet_records(s, every=False, flt=flt)
        _audit(request, s, "coversheets.print", {"count": len(records), "filter": _query(flt)})
    return Response(render_sheets(records), media_type="application/pdf", headers={
        "Content-Disposition": 'inline; filename="coversheets.pdf"'})


@router.get("/api/coverage")
def coverage_api(request: Request) -> JSONResponse:
    """Coverage totals, breakdowns and the first flagged records (same filters as the page)."""
    flt = _filter(request)
    rep, flagged, n, _ = _overview(request, flt, with_qa=False)
    return JSONResponse({**rep.as_dict(), "flagged_total": n,
                         "flagged": [f.as_dict() for f in flagged]})


# -- spot checks: the reviewer sees the sampled scans (and only those) and marks them ------


def _sampled(session: Any, doc_id: int) -> None:
    """NotFound unless ``doc_id`` was drawn for a spot check (auditors see no other scans)."""
    from sqlmodel import select

    from papervault.config.errors import NotFound
    from papervault.index.coverage.tables import QaCheck

    if session.exec(select(QaCheck).where(QaCheck.document_id == doc_id)).first() is None:
        raise NotFound(what=f"spot check of document {doc_id}")


@router.get("/qa", response_class=HTMLResponse, include_in_schema=False)
def qa_page(request: Request) -> HTMLResponse:
    with session_scope(request.app.state.engine) as s:
        rows = qa.pending(s)
        rep = qa.report(s)
    return render(request, "qa.html", {"pending": rows[:50], "n_pending": len(rows),
                                       "qa": rep})


@router.get("/qa/{doc_id}/pages/{page_no}.jpg", include_in_schema=False)
def qa_page_image(request: Request, doc_id: int, page_no: int, w: int = 800) -> Response:
    from papervault.index.web import files

    with session_scope(request.app.state.engine) as s:
        _sampled(s, doc_id)
        audit(request, s, "qa.view", f"document:{doc_id}", {"page": page_no})
    return files.thumbnail(request, doc_id, page_no, w)


@router.post("/qa/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
def qa_mark(request: Request, doc_id: int, verdict: Annotated[str, Form()],
            reason: Annotated[str, Form()] = "") -> Response:
    from fastapi.responses import RedirectResponse

    u = ui(request)
    with session_scope(request.app.state.engine) as s:
        _sampled(s, doc_id)
        qa.mark(s, doc_id, verdict, reason, u.actor)
        audit(request, s, f"qa.{verdict}", f"document:{doc_id}", {"reason": reason.strip()})
    return RedirectResponse("/qa", status_code=303)
