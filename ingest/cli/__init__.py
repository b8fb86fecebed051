"""The ``papervault`` command, assembled from one module per command group.

Each module defines its own Typer app and imports only :mod:`.context`; this file only
assembles them and turns errors into exit codes in one place: :func:`main`.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from papervault.config.errors import PapervaultError
from papervault.config.messages import Lang
from papervault.config.version import package_version
from papervault.ingest.cli import (
    archive,
    audit,
    coverage,
    keys,
    ocr,
    ops,
    orphans,
    privacy,
    qa,
    records,
    recovery,
    registers,
    run,
    tiers,
    users,
)
from papervault.ingest.cli.context import ConfigOpt, State, err
from papervault.ingest.permissions import restrict_umask

app = typer.Typer(help="papervault: 纸质档案数字化归档 / paper files into an encrypted archive",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"papervault {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: ConfigOpt = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
) -> None:
    ctx.obj = State(config)


# Top-level commands (papervault init, search, verify, …) merge into the root; groups are named.
for commands in (run.app, archive.app, registers.app, coverage.app, recovery.app, ops.app,
                 tiers.app, records.app):
    app.add_typer(commands)
app.add_typer(registers.clients, name="clients")
app.add_typer(registers.paper, name="paper")
app.add_typer(qa.app, name="qa")
app.add_typer(keys.app, name="keys")
app.add_typer(ocr.app, name="ocr")
app.add_typer(audit.app, name="audit")
app.add_typer(privacy.app, name="privacy")
app.add_typer(orphans.app, name="orphans")
app.add_typer(users.app, name="users")
app.add_typer(tiers.classify, name="classify")
app.add_typer(records.retention_app, name="retention")
app.add_typer(records.disposal_app, name="disposal")


def main() -> None:
    """Console entry point: run the app, turn our errors into messages and exit codes."""
    lang: Lang = "en" if os.environ.get("PAPERVAULT_LANGUAGE", "zh") == "en" else "zh"
    restrict_umask()  # before anything is created: the index and scans are personal data
    try:
        app(standalone_mode=False)
    except PapervaultError as e:
        err.print(f"[red]错误 error:[/] {e.message(lang)}")
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except Exception as e:
        # Usage errors (missing or bad arguments, unknown commands): typer ships its own
        # copy of click, so they are recognised by what they can do, not by class.
        show, code = getattr(e, "show", None), getattr(e, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
