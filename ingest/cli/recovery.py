"""Rebuilding a lost index from the recovery records in S3."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from papervault.index.accounts import audit
from papervault.index.catalog.db import session_scope
from papervault.index.integrity.recovery import restore, sync_records
from papervault.ingest.cli.context import emit_json, err, out, settings_of
from papervault.ingest.runtime import audit_key, open_runtime
from papervault.storage.errors import IntegrityError

app = typer.Typer()


@app.command("recover")
def recover(ctx: typer.Context,
            as_json: Annotated[bool, typer.Option("--json")] = False,
            write_records: Annotated[bool, typer.Option(
                "--write-records",
                help="instead: write the records that are missing (originals stored before "
                     "records existed; run once after upgrading) or stale, from the index")
            ] = False) -> None:
    """Rebuild the index from the recovery records beside each original in S3 (after a lost
    database): each original is read back, checked and queued for OCR again."""
    s = settings_of(ctx)
    rt = open_runtime(s)
    if write_records:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("records", total=None)
            n = sync_records(rt.engine, rt.store, lambda k: progress.advance(task, k))
        with session_scope(rt.engine) as session:
            audit.record(session, audit_key(s), s.actor, "index.write_records", "storage",
                         {"written": n})
        if as_json:
            emit_json({"written": n})
        else:
            out.print(f"已写入恢复记录 / recovery records written: {n}")
        return
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("recover", total=None)
        report = restore(rt.engine, rt.store, progress=lambda k: progress.advance(task, k))
    with session_scope(rt.engine) as session:
        audit.record(session, audit_key(s), s.actor, "index.recover", "storage",
                     {k: v for k, v in report.as_dict().items() if k != "failed"}
                     | {"failed": len(report.failed)})
    if as_json:
        emit_json(report.as_dict())
    else:
        out.print(f"恢复 / restored: {len(report.restored)}; 已有 / already indexed: "
                  f"{report.already_indexed}; 重复 / duplicates: {report.duplicates}; "
                  f"失败 / failed: {len(report.failed)}")
        for name, reason in report.failed:
            out.print(f"[red]{name}: {reason}[/]")
    if report.failed:
        raise IntegrityError(detail=f"{len(report.failed)} record(s) could not be restored")
