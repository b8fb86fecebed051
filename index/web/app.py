"""The web UI and REST API: ``create_app(settings)`` builds the FastAPI application.

For other routers and templates (e.g. the auditors' ``coverage_routes.py``):

* Templates ``{% extends "base.html" %}`` and fill ``{% block title %}`` and
  ``{% block content %}``. Every page gets ``t`` (``t("ui_title")``: catalogue text in the
  request's language), ``lang`` (``"zh"`` | ``"en"``), ``actor`` (who is using the app),
  ``can("search")`` (the caller's permissions), ``csrf`` (put it in every POST form as the
  ``csrf`` field) and ``lang_url`` (this page in the other language).
* In a route, ``render(request, "coverage_x.html", {...})`` renders such a page, and
  ``ui(request)`` returns the same :class:`Ui` (``.t``, ``.lang``, ``.actor``, ``.origin``)
  for code that needs the language or the audit actor/origin outside a template;
  ``audit(request, session, action, target, detail)`` records an action in the trail.
* Every route needs a rule in ``index.access.ROUTES``; ``index.web.auth.authorize`` applies it
  before the route runs and leaves the caller in ``request.state.principal``.
* ``request.app.state`` holds ``settings``, ``engine``, ``store`` and ``auditor``
  (:class:`index.web.archive.Auditor`).

Language: ``?lang=en`` (or ``zh``) switches and is remembered in a cookie; the default is
``settings.language``. With login off the app acts as ``settings.actor`` and refuses a
non-loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError
from sqlmodel import Session
from starlette.middleware.trustedhost import TrustedHostMiddleware

from papervault.config.errors import BadInput, ConfigError, NotSignedIn, PapervaultError
from papervault.config.messages import CATALOGUE, Lang, text
from papervault.config.settings import Settings
from papervault.config.version import package_version
from papervault.index.accounts.access import Perm, Principal
from papervault.index.accounts.anchor import follow_commits
from papervault.index.accounts.audit import load_audit_key
from papervault.index.archive import Auditor
from papervault.index.catalog.db import make_engine, upgrade
from papervault.index.web.security import CSRF_COOKIE, csrf_token, new_csrf_seed
from papervault.storage.factory import open_store

HERE = Path(__file__).parent
LANG_COOKIE = "pv_lang"
templates = Jinja2Templates(directory=str(HERE / "templates"))
log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Ui:
    """Per-request language, actor and audit origin."""

    lang: Lang
    actor: str
    origin: str
    principal: Principal | None = None

    def can(self, perm: str) -> bool:
        return self.principal is not None and self.principal.can(Perm(perm))

    def t(self, key: str, **params: object) -> str:
        """Catalogue text in this request's language (the key itself if unknown)."""
        return text(key, self.lang, **params) if key in CATALOGUE else key


