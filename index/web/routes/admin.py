"""Administrators' user management."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from papervault.config.errors import PapervaultError
from papervault.index.accounts import users
from papervault.index.accounts.access import Role, parse_roles, roles_text
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import User
from papervault.index.web.deps import audit, ui
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)


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
