"""Registers imported by upload: upload → preview with every line-level error → confirm.
Nothing is written before the confirm step; the clients register also needs REGISTERS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from papervault.config.errors import Forbidden
from papervault.index.catalog.db import session_scope
from papervault.index.registers import upload
from papervault.index.web.deps import Ui, audit, settings_of, ui
from papervault.index.web.flash import redirect
from papervault.index.web.render import render

router = APIRouter(include_in_schema=False)
NEEDS = {"clients": "registers", "paper": "paper_register"}


def _kinds(u: Ui) -> list[str]:
    return [k for k in upload.KINDS if u.can(NEEDS[k])]


def _allowed(u: Ui, kind: str) -> None:
    if kind not in _kinds(u):
        roles = ",".join(sorted(r.value for r in u.principal.roles)) if u.principal else "-"
        raise Forbidden(user=u.actor, roles=roles, perm=NEEDS.get(kind, kind))


@router.get("/registers", response_class=HTMLResponse)
def registers_page(request: Request) -> HTMLResponse:
    return render(request, "registers.html", {"kinds": _kinds(ui(request)), "error": None,
                                              "kind": request.query_params.get("kind")})


@router.post("/registers/preview", response_class=HTMLResponse)
async def registers_preview(request: Request, kind: Annotated[str, Form()],
                            file: Annotated[UploadFile | None, File()] = None
                            ) -> HTMLResponse:
    u = ui(request)
    _allowed(u, kind)
    if file is None or not file.filename:
        return render(request, "registers.html", {
            "kinds": _kinds(u), "kind": kind, "error": u.t("ui_reg_no_file")}, 422)
    data = await file.read(upload.MAX_BYTES + 1)
    settings = settings_of(request)
    # Parsing a register (openpyxl on a large XLSX) takes seconds: off the event loop, so
    # every other page keeps answering meanwhile (B17).
    token = await run_in_threadpool(upload.stage, settings, data, file.filename,
                                    kind, u.actor)  # type: ignore[arg-type]
    pv = await run_in_threadpool(upload.preview, settings, token, u.actor)
    if pv.errors:  # nothing to confirm: keep nothing
        await run_in_threadpool(upload.discard, settings, token, u.actor)
    return render(request, "registers_preview.html", {
        "pv": pv, "token": token, "shown": upload.PREVIEW_ROWS},
        422 if pv.errors else 200)


@router.post("/registers/confirm")
def registers_confirm(request: Request, token: Annotated[str, Form()],
                      action: Annotated[str, Form()] = "confirm") -> Response:
    u = ui(request)
    settings = settings_of(request)
    if action != "confirm":
        upload.discard(settings, token, u.actor)
        return redirect("/registers", "flash_reg_cancelled", "info")
    pv = upload.preview(settings, token, u.actor)
    _allowed(u, pv.kind)
    done = upload.confirm(request.app.state.engine, settings, token, u.actor)
    with session_scope(request.app.state.engine) as s:
        if done.kind == "clients":
            audit(request, s, "clients.import", done.name, {"rows": done.rows, "via": "upload"})
        else:
            audit(request, s, "paper.import", done.name,
                  {"added": done.added, "updated": done.updated, "via": "upload"})
        audit(request, s, "register.relink", done.name, {"changed": done.relinked})
    if done.kind == "clients":
        return redirect("/registers", "flash_reg_clients", n=done.rows, changed=done.relinked)
    return redirect("/registers", "flash_reg_paper", added=done.added, updated=done.updated,
                    changed=done.relinked)
