"""Pages from templates: every page gets the request's language, the caller and the CSRF
token, so a template only says what is on it.

Templates ``{% extends "base.html" %}`` and fill ``{% block title %}`` and
``{% block content %}`` (``nav`` names the active menu entry). In a template: ``t("key")``
is catalogue text in the request's language, ``can("search")`` the caller's permissions,
``csrf`` the token every POST form carries as the ``csrf`` field, ``lang_url`` this page in
the other language, ``flash`` the message of the redirect that led here, and the
``local_time`` filter shows a UTC time in the office's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from papervault.index.web.deps import LANG_COOKIE, settings_of, ui
from papervault.index.web.flash import FLASH_COOKIE, take_flash
from papervault.index.web.security import CSRF_COOKIE, csrf_token, new_csrf_seed

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def one_language(value: str, lang: str) -> str:
    """The ``lang`` half of an "English / 中文" pair (how the register checks word their
    reasons for the command line), so a page shows one language (B13)."""
    en, sep, zh = str(value).rpartition(" / ")
    if not sep:
        return str(value)
    return zh if lang == "zh" else en


templates.env.filters["one_language"] = one_language


def _local_time(value: datetime | str | None, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        when = value
    if when.tzinfo is None:  # the index stores naive UTC on SQLite
        when = when.replace(tzinfo=UTC)
    return when.astimezone(ZoneInfo(zone)).strftime(fmt)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the shared context filled in."""
    u = ui(request)
    other = "en" if u.lang == "zh" else "zh"
    params = {k: v for k, v in request.query_params.items() if k != "lang"} | {"lang": other}
    settings = settings_of(request)
    zone = settings.web.time_zone
    ctx = {"t": u.t, "lang": u.lang, "actor": u.actor, "can": u.can,
           "principal": u.principal, "csrf": csrf_token(request),
           "login": settings.access.login, "flash": take_flash(request),
           "local_time": lambda v, fmt="%Y-%m-%d %H:%M": _local_time(v, zone, fmt),
           "time_zone": zone,
           "lang_url": f"{request.url.path}?{urlencode(params)}", **(context or {})}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, u.lang, samesite="lax", httponly=True)
    if getattr(request.state, "flash_taken", False):
        response.delete_cookie(FLASH_COOKIE, path="/")
    seed = new_csrf_seed(request)
    if seed is not None:
        response.set_cookie(CSRF_COOKIE, seed, samesite="strict", httponly=True,
                            secure=settings.access.secure_cookies, path="/")
    return response
