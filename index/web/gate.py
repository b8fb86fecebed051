"""The one gate every route passes: who is calling, and may they open this route.

The rule of each route is in ``index.accounts.access.ROUTES``; a route without one is
refused, and the access-matrix tests walk the router so none can be forgotten.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from papervault.config.errors import Forbidden, NotSignedIn, PapervaultError
from papervault.index.accounts import users
from papervault.index.accounts.access import ROUTES, Open, Principal, allows
from papervault.index.catalog.db import session_scope
from papervault.index.web.deps import audit, engine_of
from papervault.index.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    check_csrf,
    identify,
)

log = logging.getLogger(__name__)

# What a user who must change their password may still open.
PASSWORD_PENDING_OK = frozenset({"GET /password", "POST /password", "POST /logout",
                                 "GET /login", "POST /login"})


class PasswordChangeRequired(PapervaultError):
    exit_code = 77
    http_status = 403
    key = "password_must_change"


def route_key(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    method = "GET" if request.method == "HEAD" else request.method
    return f"{method} {path}"


async def authorize(request: Request) -> None:
    """Identify the caller and apply the route's rule from ``index.access.ROUTES``."""
    key = route_key(request)
    rule = ROUTES.get(key)
    if rule is Open.PROBE:  # liveness must not wait on the database, nor create sessions
        request.state.principal = None
        return
    principal = await run_in_threadpool(identify_caller, request)
    request.state.principal = principal
    if rule is None:
        log.error("route %s has no rule in index.access.ROUTES: refused", key)
        await run_in_threadpool(_denied, request, principal, key, "no rule")
        raise Forbidden("forbidden", user=principal.username if principal else "-",
                        roles="-", perm="(no rule)")
    if rule is not Open.PUBLIC and principal is None:
        raise NotSignedIn()
    if principal is not None and principal.must_change_password \
            and key not in PASSWORD_PENDING_OK:
        raise PasswordChangeRequired()
    if not allows(rule, principal):
        assert principal is not None
        await run_in_threadpool(_denied, request, principal, key, str(rule))
        users.require(principal, rule)  # type: ignore[arg-type]  # raises Forbidden
    if request.method not in SAFE_METHODS and (principal is None or principal.via != "token"):
        submitted = request.headers.get(CSRF_HEADER)
        if submitted is None and "form" in request.headers.get("content-type", ""):
            value = (await request.form()).get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
        check_csrf(request, submitted)


def identify_caller(request: Request) -> Principal | None:
    with session_scope(engine_of(request)) as session:
        return identify(request, session)


def _denied(request: Request, principal: Principal | None, key: str, rule: str) -> None:
    with session_scope(engine_of(request)) as session:
        audit(request, session, "access.denied", key, {"needs": rule},
              actor=principal.username if principal else "-")


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
