"""The ``papervault`` command. Errors become exit codes in one place: :func:`main`."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from papervault.config.errors import PapervaultError
from papervault.config.logging import setup_logging
from papervault.config.messages import Lang, text
from papervault.config.settings import Settings, load_settings
from papervault.index.access import Principal

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer(help="papervault: 纸质档案数字化归档 / paper files into an encrypted archive",
                  no_args_is_help=True, pretty_exceptions_enable=False)
clients_app = typer.Typer(help="客户登记 / the clients register", no_args_is_help=True)
app.add_typer(clients_app, name="clients")

# A file the user names to read: a missing or unreadable one is a usage error, not a crash.
InputFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]

out = Console(soft_wrap=True)  # long paths, hashes and messages stay on one line for scripts
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("papervault")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="PAPERVAULT_CONFIG", help="papervault.toml"),
]


class State:
    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None
        self.authorized = False
        self.principal: Principal | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
            setup_logging(self._settings.log_level)
        return self._settings


@app.callback()
def _root(ctx: typer.Context, config: ConfigOpt = None) -> None:
    ctx.obj = State(config)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings, once the local user is allowed to run this command (the CLI's gate)."""
    state: State = ctx.find_root().obj
    s = state.settings
    if not state.authorized:
        state.principal = authorize_command(s, command_key(ctx))
        state.authorized = True
    return s


def principal_of(ctx: typer.Context) -> Principal:
    """Who runs this command (after :func:`settings_of` let them)."""
    state: State = ctx.find_root().obj
    assert state.principal is not None, "settings_of(ctx) first"
    return state.principal


def command_key(ctx: typer.Context) -> str:
    """``"keys rotate"`` for ``papervault keys rotate``: the key of ``index.access.COMMANDS``."""
    names: list[str] = []
    c: typer.Context | None = ctx
    while c is not None and c.parent is not None:
        names.append(c.info_name or "")
        c = c.parent  # type: ignore[assignment]
    return " ".join(reversed(names))


