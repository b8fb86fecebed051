"""Administrators' user management and the settings page.

Every change answers with a redirect and a flash message (POST-redirect-GET), except two:
a refused change shows the page again with the reason (status 400), and a new one-time
password is shown on the answer to the POST itself — it must not travel in a cookie or a
URL, and is kept nowhere to show it later. Disabling and resetting go through a
confirmation page first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from papervault.config.errors import NotFound, PapervaultError
from papervault.index.accounts import users
from papervault.index.accounts.access import Role, parse_roles, roles_text
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import User
from papervault.index.settings_view import pattern_test, settings_view
from papervault.index.web.deps import SettingsDep, audit, settings_of, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)
USERS_URL = "/admin/users"


def _rows(request: Request) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    cfg = settings_of(request).access
    with session_scope(request.app.state.engine) as session:
        return [{"username": u.username, "display_name": u.display_name,
                 "roles": u.roles.split(), "active": u.active,
                 "locked": users.is_locked(u, now),
                 "last_login_at": u.last_login_at, "must_change": u.must_change_password,
                 "departments": users.departments_of(u), "clearance": u.clearance or "",
                 "top_level": users.top_level(u, cfg)}
                for u in session.exec(select(User).order_by(col(User.username)))]


def _users_page(request: Request, error: str | None = None, status_code: int = 200,
                form: dict[str, Any] | None = None) -> HTMLResponse:
    return render(request, "admin_users.html", {
        "users": _rows(request), "roles": [r.value for r in Role], "error": error,
        "levels": settings_of(request).access.levels,
        "form": form or {},
    }, status_code=status_code)


def _who(request: Request, username: str) -> str:
    """``李娜 (lina)`` for the messages, or the login name alone."""
    with session_scope(request.app.state.engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(what=username)
    return f"{user.display_name} ({user.username})" if user.display_name else user.username


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


def _one_time(request: Request, username: str, password: str) -> HTMLResponse:
    return render(request, "admin_one_time.html",
                  {"who": _who(request, username), "password": password})


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(request: Request, username: Annotated[str, Form()],
             roles: Annotated[list[str] | None, Form()] = None,
             display_name: Annotated[str, Form()] = "",
             departments: Annotated[str, Form()] = "",
             clearance: Annotated[str, Form()] = "") -> HTMLResponse:
    form = {"username": username, "display_name": display_name, "roles": roles or [],
            "departments": departments, "clearance": clearance}
    try:
        wanted = parse_roles(roles or [])
    except ValueError as e:
        return _users_page(request, error=str(e), status_code=400, form=form)
    if not wanted:  # walkthrough B3: a form error on the form, not a raw 422
        return _users_page(request, error=ui(request).t("ui_ad_no_roles"), status_code=400,
                           form=form)
    by = ui(request).actor
    cfg = settings_of(request).access
    # the audit entry names the scope as set (the CLI's user.add carries the same)
    detail: dict[str, object] = {"roles": roles_text(wanted)}

    def add(session: Session) -> tuple[User, str | None]:
        user, password = users.add_user(session, username, wanted, by, display_name.strip())
        users.set_scope(session, username, users.split_departments(departments),
                        clearance.strip(), cfg)
        detail.update(users.scope_detail(user, cfg))
        return user, password

    result, error = _admin_action(request, "user.add", username.strip(), detail, add)
    if error:
        return _users_page(request, error=error, status_code=400, form=form)
    _, password = result
    return _one_time(request, username.strip(), password)


@router.post("/admin/users/{username}/roles", response_model=None)
def set_roles(request: Request, username: str,
              roles: Annotated[list[str] | None, Form()] = None
              ) -> HTMLResponse | RedirectResponse:
    try:
        wanted = parse_roles(roles or [])
    except ValueError as e:
        return _users_page(request, error=str(e), status_code=400)
    if not wanted:
        return _users_page(request, error=ui(request).t("ui_ad_no_roles"), status_code=400)
    _, error = _admin_action(request, "user.roles", username, {"roles": roles_text(wanted)},
                             lambda s: users.set_roles(s, username, wanted))
    if error:
        return _users_page(request, error=error, status_code=400)
    return redirect(USERS_URL, "flash_user_roles", who=_who(request, username))


@router.post("/admin/users/{username}/scope", response_model=None)
def set_scope(request: Request, username: str, departments: Annotated[str, Form()] = "",
              clearance: Annotated[str, Form()] = "") -> HTMLResponse | RedirectResponse:
    """Departments and clearance: what ``papervault users scope`` sets (empty departments:
    every one; empty clearance: the roles' own)."""
    cfg = settings_of(request).access
    detail: dict[str, object] = {}

    def change(session: Session) -> User:
        user = users.set_scope(session, username, users.split_departments(departments),
                               clearance.strip(), cfg)
        detail.update(users.scope_detail(user, cfg))
        return user

    _, error = _admin_action(request, "user.scope", username, detail, change)
    if error:
        return _users_page(request, error=error, status_code=400)
    return redirect(USERS_URL, "flash_user_scope", who=_who(request, username))


@router.get("/admin/users/{username}/confirm/{action}", response_class=HTMLResponse)
def confirm(request: Request, username: str, action: str) -> HTMLResponse:
    """The step before disabling or resetting (walkthrough B11)."""
    if action not in ("disable", "reset"):
        raise NotFound(what=action)
    return render(request, "admin_confirm.html", {
        "username": username, "who": _who(request, username), "action": action,
        "own": username == ui(request).actor,
    })


@router.post("/admin/users/{username}/active", response_model=None)
def set_active(request: Request, username: str,
               active: Annotated[str, Form()]) -> HTMLResponse | RedirectResponse:
    on = active == "1"
    who = _who(request, username)
    _, error = _admin_action(request, "user.enable" if on else "user.disable", username, {},
                             lambda s: users.set_active(s, username, on))
    if error:
        return _users_page(request, error=error, status_code=400)
    return redirect(USERS_URL, "flash_user_enabled" if on else "flash_user_disabled", who=who)


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
def reset_password(request: Request, username: str) -> HTMLResponse:
    password, error = _admin_action(request, "user.reset_password", username, {},
                                    lambda s: users.reset_password(s, username))
    if error:
        return _users_page(request, error=error, status_code=400)
    return _one_time(request, username, password)


@router.post("/admin/users/{username}/unlock", response_model=None)
def unlock(request: Request, username: str) -> HTMLResponse | RedirectResponse:
    _, error = _admin_action(request, "user.unlock", username, {},
                             lambda s: users.unlock(s, username))
    if error:
        return _users_page(request, error=error, status_code=400)
    return redirect(USERS_URL, "flash_user_unlocked", who=_who(request, username))


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return render(request, "admin_settings.html", {"view": settings_view(settings)})


@router.get("/admin/settings/test", response_class=HTMLResponse)
def settings_test(request: Request, settings: SettingsDep, value: str = "") -> HTMLResponse:
    """The live test box's answer (an htmx fragment)."""
    return render(request, "_pattern_test.html",
                  {"value": value, "result": pattern_test(settings, value[:2000])})
