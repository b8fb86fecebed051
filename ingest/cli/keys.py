"""Master keys: new, status, rotate, retire."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from papervault.config.errors import BadInput
from papervault.config.messages import text
from papervault.index.accounts import audit
from papervault.index.catalog.db import session_scope
from papervault.index.integrity.keys import key_usage, rewrap_all
from papervault.index.integrity.recovery import details_of, sync_records
from papervault.ingest.cli.context import emit_json, err, out, settings_of
from papervault.ingest.runtime import audit_key, open_runtime
from papervault.storage import crypto
from papervault.storage.keyring import add_primary_key, retire_key

app = typer.Typer(help="主密钥 / master keys", no_args_is_help=True)


@app.command("new")
def keys_new(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write here, created 0600 (refuses an existing file)")] = None,
) -> None:
    """Make a new master keyset (Tink JSON) for a new instance or Docker secret; to stdout
    unless --output. Never for an instance that already has one: rotate that instead."""
    keyset = crypto.new_master_keyset()
    if output is None:
        sys.stdout.write(keyset + "\n")
        return
    try:
        crypto.write_master_key_file(output, keyset)
    except FileExistsError as e:
        raise BadInput(detail=f"{output} exists: keys rotate changes an existing key") from e
    err.print(f"已创建 / created: {output} — back it up now (papervault backup)")


@app.command("status")
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


@app.command("rotate")
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


@app.command("retire")
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
