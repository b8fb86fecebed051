"""The auditors' audit trail: filtered pages, CSV export and the API."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from papervault.index.accounts import audit as trail
from papervault.index.archive import parse_date
from papervault.index.catalog.db import session_scope
from papervault.index.web.deps import audit
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
AUDIT_PAGE = 100


def _log_filter(request: Request) -> trail.LogFilter:
    p = request.query_params
    since = parse_date(p.get("since"))
    until = parse_date(p.get("until"))
    return trail.LogFilter(
        actor=(p.get("actor") or "").strip() or None,
        action=(p.get("action") or "").strip() or None,
        target=(p.get("target") or "").strip() or None,
        client_id=(p.get("client_id") or "").strip() or None,
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
    )


def _page_no(request: Request) -> int:
    value = request.query_params.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> HTMLResponse:
    flt = _log_filter(request)
    page = _page_no(request)
    with session_scope(request.app.state.engine) as session:
        rows = trail.entries(session, flt, AUDIT_PAGE, (page - 1) * AUDIT_PAGE)
        total = trail.count(session, flt)
        audit(request, session, "audit.view", "audit", {**flt.params(), "page": page})
    query = urlencode(flt.params())
    return render(request, "audit.html", {
        "entries": rows, "total": total, "page": page, "per_page": AUDIT_PAGE,
        "form": flt.params(), "query": query,
    })


@router.get("/audit.csv")
def audit_csv(request: Request) -> Response:
    flt = _log_filter(request)
    with session_scope(request.app.state.engine) as session:
        data = trail.entries_csv(session, flt)
        audit(request, session, "audit.export", "audit", flt.params())
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit-trail.csv"'})


@api.get("/audit", summary="The audit trail, newest first (auditors)")
def audit_api(request: Request, limit: int = 200, offset: int = 0) -> dict[str, Any]:
    flt = _log_filter(request)
    limit = max(1, min(limit, 1000))
    with session_scope(request.app.state.engine) as session:
        rows = trail.entries(session, flt, limit, max(0, offset))
        total = trail.count(session, flt)
        audit(request, session, "audit.view", "audit", flt.params())
    return {"total": total, "filters": flt.params(),
            "entries": [trail.entry_dict(e) for e in rows]}
