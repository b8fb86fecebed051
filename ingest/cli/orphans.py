"""Sealed objects no document refers to."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from papervault.index.accounts import audit
from papervault.index.catalog.db import session_scope
from papervault.index.integrity import orphans
from papervault.ingest.cli.context import emit_json, out, settings_of
from papervault.ingest.runtime import audit_key, open_runtime

app = typer.Typer(help="无主对象 / stored objects no document refers to",
                          no_args_is_help=True)


GraceOpt = Annotated[float, typer.Option(
    "--older-than-hours", help="only objects at least this old (captures in flight)")]


def _orphans(ctx: typer.Context, hours: float):  # type: ignore[no-untyped-def]


    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        found = list(orphans.find(session, rt.store.list_objects(), timedelta(hours=hours)))
    return s, rt, found


@app.command("list")
def orphans_list(ctx: typer.Context, hours: GraceOpt = 24.0,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Sealed objects in S3 that no document refers to (left by a crash mid-capture)."""
    s, rt, found = _orphans(ctx, hours)
    with session_scope(rt.engine) as session:
        audit.record(session, audit_key(s), s.actor, "orphans.list", "storage",
                     {"found": len(found), "older_than_hours": hours})
    for o in found:
        if as_json:
            emit_json(o.as_dict())
        else:
            out.print(f"{o.name}  {o.size} bytes  {o.modified}", highlight=False)
    if not as_json:
        out.print(f"无主对象 / orphaned objects: {len(found)}")


@app.command("delete")
def orphans_delete(ctx: typer.Context, hours: GraceOpt = 24.0) -> None:
    """Delete those objects (each re-checked against the index just before)."""

    s, rt, found = _orphans(ctx, hours)
    deleted = 0
    for o in found:
        with session_scope(rt.engine) as session:
            if orphans.referenced(session, [o.name]):  # committed meanwhile
                continue
        rt.store.delete(o.name)
        deleted += 1
    with session_scope(rt.engine) as session:
        audit.record(session, audit_key(s), s.actor, "orphans.delete", "storage",
                     {"deleted": deleted, "older_than_hours": hours})
    out.print(f"已删除 / deleted: {deleted}")
