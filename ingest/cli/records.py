"""Retention and disposal: `retention report`, `disposal propose|approve|reject|run|list|
export`, and an administrator's `remove` of a mis-scan (issue 15)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from papervault.config.messages import text
from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.registers import disposal, expiry, retention
from papervault.ingest.cli.context import (
    emit_json,
    hidden_audited,
    out,
    principal_of,
    settings_of,
)
from papervault.ingest.runtime import audit_key, local_s3, open_runtime

app = typer.Typer()
retention_app = typer.Typer(help="保管期限 / retention", no_args_is_help=True)
disposal_app = typer.Typer(help="档案销毁 / disposal after retention", no_args_is_help=True)
Opt = typer.Option
Reason = Annotated[str, Opt("--reason", help="why (goes into the audit trail)")]


def _defaults(s: Settings) -> retention.Defaults:
    return retention.defaults_from(s.retention)


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)


@retention_app.command("report")
def retention_report(
    ctx: typer.Context,
    as_json: Annotated[bool, Opt("--json", help="one JSON object per original")] = False,
    as_csv: Annotated[bool, Opt("--csv", help="CSV (UTF-8 with BOM)")] = False,
    output: Annotated[Path | None, Opt("-o", help="write to this file")] = None,
    limit: Annotated[int | None, Opt(help="only the first N (soonest expiry)")] = None,
) -> None:
    """Per original: its retain-until, why, and the lock the S3 server holds; soonest first."""
    s = settings_of(ctx)
    scope = principal_of(ctx).scope
    with local_s3(s):
        rt = open_runtime(s)
        with session_scope(rt.engine) as session:
            rows = expiry.report(session, scope, _defaults(s), rt.store, limit=limit)
    if as_csv:
        _write(expiry.as_csv(rows), output)
        return
    if as_json:
        for d in expiry.as_dicts(rows):
            emit_json(d)
        return
    for r in rows:
        held = "HOLD" if r.lock_hold else (r.lock_mode or "none")
        lock = "-" if r.lock_ok is None else (
            f"{held} {r.lock_until or ''}{' ok' if r.lock_ok else ' SHORT'}")
        out.print(f"{r.retain_until or '永久'}  {r.state:9}  #{r.document_id}  "
                  f"{r.record_no or '-'}  {r.title or '-'}  lock: {lock}", markup=False,
                  highlight=False)


@disposal_app.command("propose")
def disposal_propose(
    ctx: typer.Context,
    record_nos: Annotated[list[str], typer.Argument(help="档号 of expired records")],
    reason: Reason,
) -> None:
    """Propose destroying the originals of expired records (an auditor approves)."""
    s = settings_of(ctx)
    who = principal_of(ctx)
    rt = open_runtime(s)
    with hidden_audited(s), session_scope(rt.engine) as session:
        d = disposal.propose(session, audit_key(s), record_nos, reason, who.username,
                             who.scope, _defaults(s), rt.store.lock)
        n = len(list(session.exec(disposal.items_of(d.id or 0))))
        out.print(text("disposal_proposed", s.language, id=d.id, n=n))


def _decide(ctx: typer.Context, disposal_id: int, approve: bool, reason: str) -> None:
    s = settings_of(ctx)
    who = principal_of(ctx)
    rt = open_runtime(s)
    with hidden_audited(s), session_scope(rt.engine) as session:
        d = disposal.decide(session, audit_key(s), disposal_id, approve, who.username,
                            who.scope, reason)
        out.print(text("disposal_decided", s.language, id=d.id, state=d.state))


@disposal_app.command("approve")
def disposal_approve(ctx: typer.Context, disposal_id: int,
                     reason: Annotated[str, Opt("--reason")] = "") -> None:
    """Approve a proposal made by someone else (auditors)."""
    _decide(ctx, disposal_id, True, reason)


@disposal_app.command("reject")
def disposal_reject(ctx: typer.Context, disposal_id: int, reason: Reason) -> None:
    """Reject a proposal, saying why (auditors)."""
    _decide(ctx, disposal_id, False, reason)


@disposal_app.command("run")
def disposal_run(ctx: typer.Context, disposal_id: int) -> None:
    """Destroy an approved proposal's originals: every stored version, for good."""
    s = settings_of(ctx)
    who = principal_of(ctx)
    with local_s3(s):
        rt = open_runtime(s)
        with hidden_audited(s):
            n, versions = disposal.run(rt.engine, rt.store, audit_key(s), disposal_id,
                                       who.username, who.scope)
    out.print(text("disposal_done", s.language, id=disposal_id, n=n, versions=versions))


@disposal_app.command("list")
def disposal_list(ctx: typer.Context, state: Annotated[str | None, Opt(
        help="proposed, approved, rejected, done or removed")] = None,
                  as_json: Annotated[bool, Opt("--json")] = False) -> None:
    """Disposal proposals, newest first."""
    s = settings_of(ctx)
    scope = principal_of(ctx).scope
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        for d, n in disposal.listing(session, scope, state):
            row = {"id": d.id, "state": d.state, "originals": n, "proposer": d.proposer,
                   "proposed_at": d.proposed_at, "approver": d.approver, "reason": d.reason}
            if as_json:
                emit_json(row)
            else:
                out.print(json.dumps(row, ensure_ascii=False, default=str), markup=False,
                          highlight=False)


@disposal_app.command("export")
def disposal_export(
    ctx: typer.Context, disposal_id: int,
    output: Annotated[Path | None, Opt("-o", help="write to this file")] = None,
) -> None:
    """The 销毁清册 (destruction list) of one disposal, as CSV."""
    s = settings_of(ctx)
    scope = principal_of(ctx).scope
    rt = open_runtime(s)
    with hidden_audited(s), session_scope(rt.engine) as session:
        data = disposal.destruction_list_csv(session, disposal_id, scope)
    _write(data, output)


@app.command("remove")
def remove(ctx: typer.Context, doc_id: int, reason: Reason) -> None:
    """Remove a mis-scan before its retention ends (administrators; GOVERNANCE only)."""
    s = settings_of(ctx)
    who = principal_of(ctx)
    with local_s3(s):
        rt = open_runtime(s)
        with hidden_audited(s):
            versions = disposal.remove(rt.engine, rt.store, audit_key(s), doc_id, reason,
                                       who.username)
    out.print(text("removed", s.language, doc=doc_id, versions=versions))
