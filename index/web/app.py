"""The web UI and REST API: ``create_app(settings)`` builds the FastAPI application.

For other routers and templates (e.g. the auditors' ``coverage_routes.py``):

* Templates ``{% extends "base.html" %}`` and fill ``{% block title %}`` and
  ``{% block content %}``. Every page gets ``t`` (``t("ui_title")``: catalogue text in the
  request's language), ``lang`` (``"zh"`` | ``"en"``), ``actor`` (who is using the app) and
  ``lang_url`` (this page in the other language).
* In a route, ``render(request, "coverage_x.html", {...})`` renders such a page, and
  ``ui(request)`` returns the same :class:`Ui` (``.t``, ``.lang``, ``.actor``, ``.origin``)
  for code that needs the language or the audit actor/origin outside a template.
* ``request.app.state`` holds ``settings``, ``engine``, ``store`` and ``auditor``
  (:class:`index.web.archive.Auditor`).

Language: ``?lang=en`` (or ``zh``) switches and is remembered in a cookie; the default is
``settings.language``. Until login exists (issue 5) the app refuses a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from config.errors import ConfigError, PapervaultError
from config.messages import CATALOGUE, Lang, text
from config.settings import Settings
from index.db import make_engine, upgrade
from index.web.archive import Auditor
from storage.factory import open_store

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

    def t(self, key: str, **params: object) -> str:
        """Catalogue text in this request's language (the key itself if unknown)."""
        return text(key, self.lang, **params) if key in CATALOGUE else key


def request_lang(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in ("zh", "en"):
        return "en" if asked == "en" else "zh"
    settings: Settings = request.app.state.settings
    return settings.language


def ui(request: Request) -> Ui:
    """The :class:`Ui` of ``request``: language, actor (settings.actor until login), origin."""
    settings: Settings = request.app.state.settings
    kind = "api" if request.url.path.startswith("/api/") else "web"
    ip = request.client.host if request.client else "?"
    return Ui(lang=request_lang(request), actor=settings.actor, origin=f"{kind} {ip}")


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render a template with ``t``, ``lang``, ``actor`` and ``lang_url`` filled in."""
    u = ui(request)
    other = "en" if u.lang == "zh" else "zh"
    params = {k: v for k, v in request.query_params.items() if k != "lang"} | {"lang": other}
    ctx = {"t": u.t, "lang": u.lang, "actor": u.actor,
           "lang_url": f"{request.url.path}?{urlencode(params)}", **(context or {})}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, u.lang, samesite="lax", httponly=True)
    return response


def create_app(settings: Settings) -> FastAPI:
    """The application for one instance (schema upgraded, store opened, routes mounted)."""
    if not is_loopback(settings.web.host):
        raise ConfigError(detail=text("web_loopback_only", "en", host=settings.web.host))
    app = FastAPI(title="papervault", version="0.1.0",
                  description="档案检索 / archive search, documents and downloads")
    engine = make_engine(settings.db_url)
    upgrade(engine)
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = open_store(settings)
    app.state.auditor = Auditor(settings)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _routers(app)
    app.add_exception_handler(PapervaultError, _on_error)  # type: ignore[arg-type]
    return app


def _routers(app: FastAPI) -> None:
    from index.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    try:
        from index.web import coverage_routes  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    app.include_router(coverage_routes.router)


async def _on_error(request: Request, exc: PapervaultError) -> Response:
    """Our errors, in one place: JSON for the API, a page for people."""
    u = ui(request)
    if exc.http_status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.key, "message": exc.message(u.lang)},
                            status_code=exc.http_status)
    return render(request, "error.html", {"message": exc.message(u.lang)},
                  status_code=exc.http_status)
