"""The scanning staff's processing status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from papervault.index.catalog.db import session_scope
from papervault.index.catalog.status import status
from papervault.index.web.deps import principal_of
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> HTMLResponse:
    with session_scope(request.app.state.engine) as session:
        data = status(session, principal_of(request).scope)
    return render(request, "status.html", {"s": data})


@api.get("/status", summary="Documents, intake outcomes, queue and last errors")
def status_api(request: Request) -> dict[str, Any]:
    with session_scope(request.app.state.engine) as session:
        return status(session, principal_of(request).scope)
