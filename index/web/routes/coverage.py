"""The auditors' dashboard: coverage figures, a chart by department and year, the flagged
records with filters, CSV export and cover sheets for exactly what the filters show."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from papervault.config.errors import BadInput
from papervault.index.catalog import doctypes
from papervault.index.catalog.db import session_scope
from papervault.index.coverage import completeness, qa
from papervault.index.coverage import report as coverage
from papervault.index.coverage.coversheets import render as render_sheets
from papervault.index.coverage.report import FlagFilter
from papervault.index.text import plain_int
from papervault.index.web.deps import audit, principal_of, settings_of, single_valued, ui
from papervault.index.web.render import render
from papervault.index.web.schemas import errors

router = APIRouter()
SHOWN = 200
FlagState = Literal["none", "review", "stored", "failed"]
STATES: tuple[str, ...] = get_args(FlagState)


def _filter(request: Request) -> FlagFilter:
    p = request.query_params
    state = p.get("state") or None
    if state is not None and state not in STATES:
        raise BadInput(detail=f"state must be one of {', '.join(STATES)}")
    year = p.get("year") or None
    if year is not None and plain_int(year) is None:
        raise BadInput(detail="year must be a number")
    return FlagFilter(state=state, department=p.get("department") or None,
                      year=int(year) if year else None,
                      departments=principal_of(request).scope.departments)


def _query(flt: FlagFilter) -> str:
    params = {"state": flt.state, "department": flt.department, "year": flt.year}
    return urlencode({k: v for k, v in params.items() if v is not None})


def _chart_row(dept: str, year: str, g: coverage.Tally) -> dict[str, Any]:
    """One department × year bar; each coloured part links to exactly those records."""
    base = FlagFilter(department=None if dept == "-" else dept,
                      year=plain_int(year))
    segments = []
    for state in ("verified", "review", "stored", "none", "failed"):
        n = getattr(g, state)
        if n:
            # Verified records are never flagged: their part opens the row's whole list.
            flt = base if state == "verified" else FlagFilter(state, base.department, base.year)
            segments.append({"state": state, "n": n, "pct": min(100, -(-100 * n // g.total)),
                             "href": f"/coverage?{_query(flt)}#flagged-list"})
    return {"dept": dept, "year": year, "tally": g, "segments": segments,
            "href": f"/coverage?{_query(base)}#flagged-list"}


def _audit(request: Request, session: Any, action: str, detail: dict[str, object]) -> None:
    audit(request, session, action, "coverage", detail)


def _overview(request: Request, flt: FlagFilter, with_qa: bool
              ) -> tuple[coverage.Report, list[coverage.Flagged], int, dict[str, Any] | None]:
    """What the dashboard and /api/coverage show (one audited coverage.view)."""
    with session_scope(request.app.state.engine) as s:
        rep = coverage.report(s, flt.departments)
        flagged = coverage.flagged(s, flt, limit=SHOWN)
        n_flagged = coverage.count_flagged(s, flt)
        qa_report = qa.report(s) if with_qa else None
        _audit(request, s, "coverage.view", rep.totals.as_dict())
    return rep, flagged, n_flagged, qa_report


@router.get("/coverage", response_class=HTMLResponse, include_in_schema=False)
def coverage_page(request: Request) -> HTMLResponse:
    flt = _filter(request)
    rep, flagged, n_flagged, qa_report = _overview(request, flt, with_qa=True)
    chart = [_chart_row(d, y, g) for (d, y), g in sorted(rep.by_department_year.items())]
    s = settings_of(request)
    with session_scope(request.app.state.engine) as session:
        # presence counts whatever a copy's 密级 (the service's rule): a tally shows no content
        by_department = completeness.check(
            session, s.completeness, doctypes.rules_from(s.classify),
            principal_of(request).scope.departments_only()).by_department()
    u = ui(request)
    words = [flt.department or "", str(flt.year or ""),
             u.t(f"ui_cov_{flt.state}") if flt.state else ""]
    return render(request, "coverage_dashboard.html", {
        "rep": rep, "chart": chart, "filter_words": " · ".join(w for w in words if w),
        "flagged": flagged, "n_flagged": n_flagged,
        "shown": SHOWN, "flt": flt, "query": _query(flt), "states": STATES,
        "departments": sorted(rep.by_department), "years": sorted(rep.by_year),
        "qa": qa_report, "completeness": by_department,
    })


@router.get("/coverage/flagged.csv", include_in_schema=False)
def flagged_csv(request: Request) -> Response:
    flt = _filter(request)
    with session_scope(request.app.state.engine) as s:
        coverage.refresh(s)
        header = [ui(request).t(f"ui_csv_cov_{c}") for c in coverage.CSV_COLUMNS]
        data = coverage.flagged_csv(s, flt, header)
        _audit(request, s, "coverage.export", {"filter": _query(flt)})
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="flagged-records.csv"'})


@router.get("/coverage/coversheets.pdf", include_in_schema=False)
def coversheets_pdf(request: Request) -> Response:
    flt = _filter(request)
    with session_scope(request.app.state.engine) as s:
        records = coverage.sheet_records(s, every=False, flt=flt)
        _audit(request, s, "coversheets.print", {"count": len(records), "filter": _query(flt)})
    return Response(render_sheets(records), media_type="application/pdf", headers={
        "Content-Disposition": 'inline; filename="coversheets.pdf"'})


@router.get("/api/coverage", tags=["api"], summary="Coverage of the paper register (auditors)",
            response_model=dict[str, Any], responses=errors(422),
            dependencies=[Depends(single_valued)])
def coverage_api(
    request: Request,
    state: Annotated[FlagState | None, Query(description="flagged records in this state")] = None,
    department: str | None = None,
    year: Annotated[int | None, Query(ge=1, le=9999)] = None,
) -> JSONResponse:
    """Coverage totals, breakdowns and the first flagged records (same filters as the page)."""
    flt = FlagFilter(state=state, department=department or None, year=year,
                     departments=principal_of(request).scope.departments)
    rep, flagged, n, _ = _overview(request, flt, with_qa=False)
    return JSONResponse({**rep.as_dict(), "flagged_total": n,
                         "flagged": [f.as_dict() for f in flagged]})