def authorize_command(s: Settings, key: str) -> Principal | None:
    """Apply ``index.access.COMMANDS`` to ``s.actor`` (the named local user); audit refusals.

    The first ``users add`` on an instance without users is allowed: it makes the first admin.
    """
    from papervault.config.errors import Forbidden
    from papervault.index import audit, users
    from papervault.index.access import COMMANDS, Open, allows
    from papervault.index.db import make_engine, session_scope, upgrade
    from papervault.ingest.runtime import audit_key

    rule = COMMANDS.get(key)
    if rule is Open.BOOTSTRAP:
        return None
    engine = make_engine(s.db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        if key == "users add" and users.count_users(session) == 0:
            return None
        if rule is None:
            raise Forbidden("forbidden", user=s.actor, roles="-", perm="(no rule)")
        try:
            principal = users.local_principal(session, s.actor, s.access)
        except Forbidden:
            audit.record(session, audit_key(s), s.actor, "access.denied", key,
                         {"needs": str(rule), "reason": "unknown user"})
            session.commit()
            raise
        if not allows(rule, principal):
            audit.record(session, audit_key(s), s.actor, "access.denied", key,
                         {"needs": str(rule)})
            session.commit()
            users.require(principal, rule)  # type: ignore[arg-type]  # raises Forbidden
        return principal


def emit_json(obj: Any) -> None:
    out.file.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    out.file.flush()


def relink_after_import(s: Settings, engine: Engine, file_name: str,
                        values: list[str]) -> None:
    """After a register import: link the documents it now explains, audit that, say so."""
    from papervault.index import audit
    from papervault.index.db import session_scope
    from papervault.ingest.relink import relink
    from papervault.ingest.runtime import audit_key

    found = relink(engine, s, values)
    with session_scope(engine) as session:
        audit.record(session, audit_key(s), s.actor, "register.relink", file_name,
                     {"checked": found.checked, "changed": found.changed})
    out.print(text("relinked", s.language, changed=found.changed, checked=found.checked))


@app.command()
def init(
    folder: Path,
    web_port: int = 8700,
    admin: Annotated[str | None, typer.Option(
        help="the first administrator (default: PAPERVAULT_ACTOR or your login name)")] = None,
) -> None:
    """Create an instance: config, master key (0600), inbox/, quarantine/, index, first admin."""
    from papervault.index import users
    from papervault.index.access import Role
    from papervault.index.db import make_engine, session_scope, upgrade
    from papervault.ingest.instance import init_instance

    config = init_instance(folder, web_port)
    s = load_settings(config)
    engine = make_engine(s.db_url)
    upgrade(engine)
    name = admin or s.actor
    password = None
    with session_scope(engine) as session:
        if users.count_users(session) == 0:
            _, password = users.add_user(session, name, frozenset({Role.ADMIN}), by="init")
    out.print(f"已创建 / created: {config}")
    if password:
        out.print(f"管理员 / administrator: {name}")
        out.print(f"一次性密码（首次网页登录须修改，只显示这一次）/ one-time password "
                  f"(change it at first sign-in; shown only now): {password}")
    out.print(f"  papervault --config {config} up")


@app.command()
def up(ctx: typer.Context) -> None:
    """Run the main job: local S3 server, watcher, OCR worker and web UI (Ctrl-C stops)."""
    from papervault.ingest.service import run_up

    run_up(settings_of(ctx))


@app.command()
def watch(ctx: typer.Context) -> None:
    """Run only the capture daemon (watcher → encrypted store); OCR runs in workers."""
    from papervault.ingest.service import run_watch

    run_watch(settings_of(ctx))


@app.command()
def worker(
    ctx: typer.Context,
    drain: Annotated[bool, typer.Option(help="exit when the queue is empty")] = False,
) -> None:
    """Run only the OCR worker (scale out: one per machine, sharing PostgreSQL and S3)."""
    from papervault.ingest.service import run_worker

    run_worker(settings_of(ctx), drain=drain)


@app.command()
def ingest(
    ctx: typer.Context,
    paths: list[Path],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per file")] = False,
    ocr: Annotated[bool, typer.Option(help="also run OCR on what was stored")] = False,
) -> None:
    """Capture files and folders once (back-scanning batches), through the same pipeline."""
    from papervault.ingest.service import ingest_paths

    s = settings_of(ctx)
    with Progress(console=err, disable=as_json or not sys.stderr.isatty()) as progress:
        results = ingest_paths(s, paths, progress, drain_ocr=ocr)
        for r in results:
            if as_json:
                emit_json(r)
    if not as_json:
        counts: dict[str, int] = {}
        for r in results:
            counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        for r in results:
            if r["outcome"] in ("quarantined", "retry"):
                out.print(f"[yellow]{r['outcome']}[/] {r['path']}: {r.get('reason')}")
        out.print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    if any(r["outcome"] == "retry" for r in results):
        raise typer.Exit(75)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Counts by state, queue depth, retries in progress and the last errors."""
    from papervault.ingest.service import gather_status

    data = gather_status(settings_of(ctx))
    if as_json:
        emit_json(data)
        return
    d = data["documents"]
    out.print(f"文档 documents: {d['total']}  {d['by_state']}")
    out.print(f"关联 linking:   {d['by_link']}")
    out.print(f"校验 verified:  {d['by_verification']}")
    out.print(f"接收 intake:    {data['intake']}")
    out.print(f"队列 queue:     {data['queue']}")
    for r in data.get("capture", {}).get("retrying", []):
        out.print(f"[yellow]重试 retrying[/] {r['path']} (#{r['attempts']}, "
                  f"{r['next_in_seconds']}s): {r['reason']}")
    for e in data["last_errors"]:
        out.print(f"[red]{e['outcome']}[/] {e['at']} {e['file']}: {e['reason']}")


@clients_app.command("import")
def clients_import(ctx: typer.Context, file: InputFile) -> None:
    """Import or update clients from CSV/XLSX (client_id, name, department, policy_numbers)."""
    from papervault.index import audit
    from papervault.index.db import session_scope
    from papervault.index.registers import client_values, import_clients, read_rows
    from papervault.ingest.runtime import audit_key, open_runtime

    s = settings_of(ctx)
    rt = open_runtime(s)
    rows = read_rows(file)
    with session_scope(rt.engine) as session:
        n = import_clients(session, rows)
        audit.record(session, audit_key(s), s.actor, "clients.import", file.name, {"rows": n})
    out.print(f"已导入客户 / clients imported: {n}")
    relink_after_import(s, rt.engine, file.name, client_values(rows))


@app.command()
def review(
    ctx: typer.Context,
    link: Annotated[tuple[int, str] | None, typer.Option(help="DOC_ID CLIENT_ID")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List documents waiting for a client link, or link one by hand with --link."""
    from papervault.ingest.service import link_by_hand, unlinked

    s = settings_of(ctx)
    if link is not None:
        link_by_hand(s, link[0], link[1])
        out.print(f"已关联 / linked: {link[0]} → {link[1]}")
        return
    rows = unlinked(s)
    if as_json:
        for r in rows:
            emit_json(r)
        return
    for r in rows:
        out.print(f"{r['id']:>6}  {r['link_state']:<9} {r['original_name']}  "
                  f"candidates: {r['candidates'] or '-'}")
    out.print(f"待处理 / waiting: {len(rows)}")


def main() -> None:
    """Console entry point: run the app, turn our errors into messages and exit codes."""
    lang: Lang = "en" if os.environ.get("PAPERVAULT_LANGUAGE", "zh") == "en" else "zh"
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


# Command groups that live in their own modules register themselves on import.
from papervault.ingest import cli_admin, cli_archive, cli_coverage, cli_users  # noqa: E402,F401
