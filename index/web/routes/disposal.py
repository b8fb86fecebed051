"""The disposal queue (销毁): proposals within the caller's scope, each with its records;
an auditor approves or rejects (with a reason) a proposal someone else made, and the
destruction list (销毁清册) is downloaded as CSV. The run itself stays a CLI step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from papervault.index.catalog.db import session_scope
from papervault.index.registers import disposal
from papervault.index.web.deps import principal_of, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/disposal", response_class=HTMLResponse)
def disposal_page(request: Request) -> HTMLResponse:
    scope = principal_of(request).scope
    with session_scope(request.app.state.engine) as s:
        rows = []
        for d, _ in disposal.listing(s, scope)[:100]:
            items = list(s.exec(disposal.items_of(d.id or 0)))
            rows.append({"d": d, "lines": items})
    return render(request, "disposal.html", {"rows": rows})


def _decide(request: Request, disposal_id: int, approve: bool, reason: str) -> Response:
    u = ui(request)
    auditor = request.app.state.auditor
    with session_scope(request.app.state.engine) as s:
        d = disposal.decide(s, auditor.key, disposal_id, approve, u.actor,
                            principal_of(request).scope, reason, origin=u.origin)
    return redirect("/disposal", "flash_disposal_decided", id=disposal_id,
                    state=u.t(f"ui_disposal_state_{d.state}"))


@router.post("/disposal/{disposal_id}/approve")
def disposal_approve(request: Request, disposal_id: int) -> Response:
    return _decide(request, disposal_id, True, "")


@router.post("/disposal/{disposal_id}/reject")
def disposal_reject(request: Request, disposal_id: int,
                    reason: Annotated[str, Form()] = "") -> Response:
    return _decide(request, disposal_id, False, reason)


@router.get("/disposal/{disposal_id}.csv")
def destruction_list(request: Request, disposal_id: int) -> Response:
    with session_scope(request.app.state.engine) as s:
        data = disposal.destruction_list_csv(s, disposal_id, principal_of(request).scope)
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="disposal-{disposal_id}.csv"'})
