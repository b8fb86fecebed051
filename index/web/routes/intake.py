"""The scanning staff's intake page: today's files (the list refreshed by htmx) and the
browser upload, which puts files into the inbox for the watcher (see index.uploads)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from papervault.index.catalog.db import session_scope
from papervault.index.catalog.intake import counts, day_start, intake_since
from papervault.index.uploads import UPLOAD_FOLDER, UploadRefused, save_upload
from papervault.index.web.deps import EngineDep, PrincipalDep, SettingsDep, audit, ui
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)

# Headers and form framing around the file itself; the body is the raw file.
_SLACK = 64 * 1024


def _rows(settings: SettingsDep, engine: EngineDep, principal: PrincipalDep
          ) -> dict[str, Any]:
    with session_scope(engine) as session:
        rows = intake_since(session, day_start(settings.web.time_zone), settings.inbox,
                            settings.quarantine_dir, settings.home,
                            # scanning staff handle every paper whatever its 密级; a
                            # department-scoped user sees only files they could open
                            scope=principal.scope.departments_only()
                            if principal.scope.departments is None else principal.scope)
    return {"rows": rows, "counts": counts(rows), "now": datetime.now(UTC)}


@router.get("/intake", response_class=HTMLResponse)
def intake_page(request: Request, settings: SettingsDep, engine: EngineDep,
                principal: PrincipalDep) -> HTMLResponse:
    return render(request, "intake.html", {
        **_rows(settings, engine, principal), "max_mb": settings.limits.max_bytes // (1024 * 1024),
        "max_bytes": settings.limits.max_bytes, "folder": f"{UPLOAD_FOLDER}/",
    })


@router.get("/intake/list", response_class=HTMLResponse)
def intake_list(request: Request, settings: SettingsDep, engine: EngineDep,
                principal: PrincipalDep) -> HTMLResponse:
    """Only the list, for the page's polling (htmx swaps it in place)."""
    return render(request, "_intake_list.html", _rows(settings, engine, principal))


def _audit_upload(request: Request, engine: Engine, path: str, size: int, sha256: str) -> None:
    with session_scope(engine) as session:
        audit(request, session, "intake.upload", f"inbox:{path}", {"size": size, "sha256": sha256})


@router.post("/intake/upload")
async def upload(request: Request, settings: SettingsDep, engine: EngineDep,
                 principal: PrincipalDep) -> JSONResponse:
    """One file per request, the raw body; its name in ``X-File-Name`` (URL-encoded)."""
    lang = ui(request).lang
    raw_name = unquote(request.headers.get("x-file-name", ""))
    limit = settings.limits.max_bytes
    try:
        declared = int(request.headers.get("content-length", "0"))
        if declared > limit + _SLACK:
            raise UploadRefused("upload_too_big", limit_mb=limit // (1024 * 1024))
        saved = await save_upload(request.stream(), settings.inbox, principal.username,
                                  raw_name, limit)
    except UploadRefused as e:
        return JSONResponse({"ok": False, "error": e.message(lang)}, status_code=e.http_status)
    except (ValueError, ClientDisconnect):
        failed = UploadRefused("upload_failed")
        return JSONResponse({"ok": False, "error": failed.message(lang)}, status_code=400)
    # Off the event loop (B17): SQLite may wait for the worker's write for seconds, and
    # meanwhile every page of every user would wait too.
    await run_in_threadpool(_audit_upload, request, engine, saved.path, saved.size,
                            saved.sha256)
    return JSONResponse({"ok": True, "path": saved.path,
                         "message": ui(request).t("ui_upload_done", path=saved.path)})
