"""Administrators' user management, the auditors' audit trail, and the scanning staff's
status page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from papervault.config.errors import PapervaultError
from papervault.index.accounts import audit as trail
from papervault.index.accounts import users
from papervault.index.accounts.access import Role, parse_roles, roles_text
from papervault.index.archive import parse_date
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import User
from papervault.index.catalog.status import status
from papervault.index.web.app import audit, render, ui

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
AUDIT_PAGE = 100


# -- users (admin) -------------------------------------------------------------------------


def _users_page(request: Request, notice: dict[str, str] | None = None,
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    now = datetime.now(UTC)
    with session_scope(request.app.state.engine) as session:
        rows = [{"username": u.username, "display_name": u.display_name,
                 "roles": u.roles.split(), "active": u.active,
                 "locked": users.is_locked(u, now),
                 "last_login_at": u.last_login_at, "must_change": u.must_change_password}
                for u in session.exec(select(User).order_by(col(User.username)))]
    return render(request, "admin_users.html", {
        "users": rows, "roles": [r.value for r in Role], "notice": notice, "error": error,
    }, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request) -> HTMLResponse:
    return _users_page(request)


def _admin_action(request: Request, action: str, target: str, detail: dict[str, object],
                  change: Any) -> tuple[Any, str | None]:
    """Run ``change(session)`` and audit it; a refused change becomes a page error."""
    try:
        with session_scope(request.app.state.engine) as session:
            result = change(session)
            audit(request, session, action, f"user:{target}", detail)
    except PapervaultError as e:
        if e.http_status >= 500:
            raise
        return None, e.message(ui(request).lang)
    return result, None


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(request: Request, username: Annotated[str, Form()],
             roles: Annotated[list[str], Form()], display_name: Annotated[str, Form()] = ""
             ) -> HTMLResponse:
    try:
        wanted = parse_roles(roles)
    except ValueError as e:
        return _users_page(request, error=str(e), status_code=400)
    by = ui(request).actor
    result, error = _admin_action(
        request, "user.add", username.strip(), {"roles": roles_text(wanted)},
        lambda s: users.add_user(s, username, wanted, by, display_name.strip()))
    if error:
        return _users_page(request, error=error, status_code=400)
    _, password = result
    return _users_page(request, notice={"username": username.strip(), "password": password})


@router.post("/admin/users/{username}/roles", response_class=HTMLResponse)
def set_roles(request: Request, username: str,
              roles: Annotated[list[str] | None, Form()] = None) -> HTMLResponse:
    try:
        wanted = parse_roles(roles or [])
    except ValueError as e:
        return _users_page(request, error=str(e), status_code=400)
    _, error = _admin_action(request, "user.roles", username, {"roles": roles_text(wanted)},
                             lambda s: users.set_roles(s, username, wanted))
    return _users_page(request, error=error, status_code=400 if error else 200)


@router.post("/admin/users/{username}/active", response_class=HTMLResponse)
def set_active(request: Request, username: str,
               active: Annotated[str, Form()]) -> HTMLResponse:
    on = active == "1"
    _, error = _admin_action(request, "user.enable" if on else "user.disable", username, {},
                             lambda s: users.set_active(s, username, on))
    return _users_page(request, error=error, status_code=400 if error else 200)


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
def reset_password(request: Request, username: str) -> HTMLResponse:
    password, error = _admin_action(request, "user.reset_password", username, {},
                                    lambda s: users.reset_password(s, username))
    if error:
        return _users_page(request, error=error, status_code=400)
    return _users_page(request, notice={"username": username, "password": password})


@router.post("/admin/users/{username}/unlock", response_class=HTMLResponse)
def unlock(request: Request, username: str) -> HTMLResponse:
    _, error = _admin_action(request, "user.unlock", username, {},
                             lambda s: users.unlock(s, username))
    return _users_page(request, error=error, status_code=400 if error else 200)


# -- the audit trail (auditors) ---------------------------------------------------------------


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


# -- processing status (scanning staff) ----------------------------------------------------


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> HTMLResponse:
    with session_scope(request.app.state.engine) as session:
        data = status(session)
    return render(request, "status.html", {"s": data})


@api.get("/status", summary="Documents, intake outcomes, queue and last errors")
def status_api(request: Request) -> dict[str, Any]:
    with session_scope(request.app.state.engine) as session:
        return status(session)
