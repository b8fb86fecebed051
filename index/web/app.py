"""The web UI and REST API: ``create_app(settings)`` builds the FastAPI application.

How the package is laid out (imports go one way, down this list):

* ``app`` — this factory: state, middleware, error handlers, the routers;
* ``routes/`` — one router per area (auth, search, api, status, coverage, qa, audit,
  admin, ops);
* ``files`` — decrypted downloads and page images;
* ``errors`` — every error as JSON for the API or a page for people;
* ``render`` / ``flash`` — templates with the shared context, one-time messages;
* ``gate`` — the one dependency that identifies the caller and applies the route's rule
  from ``index.accounts.access.ROUTES``;
* ``deps`` — typed dependencies (settings, engine, store, principal), ``ui`` and ``audit``;
* ``schemas`` — the API's response shapes; ``security`` — sessions, tokens and CSRF.

Language: ``?lang=en`` (or ``zh``) switches and is remembered in a cookie; the default is
``settings.language``. With login off the app acts as ``settings.actor`` and refuses a
non-loopback address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from papervault.config.errors import ConfigError
from papervault.config.messages import text
from papervault.config.settings import Settings
from papervault.config.version import package_version
from papervault.index.accounts.anchor import follow_commits
from papervault.index.accounts.audit import load_audit_key
from papervault.index.archive import Auditor
from papervault.index.catalog.db import make_engine, upgrade
from papervault.index.web import errors
from papervault.index.web.deps import is_loopback
from papervault.index.web.gate import authorize
from papervault.index.web.routes import (
    admin,
    api,
    audit,
    auth,
    coverage,
    disposal,
    intake,
    ops,
    qa,
    registers,
    review,
    search,
    status,
)
from papervault.storage.factory import open_store

# The real folder: a strict editable install is a tree of links, and StaticFiles refuses
# links that lead out of its directory.
HERE = Path(__file__).resolve().parent

__all__ = ["create_app", "is_loopback"]


def create_app(settings: Settings) -> FastAPI:
    """The application for one instance (schema upgraded, store opened, routes mounted)."""
    if not settings.access.login and not is_loopback(settings.web.host):
        raise ConfigError(detail=text("web_loopback_only", "en", host=settings.web.host))
    app = FastAPI(title="papervault", version=package_version(),
                  description="档案检索 / archive search, documents and downloads",
                  dependencies=[Depends(authorize)],
                  # FastAPI's own schema routes skip app dependencies, so they would be open
                  # to anyone: routes.api serves the schema as an ordinary, ruled route.
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
    for router in (auth.router, api.router, api.schema, search.router, status.router,
                   status.api, intake.router, review.router, coverage.router, qa.router,
                   disposal.router,
                   audit.router, audit.api, registers.router, admin.router, ops.router):
        app.include_router(router)
    if settings.web.metrics:
        app.include_router(ops.metrics_router)
    errors.install(app)
    app.middleware("http")(_security_headers)
    return app


# Review L5: no sniffing, no framing, no caching of pages that carry OCR text on shared
# office PCs. Scripts and styles only from /static (the vendored, locked front-end
# packages and our own files): no inline script, no inline style, nothing from elsewhere.
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: blob:; frame-ancestors 'none'; "
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