def request_lang(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in ("zh", "en"):
        return "en" if asked == "en" else "zh"
    settings: Settings = request.app.state.settings
    return settings.language


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def ui(request: Request) -> Ui:
    """The :class:`Ui` of ``request``: language, the acting user, origin."""
    principal: Principal | None = getattr(request.state, "principal", None)
    kind = "api" if request.url.path.startswith("/api/") else "web"
    if principal is not None and principal.via == "token":
        kind += f" token:{principal.token_id}"
    return Ui(lang=request_lang(request), actor=principal.username if principal else "-",
              origin=f"{kind} {client_ip(request)}", principal=principal)


def audit(request: Request, session: Session, action: str, target: str = "",
          detail: dict[str, object] | None = None, actor: str | None = None) -> None:
    """Record ``action`` by the caller (or ``actor``) in the audit trail, in ``session``."""
    u = ui(request)
    auditor: Auditor = request.app.state.auditor
    auditor.record(session, actor or u.actor, action, target, detail, origin=u.origin)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render a template with ``t``, ``lang``, ``actor`` and ``lang_url`` filled in."""
    u = ui(request)
    other = "en" if u.lang == "zh" else "zh"
    params = {k: v for k, v in request.query_params.items() if k != "lang"} | {"lang": other}
    settings: Settings = request.app.state.settings
    ctx = {"t": u.t, "lang": u.lang, "actor": u.actor, "can": u.can,
           "principal": u.principal, "csrf": csrf_token(request),
           "login": settings.access.login,
           "lang_url": f"{request.url.path}?{urlencode(params)}", **(context or {})}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, u.lang, samesite="lax", httponly=True)
    seed = new_csrf_seed(request)
    if seed is not None:
        response.set_cookie(CSRF_COOKIE, seed, samesite="strict", httponly=True,
                            secure=settings.access.secure_cookies, path="/")
    return response


def create_app(settings: Settings) -> FastAPI:
    """The application for one instance (schema upgraded, store opened, routes mounted)."""
    from papervault.index.web.auth import authorize

    if not settings.access.login and not is_loopback(settings.web.host):
        raise ConfigError(detail=text("web_loopback_only", "en", host=settings.web.host))
    app = FastAPI(title="papervault", version=package_version(),
                  description="档案检索 / archive search, documents and downloads",
                  dependencies=[Depends(authorize)],
                  # FastAPI's own schema routes skip app dependencies, so they would be open
                  # to anyone: index.web.api serves the schema as an ordinary, ruled route.
                  docs_url=None, redoc_url=None, openapi_url=None)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = open_store(settings)
    app.state.auditor = Auditor(settings)
    follow_commits(engine, settings.path(settings.crypto.audit_anchor_file),
                   load_audit_key(settings.path(settings.crypto.audit_key_file)))
    app.state.session_key = load_audit_key(settings.path(settings.access.session_key_file))
    app.state.pi_key = (load_audit_key(settings.path(settings.privacy.pi_key_file))
                        if settings.privacy.mask_numbers else None)
    # DNS rebinding (review M8): a page on evil.example resolving to 127.0.0.1 is
    # same-origin with it; refusing unknown Host headers takes that away.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.web.hosts())
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _routers(app)
    app.add_exception_handler(PapervaultError, _on_error)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _on_overflow)
    app.add_exception_handler(DataError, _on_overflow)
    app.middleware("http")(_security_headers)
    return app


def _routers(app: FastAPI) -> None:
    from papervault.index.web import admin, api, auth, coverage_routes, ops, pages

    app.include_router(auth.router)
    app.include_router(api.router)
    app.include_router(api.schema)
    app.include_router(pages.router)
    app.include_router(coverage_routes.router)
    app.include_router(admin.router)
    app.include_router(admin.api)
    app.include_router(ops.router)
    if app.state.settings.web.metrics:
        app.include_router(ops.metrics_router)


async def _on_overflow(request: Request, exc: Exception) -> Response:
    """An id or page past the database's integer range (review L1: these were 500s)."""
    return await _on_error(request, BadInput(detail="number out of range"))


# Review L5: no sniffing, no framing, no caching of pages that carry OCR text on shared
# office PCs. The CSP is only a default: a route or the templates may set a stricter one.
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Inline styles stay allowed (the coverage bars); scripts only from /static.
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; "
                               "object-src 'none'; base-uri 'self'; form-action 'self'",
}


async def _security_headers(request: Request,
                            call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for k, v in _HEADERS.items():
        response.headers.setdefault(k, v)
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _on_error(request: Request, exc: PapervaultError) -> Response:
    """Our errors, in one place: JSON for the API, a page for people."""
    from papervault.index.web.auth import PasswordChangeRequired, login_redirect

    u = ui(request)
    if exc.http_status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    api = request.url.path.startswith("/api/")
    if isinstance(exc, NotSignedIn) and not api and request.method == "GET":
        return login_redirect(request)
    if isinstance(exc, PasswordChangeRequired) and not api and request.method == "GET":
        return RedirectResponse("/password", status_code=303)
    headers = {"X-Papervault-Error": exc.key}  # the stable key, for scripts and tests
    if api:
        return JSONResponse({"error": exc.key, "message": exc.message(u.lang)},
                            status_code=exc.http_status, headers=headers)
    response = render(request, "error.html", {"message": exc.message(u.lang)},
                      status_code=exc.http_status)
    response.headers.update(headers)
    return response
