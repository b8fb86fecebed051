"""The auditors' audit trail: filtered pages, CSV export and the API."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from papervault.config.catalogue.auditor import ACTIONS
from papervault.config.messages import CATALOGUE
from papervault.index.accounts import audit as trail
from papervault.index.accounts.chaincheck import last_verification, verify_now
from papervault.index.archive import parse_date
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import AuditEntry
from papervault.index.text import plain_int
from papervault.index.web.deps import Ui, audit, settings_of, single_valued, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render
from papervault.index.web.schemas import IsoDate, errors

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(single_valued)])
AUDIT_PAGE = 100


def _log_filter(request: Request) -> trail.LogFilter:
    p = request.query_params
    return log_filter(p.get("actor"), p.get("action"), p.get("target"), p.get("client_id"),
                      p.get("origin"), parse_date(p.get("since")), parse_date(p.get("until")))


def log_filter(actor: str | None, action: str | None, target: str | None,
               client_id: str | None, origin: str | None, since: date | None,
               until: date | None) -> trail.LogFilter:
    """The trail's filter from the page's or the API's fields (blank means any)."""
    return trail.LogFilter(
        actor=(actor or "").strip() or None,
        action=(action or "").strip() or None,
        target=(target or "").strip() or None,
        client_id=(client_id or "").strip() or None,
        # Who really acted (review M7): "cli root@host" whatever actor it claimed.
        origin=(origin or "").strip() or None,
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
    )


def _page_no(request: Request) -> int:
    return max(1, plain_int(request.query_params.get("page")) or 1)


def _target(u: Ui, target: str) -> dict[str, str | None]:
    """A target as words and, where this user may follow it, a link."""
    kind, _, ident = target.partition(":")
    href: str | None = None
    if kind == "document" and ident.isdigit():
        href = f"/documents/{ident}" if u.can("view_metadata") else None
    elif kind == "client" and ident:
        href = (f"/clients/{quote(ident)}" if u.can("search")
                else f"/audit?{urlencode({'client_id': ident})}")
    elif kind == "user" and ident:
        href = (f"/admin/users#user-{quote(ident)}" if u.can("users")
                else f"/audit?{urlencode({'actor': ident})}")
    else:
        return {"text": target, "href": None}
    return {"text": u.t(f"ui_audit_target_{kind}", id=ident), "href": href}


def _row(u: Ui, e: AuditEntry) -> dict[str, Any]:
    key = f"ui_act_{e.action}"
    detail = json.loads(e.detail or "{}")
    return {"id": e.id, "at": e.at, "actor": e.actor, "code": e.action,
            "action": u.t(key) if key in CATALOGUE else e.action,
            "target": _target(u, e.target), "origin": e.origin,
            "detail": "; ".join(f"{k}: {v}" for k, v in detail.items()
                                if v not in (None, "", [], {}))}


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> HTMLResponse:
    flt = _log_filter(request)
    page = _page_no(request)
    u = ui(request)
    with session_scope(request.app.state.engine) as session:
        rows = trail.entries(session, flt, AUDIT_PAGE, (page - 1) * AUDIT_PAGE)
        total = trail.count(session, flt)
        audit(request, session, "audit.view", "audit", {**flt.params(), "page": page})
        entries = [_row(u, e) for e in rows]
    query = urlencode(flt.params())
    actions = sorted((u.t(f"ui_act_{code}"), code) for code in ACTIONS)
    return render(request, "audit.html", {
        "entries": entries, "total": total, "page": page, "per_page": AUDIT_PAGE,
        "pages": max(1, -(-total // AUDIT_PAGE)), "actions": actions,
        "form": flt.params(), "query": query,
        "chain": last_verification(request.app.state.engine),
    })


@router.post("/audit/verify")
def audit_verify(request: Request) -> Response:
    """Verify the chain and both anchors now (as ``papervault audit verify`` does)."""
    settings = settings_of(request)
    u = ui(request)
    status = verify_now(request.app.state.engine, request.app.state.store,
                        request.app.state.auditor.key,
                        settings.path(settings.crypto.audit_anchor_file), u.actor, u.origin)
    if status.intact:
        return redirect("/audit", "flash_audit_intact", n=status.entries)
    return redirect("/audit", "flash_audit_broken", "danger", n=len(status.problems))


@router.get("/audit.csv")
def audit_csv(request: Request) -> Response:
    flt = _log_filter(request)
    with session_scope(request.app.state.engine) as session:
        header = [ui(request).t(f"ui_csv_audit_{c}") for c in trail.CSV_COLUMNS]
        data = trail.entries_csv(session, flt, header=header)
        audit(request, session, "audit.export", "audit", flt.params())
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit-trail.csv"'})


@api.get("/audit", summary="The audit trail, newest first (auditors)",
         responses=errors(400, 422))
def audit_api(
    request: Request,
    actor: str | None = None,
    action: Annotated[str | None, Query(description='exact, or a prefix ending in "."')] = None,
    target: Annotated[str | None, Query(description="document:12, client:KH-…")] = None,
    client_id: Annotated[str | None, Query(
        description="every entry about the client or one of their documents")] = None,
    origin: Annotated[str | None, Query(
        description='who really acted, or a prefix: "cli root@host", "web 10.0."')] = None,
    since: IsoDate | None = None,
    until: IsoDate | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,  # past SQL's integer range: 422
) -> dict[str, Any]:
    flt = log_filter(actor, action, target, client_id, origin, since, until)
    with session_scope(request.app.state.engine) as session:
        rows = trail.entries(session, flt, limit, offset)
        total = trail.count(session, flt)
        audit(request, session, "audit.view", "audit", flt.params())
    return {"total": total, "filters": flt.params(),
            "entries": [trail.entry_dict(e) for e in rows]}
