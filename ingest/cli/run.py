"""Run the services and capture: init, up, watch, worker, serve, ingest, status."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.progress import Progress

from papervault.config.errors import ConfigError
from papervault.config.messages import text
from papervault.config.settings import Settings, load_settings
from papervault.index.accounts import users
from papervault.index.accounts.access import Role
from papervault.index.catalog.db import make_engine, session_scope, upgrade
from papervault.index.web.app import create_app, is_loopback
from papervault.ingest.cli.context import (
    emit_json,
    err,
    log,
    out,
    principal_of,
    settings_of,
)
from papervault.ingest.instance import init_instance
from papervault.ingest.permissions import secure_instance
from papervault.ingest.runtime import local_s3, open_runtime
from papervault.ingest.service import (
    gather_status,
    ingest_paths,
    run_up,
    run_watch,
    run_worker,
    web_address,
)

app = typer.Typer()


@app.command()
def init(
    folder: Path,
    web_port: int = 8700,
    admin: Annotated[str | None, typer.Option(
        help="the first administrator (default: PAPERVAULT_ACTOR or your login name)")] = None,
) -> None:
    """Create an instance: config, master key (0600), inbox/, quarantine/, index, first admin."""

    config = init_instance(folder, web_port)
    s = load_settings(config)
    engine = make_engine(s.db_url)
    upgrade(engine)
    name = admin or s.actor
    password = None
    with session_scope(engine) as session:
        if users.count_users(session) == 0:
            _, password = users.add_user(session, name, frozenset({Role.ADMIN}), by="init")
    engine.dispose()
    secure_instance(s)  # the index was just created: owner-only whatever the umask was
    out.print(f"已创建 / created: {config}")
    if password:
        out.print(f"管理员 / administrator: {name}")
        out.print(f"一次性密码（首次网页登录须修改，只显示这一次）/ one-time password "
                  f"(change it at first sign-in; shown only now): {password}")
    out.print(f"  papervault --config {config} up")


@app.command()
def up(ctx: typer.Context) -> None:
    """Run the main job: local S3 server, watcher, OCR worker and web UI (Ctrl-C stops)."""

    run_up(settings_of(ctx))


@app.command()
def watch(ctx: typer.Context) -> None:
    """Run only the capture daemon (watcher → encrypted store); OCR runs in workers."""

    run_watch(settings_of(ctx))


@app.command()
def worker(
    ctx: typer.Context,
    drain: Annotated[bool, typer.Option(help="exit when the queue is empty")] = False,
) -> None:
    """Run only the OCR worker (scale out: one per machine, sharing PostgreSQL and S3).

    With --drain it exits 75 while jobs remain queued for a later retry, and says how many
    and when: a drained queue that is not empty must not look like one.
    """

    left = run_worker(settings_of(ctx), drain=drain)
    if drain and left.count:
        when = left.first_at.strftime("%Y-%m-%d %H:%M:%S") if left.first_at else "-"
        lang = os.environ.get("PAPERVAULT_LANGUAGE", "zh")
        err.print(text("ocr_queue_left", "en" if lang == "en" else "zh", count=left.count,
                       when=when))
        raise typer.Exit(75)


@app.command()
def ingest(
    ctx: typer.Context,
    paths: list[Path],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per file")] = False,
    ocr: Annotated[bool, typer.Option(help="also run OCR on what was stored")] = False,
) -> None:
    """Capture files and folders once (back-scanning batches), through the same pipeline."""

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

    s = settings_of(ctx)
    data = gather_status(s, principal_of(ctx).scope)
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
    for f in data["ocr_failures"]:
        out.print(f"[red]{f['state']}[/] #{f['document']} {f['file']}:")
        for reason in f["reasons"]:
            out.print(f"    {reason}")


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run the web UI and REST API alone (beyond 127.0.0.1 only with login on)."""


    s = settings_of(ctx)
    check_loopback(s)
    with local_s3(s):
        open_runtime(s).engine.dispose()  # schema upgraded before the first request
        # Logged, not printed: with JSON logs on, every line a service writes must be JSON.
        log.info("web UI: %s", web_address(s))  # uvicorn at log level warning says nothing
        uvicorn.run(create_app(s), host=s.web.host, port=s.web.port, log_level="warning",
                    **s.web.uvicorn_options())  # type: ignore[arg-type]


def check_loopback(s: Settings) -> None:
    """Refuse a non-loopback address when the web UI has login turned off."""

    if not s.access.login and not is_loopback(s.web.host):
        raise ConfigError(detail=text("web_loopback_only", "en", host=s.web.host))
