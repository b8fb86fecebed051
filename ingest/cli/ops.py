"""Operations: health (container healthchecks), doctor, backup and restore."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from papervault.config.errors import BadInput
from papervault.ingest.backup import Encryption, create_backup, decrypt_backup, restore_backup
from papervault.ingest.cli.context import emit_json, err, out, settings_of
from papervault.ingest.doctor import run_checks
from papervault.ingest.runtime import run_dir

app = typer.Typer()

# The watcher rewrites capture.json every few seconds and the worker worker.json every 15 s.
STALE_SECONDS = {"watcher": 120.0, "worker": 60.0}
BEAT_FILES = {"watcher": "capture.json", "worker": "worker.json"}


@app.command()
def health(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="watcher | worker")],
) -> None:
    """Exit 0 if this machine's watcher or worker wrote its heartbeat recently (for
    container healthchecks; reads only a local file, so a slow database cannot fail it)."""
    if service not in BEAT_FILES:
        raise BadInput(detail=f"health {service}: watcher or worker")
    s = settings_of(ctx)
    beat = run_dir(s) / BEAT_FILES[service]
    try:
        data = json.loads(beat.read_text(encoding="utf-8"))
        age = time.time() - float(data.get("updated", 0))
    except (OSError, ValueError):
        err.print(f"{service}: no heartbeat at {beat}")
        raise typer.Exit(1) from None
    if age > STALE_SECONDS[service]:
        err.print(f"{service}: last heartbeat {age:.0f} s ago")
        raise typer.Exit(1)
    out.print(f"{service}: ok ({age:.0f} s)")


@app.command()
def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check config, key-file modes, tesseract, poppler, S3 (versioning, lock) and the
    database schema; name the fix for each problem. Exit 1 if anything must be fixed."""
    checks = run_checks(settings_of(ctx))
    if as_json:
        emit_json([c.__dict__ for c in checks])
    else:
        for c in checks:
            mark = "[green]ok[/]  " if c.ok and not c.warn else (
                "[yellow]note[/]" if c.ok else "[red]FAIL[/]")
            out.print(f"{mark} {c.name:<12} {c.detail}", highlight=False)
            if c.fix and (c.warn or not c.ok):
                out.print(f"       → {c.fix}", highlight=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


PassFile = Annotated[Path | None, typer.Option(
    "--passphrase-file", exists=True, dir_okay=False,
    help="read the passphrase from this file (else PAPERVAULT_BACKUP_PASSPHRASE, else asked)")]


def _passphrase(path: Path | None, confirm: bool) -> str:
    if path is not None:
        return path.read_text(encoding="utf-8").strip()
    env = os.environ.get("PAPERVAULT_BACKUP_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise BadInput(detail="no passphrase: --passphrase-file, PAPERVAULT_BACKUP_PASSPHRASE "
                       "or --to RECIPIENT")
    value: str = typer.prompt("passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


@app.command()
def backup(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="the encrypted file to write (.tar.age)")],
    to: Annotated[list[str] | None, typer.Option(
        "--to", help="an age (age1…) or SSH public key; repeatable; else a passphrase")] = None,
    passphrase_file: PassFile = None,
) -> None:
    """Write one encrypted file with a consistent database dump and every key (master
    key included). The documents themselves stay in S3: back the bucket up as well."""
    s = settings_of(ctx)
    enc = (Encryption(recipients=tuple(to)) if to
           else Encryption(passphrase=_passphrase(passphrase_file, confirm=True)))
    result = create_backup(s, output, enc)
    out.print(f"已备份 / backed up: {result.path} ({result.size} bytes; "
              f"{', '.join(result.manifest['files'])})", highlight=False)


@app.command()
def restore(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    identity: Annotated[list[Path] | None, typer.Option(
        "--identity", "-i", exists=True, dir_okay=False, help="age identity file")] = None,
    passphrase_file: PassFile = None,
    overwrite_keys: Annotated[bool, typer.Option(
        "--overwrite-keys", help="replace key files that differ from the backup's")] = False,
) -> None:
    """Restore a backup into this instance: keys to their configured paths, the index into
    an empty database (a fresh instance folder or a new PostgreSQL database)."""
    s = settings_of(ctx)
    phrase = None if identity else _passphrase(passphrase_file, confirm=False)
    plain = decrypt_backup(source, phrase, identity or [])
    manifest = restore_backup(s, plain, overwrite_keys=overwrite_keys)
    out.print(f"已恢复 / restored: backup of {manifest['created']} "
              f"(papervault {manifest['papervault']}); now run papervault verify", highlight=False)
