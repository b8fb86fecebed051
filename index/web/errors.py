"""Every error answered in one place: JSON for the API, a styled page in the UI's language
for people — our own errors, unknown routes (404), wrong methods (405) and form or query
values that do not parse (422)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from papervault.config.errors import BadInput, Forbidden, NotSignedIn, PapervaultError
from papervault.config.messages import CATALOGUE
from papervault.index.accounts.scope import Hidden
from papervault.index.catalog.db import session_scope
from papervault.index.web.deps import audit, engine_of, ui
from papervault.index.web.gate import PasswordChangeRequired, identify_caller, login_redirect
from papervault.index.web.render import render

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PapervaultError, on_error)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _on_overflow)
    app.add_exception_handler(DataError, _on_overflow)
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_invalid)  # type: ignore[arg-type]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _on_overflow(request: Request, exc: Exception) -> Response:
    """An id or page past the database's integer range (review L1: these were 500s)."""
    return await on_error(request, BadInput(detail="number out of range"))


def _audit_hidden(request: Request, exc: Hidden) -> None:
    """An attempt by ID at something outside the caller's scope: answered as not found,
    recorded in its own transaction (the route's was rolled back by the error)."""
    with session_scope(engine_of(request)) as session:
        audit(request, session, "access.filtered", str(exc.params.get("target", "")),
              {"reason": "scope"})


async def on_error(request: Request, exc: PapervaultError) -> Response:
    u = ui(request)
    if isinstance(exc, Hidden):
        await run_in_threadpool(_audit_hidden, request, exc)
    if exc.http_status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    if isinstance(exc, NotSignedIn) and not _is_api(request) and request.method == "GET":
        return login_redirect(request)
    if isinstance(exc, PasswordChangeRequired) and not _is_api(request) \
            and request.method == "GET":
        return RedirectResponse("/password", status_code=303)
    headers = {"X-Papervault-Error": exc.key}  # the stable key, for scripts and tests
    if _is_api(request):
        return JSONResponse({"error": exc.key, "message": exc.message(u.lang)},
                            status_code=exc.http_status, headers=headers)
    title = u.t(f"ui_error_{exc.http_status}")
    message = exc.message(u.lang)
    if isinstance(exc, Forbidden) and exc.key == "forbidden":
        # People read role names; the permission code is for the audit trail (B13).
        roles = sorted(u.principal.roles) if u.principal else []
        message = u.t("ui_error_403_text", roles=("、" if u.lang == "zh" else ", ").join(
            u.t(f"ui_role_{r}") for r in roles) or "-")
    response = render(request, "error.html", {
        "status": exc.http_status, "message": message,
        "heading": title if not title.startswith("ui_error_") else u.t("ui_error"),
    }, status_code=exc.http_status)
    response.headers.update(headers)
    return response


async def _on_http(request: Request, exc: StarletteHTTPException) -> Response:
    """Routing errors (no such page, wrong method). The gate never ran, so the caller is
    looked up here: the page keeps its menu for a signed-in user."""
    if not _is_api(request) and not hasattr(request.state, "principal"):
        try:
            request.state.principal = await run_in_threadpool(identify_caller, request)
        except PapervaultError:
            request.state.principal = None
    u = ui(request)
    key = {404: "not_found_route", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    if _is_api(request):
        return JSONResponse({"error": key, "message": str(exc.detail)},
                            status_code=exc.status_code, headers=exc.headers)
    status = exc.status_code if exc.status_code in (404, 405) else 500
    return render(request, "error.html", {
        "status": exc.status_code, "heading": u.t(f"ui_error_{status}"),
        "message": u.t(f"ui_error_{status}_text", path=request.url.path)
        if status in (404, 405) else str(exc.detail),
    }, status_code=exc.status_code)


async def _on_invalid(request: Request, exc: RequestValidationError) -> Response:
    """A query or form value that does not parse: which fields, in the UI's language."""
    u = ui(request)
    fields = sorted({str(e.get("loc", ("?",))[-1]) for e in exc.errors()})
    if _is_api(request):
        return JSONResponse({"error": "invalid_input", "message": "invalid input",
                             "fields": fields,
                             "detail": [{"loc": list(e.get("loc", ())), "msg": e.get("msg")}
                                        for e in exc.errors()]},
                            status_code=422)
    labels = sorted({u.t(f"ui_field_{f}") if f"ui_field_{f}" in CATALOGUE
                     else u.t("ui_field_other") for f in fields})
    return render(request, "error.html", {
        "status": 422, "heading": u.t("ui_error_422"),
        "message": u.t("ui_error_422_text", fields="、".join(labels) if u.lang == "zh"
                       else ", ".join(labels)),
    }, status_code=422)
