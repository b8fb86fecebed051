"""Sign-in, sign-out, password change and one's own API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papervault.config.errors import BadInput, NotSignedIn
from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.access import Principal
from papervault.index.catalog.db import session_scope
from papervault.index.web.deps import audit, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render
from papervault.index.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)


# -- sign in and out ---------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_model=None)
def login(request: Request, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    settings: Settings = request.app.state.settings
    cfg = settings.access
    u = ui(request)
    typed = username.strip()[:64] or "-"
    with session_scope(request.app.state.engine) as session:
        # A name that is no account is often a password typed into the wrong box, or a
        # formula aimed at the CSV export: the trail keeps only its hash (review L8).
        name = users.audit_name(session, typed)
        if users.address_throttled(session, u.origin, cfg):
            # No password check at all: the address is guessing across accounts. One row
            # a minute per address, not one per request (review L2: anonymous flooding).
            if not users.recently(session, "login.throttled", u.origin, seconds=60):
                audit(request, session, "login.throttled", f"user:{name}", actor=name)
            throttled = True
        else:
            # Taken before the password is checked, in the same locked transaction as
            # the count: parallel guesses each see the ones before them (review H4).
            audit(request, session, "login.attempt", f"user:{name}", actor=name)
            throttled = False
    if throttled:
        message = u.t("address_throttled", minutes=f"{cfg.lockout_minutes:g}")
        return render(request, "login.html", {"next": _safe_next(next), "error": message},
                      status_code=429)
    result = users.check_login(request.app.state.engine, username, password, cfg)
    with session_scope(request.app.state.engine) as session:
        if not result.ok:
            audit(request, session, "login.failed", f"user:{name}",
                  {"reason": result.reason}, actor=name)
            if result.reason == "locked_now":
                audit(request, session, "login.locked", f"user:{name}",
                      {"minutes": cfg.lockout_minutes}, actor=name)
        else:
            assert result.user is not None
            # Always a fresh session: a cookie planted before sign-in is never adopted.
            old = request.cookies.get(SESSION_COOKIE)
            if old:
                try:
                    _, row = users.session_user(session, old, cfg)
                    users.end_session(session, row.id or 0)
                except NotSignedIn:
                    pass
            token = users.start_session(session, result.user, cfg, u.origin)
            audit(request, session, "login", f"user:{name}", actor=name)
        must_change = result.user is not None and result.user.must_change_password
    if not result.ok:
        if result.reason in ("locked", "locked_now") and result.user is not None \
                and result.user.locked_until is not None:
            until = result.user.locked_until.strftime("%Y-%m-%d %H:%M")
            message = u.t("account_locked", until=until)
        else:
            message = u.t("login_failed")
        return render(request, "login.html", {"next": _safe_next(next), "error": message},
                      status_code=401)
    target = "/password" if must_change else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=cfg.secure_cookies, path="/")
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    p: Principal = request.state.principal
    with session_scope(request.app.state.engine) as session:
        if p.session_id is not None:
            users.end_session(session, p.session_id)
        audit(request, session, "logout", f"user:{p.username}")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request) -> HTMLResponse:
    return render(request, "password.html", {"error": None})


@router.post("/password", response_model=None)
def change_password(request: Request, current: Annotated[str, Form()],
                    new: Annotated[str, Form()], repeat: Annotated[str, Form()]) -> Response:
    p: Principal = request.state.principal
    settings: Settings = request.app.state.settings
    u = ui(request)
    try:
        if new != repeat:
            raise BadInput("password_mismatch")
        with session_scope(request.app.state.engine) as session:
            user = users.get_user(session, p.username)
            users.change_password(session, user, current, new, settings.access)
            users.end_sessions(session, user)
            # A new session after the change, so a stolen old cookie is worth nothing.
            token = users.start_session(session, user, settings.access, u.origin)
            audit(request, session, "password.change", f"user:{p.username}")
    except BadInput as e:
        return render(request, "password.html", {"error": e.message(u.lang)}, status_code=400)
    response = redirect(p.home(), "notice_password_changed")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings.access.secure_cookies, path="/")
    return response


# -- one's own account and API tokens ---------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> HTMLResponse:
    return _account(request, new_token=None)


def _account(request: Request, new_token: str | None) -> HTMLResponse:
    p: Principal = request.state.principal
    with session_scope(request.app.state.engine) as session:
        user = users.get_user(session, p.username)
        tokens = users.tokens_of(session, user)
        info = {"username": user.username, "display_name": user.display_name,
                "roles": sorted(p.roles), "has_password": bool(user.password_hash)}
    return render(request, "account.html", {"user": info, "tokens": tokens,
                                            "new_token": new_token})


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(request: Request, name: Annotated[str, Form()]) -> HTMLResponse:
    p: Principal = request.state.principal
    with session_scope(request.app.state.engine) as session:
        user = users.get_user(session, p.username)
        row, token = users.create_token(session, user, name)
        audit(request, session, "token.create", f"token:{row.id}", {"name": row.name})
    return _account(request, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int) -> RedirectResponse:
    p: Principal = request.state.principal
    with session_scope(request.app.state.engine) as session:
        user = users.get_user(session, p.username)
        users.revoke_token(session, token_id, owner=user)
        audit(request, session, "token.revoke", f"token:{token_id}")
    return redirect("/account", "flash_token_revoked")
