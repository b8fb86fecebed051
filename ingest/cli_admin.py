"""Admin commands: master-key status, rotation and retirement; audit-chain verification."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from papervault.config.errors import BadInput, PapervaultError
from papervault.config.messages import text
from papervault.index import audit
from papervault.index.db import session_scope
from papervault.index.keys import key_usage, rewrap_all
from papervault.index.recovery import details_of, restore, sync_records
from papervault.ingest.cli import app, emit_json, err, out, settings_of
from papervault.ingest.runtime import audit_key, open_runtime
from papervault.storage import crypto
from papervault.storage.errors import IntegrityError
from papervault.storage.keyring import add_primary_key, retire_key

keys_app = typer.Typer(help="主密钥 / master keys", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志 / the audit trail", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")


class AuditBroken(PapervaultError):
    exit_code = 6
    key = "audit_broken"


@keys_app.command("status")
def keys_status(ctx: typer.Context,
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Key ids in the keyset, the primary, and how many data keys each one wraps."""
    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        usage = key_usage(session)
    primary = rt.store.master.key_id
    keys = {k: usage.get(k, 0) for k in rt.store.master.key_ids()}
    unknown = sorted(set(usage) - set(keys))
    if as_json:
        emit_json({"primary": primary, "keys": keys, "unknown_in_index": unknown})
        return
    for k, n in keys.items():
        mark = " (primary)" if k == primary else ""
        out.print(f"{k}{mark}: {n} data keys")
    for k in unknown:
        out.print(f"[red]{k}: used in the index but not in the keyset[/]")


def _key_file(ctx: typer.Context):  # type: ignore[no-untyped-def]
    s = settings_of(ctx)
    if s.crypto.master_key or s.crypto.master_key_file is None:
        raise BadInput(detail="rotation edits the key file; the key comes from the environment")
    return s, s.path(s.crypto.master_key_file)


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    resume: Annotated[bool, typer.Option(help="only re-wrap, keep the current primary")] = False,
) -> None:
    """New primary master key; re-wrap every data key (objects are not re-encrypted)."""
    s, key_file = _key_file(ctx)
    rt = open_runtime(s)
    master = rt.store.master if resume else add_primary_key(key_file)
    rt.store.master = master  # recovery records are rewritten under the new primary too
    with session_scope(rt.engine) as session:
        audit.record(session, audit_key(s), s.actor, "keys.rotate", master.key_id,
                     {"resume": resume})
        total = sum(n for k, n in key_usage(session).items() if k != master.key_id)
    with Progress(console=err) as progress:
        task = progress.add_task("re-wrap", total=total)
        n = rewrap_all(rt.engine, master.key_id,
                       lambda w, name: crypto.rewrap(master, master, w, name),
                       progress=lambda k: progress.advance(task, k),
                       on_original=lambda d, w: rt.store.write_record(
                           d.object_name, w, details_of(d)))
    out.print(f"主密钥 / primary key: {master.key_id}; re-wrapped documents: {n}")


@keys_app.command("retire")
def keys_retire(ctx: typer.Context, key_id: str) -> None:
    """Remove an old key from the keyset once no data key uses it."""
    s, key_file = _key_file(ctx)
    rt = open_runtime(s)
    # The recovery records must not lag behind the index: a record still wrapped under the
    # retired key could never be opened again.
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("records", total=None)
        synced = sync_records(rt.engine, rt.store, lambda k: progress.advance(task, k))
    if synced:
        out.print(text("records_rewritten", s.language, n=synced))
    with session_scope(rt.engine) as session:
        in_use = {k for k, n in key_usage(session).items() if n}
    retire_key(key_file, key_id, in_use)
    with session_scope(rt.engine) as session:
        audit.record(session, audit_key(s), s.actor, "keys.retire", key_id)
    out.print(f"已停用 / retired: {key_id}")


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


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit chain: any edited, inserted or deleted entry is named."""
    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        problems = audit.verify_chain(session, audit_key(s))
    with session_scope(rt.engine) as session:
        audit.record(session, audit_key(s), s.actor, "audit.verify", "audit",
                     {"problems": len(problems)})
    for p in problems:
        out.print(f"[red]{p}[/]")
    if problems:
        raise AuditBroken(detail=f"{len(problems)} problem(s) found")
    out.print("审计日志完整 / audit chain intact")


@audit_app.command("log")
def audit_log(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option(help="who")] = None,
    action: Annotated[str | None, typer.Option(help="an action, or a prefix like 'login.'")
                      ] = None,
    target: Annotated[str | None, typer.Option(help="e.g. document:12")] = None,
    client: Annotated[str | None, typer.Option(
        help="every entry about this client or one of their documents")] = None,
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD (inclusive)")] = None,
    limit: int = 200,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="write every match as CSV")
                       ] = None,
) -> None:
    """Show or export the audit trail, newest first (auditors)."""
    from datetime import UTC, datetime, time, timedelta

    from papervault.index.web.archive import parse_date

    s = settings_of(ctx)
    since_d, until_d = parse_date(since), parse_date(until)
    flt = audit.LogFilter(
        actor=actor, action=action, target=target, client_id=client,
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


privacy_app = typer.Typer(help="个人信息最小化 / PI minimisation", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("mask-existing")
def privacy_mask_existing(ctx: typer.Context) -> None:
    """Mask ID and card numbers in text stored before privacy.mask_numbers was turned on."""
    from papervault.index import privacy
    from papervault.ingest.runtime import pi_key

    s = settings_of(ctx)
    key = pi_key(s)
    if key is None:
        raise BadInput(detail="privacy.mask_numbers is off: turn it on in the config first")
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        n = privacy.mask_existing(session, key)
        audit.record(session, audit_key(s), s.actor, "privacy.mask_existing", "documents",
                     {"documents": n})
    out.print(f"已遮蔽 / masked: {n} documents")


orphans_app = typer.Typer(help="无主对象 / stored objects no document refers to",
                          no_args_is_help=True)
app.add_typer(orphans_app, name="orphans")
GraceOpt = Annotated[float, typer.Option(
    "--older-than-hours", help="only objects at least this old (captures in flight)")]


def _orphans(ctx: typer.Context, hours: float):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from papervault.index import orphans

    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        found = list(orphans.find(session, rt.store.list_objects(), timedelta(hours=hours)))
    return s, rt, found


@orphans_app.command("list")
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


@orphans_app.command("delete")
def orphans_delete(ctx: typer.Context, hours: GraceOpt = 24.0) -> None:
    """Delete those objects (each re-checked against the index just before)."""
    from papervault.index import orphans

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
