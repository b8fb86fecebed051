"""The audit trail: verify the chain, show or export it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer

from papervault.index.accounts import audit
from papervault.index.accounts.audit import AuditBroken
from papervault.index.accounts.chaincheck import verify_now
from papervault.index.archive import (
    parse_date,
)
from papervault.index.catalog.db import session_scope
from papervault.ingest.cli.context import emit_json, out, settings_of
from papervault.ingest.runtime import audit_key, local_s3, open_runtime

app = typer.Typer(help="审计日志 / the audit trail", no_args_is_help=True)


@app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit chain: any edited, inserted or deleted entry is named."""
    s = settings_of(ctx)
    rt = open_runtime(s)
    with local_s3(s):
        status = verify_now(rt.engine, rt.store, audit_key(s),
                            s.path(s.crypto.audit_anchor_file), s.actor)
    problems = list(status.problems)
    for p in problems:
        out.print(f"[red]{p}[/]")
    if problems:
        raise AuditBroken(detail=f"{len(problems)} problem(s) found")
    out.print("审计日志完整 / audit chain intact")


@app.command("log")
def audit_log(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option(help="who")] = None,
    action: Annotated[str | None, typer.Option(help="an action, or a prefix like 'login.'")
                      ] = None,
    target: Annotated[str | None, typer.Option(help="e.g. document:12")] = None,
    client: Annotated[str | None, typer.Option(
        help="every entry about this client or one of their documents")] = None,
    origin: Annotated[str | None, typer.Option(
        help="who really acted: 'cli root@host' (the OS account) or 'web 10.0.' (prefix)")
                      ] = None,
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD (inclusive)")] = None,
    limit: int = 200,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="write every match as CSV")
                       ] = None,
) -> None:
    """Show or export the audit trail, newest first (auditors)."""


    s = settings_of(ctx)
    since_d, until_d = parse_date(since), parse_date(until)
    flt = audit.LogFilter(
        actor=actor, action=action, target=target, client_id=client, origin=origin,
        since=datetime.combine(since_d, time(), UTC) if since_d else None,
        until=datetime.combine(until_d, time(), UTC) + timedelta(days=1) if until_d else None)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        if csv_out is not None:
            csv_out.write_bytes(audit.entries_csv(session, flt))
            audit.record(session, audit_key(s), s.actor, "audit.export", "audit",
                         flt.params())
            out.print(f"→ {csv_out}")
            return
        rows = audit.entries(session, flt, limit)
        audit.record(session, audit_key(s), s.actor, "audit.view", "audit", flt.params())
    for e in rows:
        if as_json:
            emit_json(audit.entry_dict(e))
        else:
            out.print(f"{e.id:>7} {e.at:%Y-%m-%d %H:%M:%S} {e.actor:<16} {e.action:<16} "
                      f"{e.target:<24} {e.origin}", markup=False, highlight=False)
