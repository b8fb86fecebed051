"""The scanning staff's processing status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from papervault.index.catalog.db import session_scope
from papervault.index.catalog.intake import relative, split_reason
from papervault.index.catalog.status import status
from papervault.index.web.deps import SettingsDep, principal_of, single_valued, ui
from papervault.index.web.render import render
from papervault.index.web.schemas import errors

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(single_valued)])


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    with session_scope(request.app.state.engine) as session:
        data = status(session, principal_of(request).scope)
    # Walkthrough B6/B7: the clerk's page names files as the share shows them and gives
    # each reason in the page's language only (the JSON API keeps both).
    lang = ui(request).lang
    data["last_errors"] = [
        {**e, "file": relative(e["file"], settings.inbox),
         "reason": split_reason(e["reason"]).get(lang, "")}
        for e in data["last_errors"]]
    return render(request, "status.html", {"s": data})


@api.get("/status", summary="Documents, intake outcomes, queue and last errors",
         responses=errors())
def status_api(request: Request) -> dict[str, Any]:
    with session_scope(request.app.state.engine) as session:
        return status(session, principal_of(request).scope)
