"""The registers and the review queue: clients import, paper import, review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from papervault.config.errors import BadInput
from papervault.config.messages import text
from papervault.config.settings import Settings
from papervault.index.accounts import audit
from papervault.index.catalog.db import session_scope
from papervault.index.registers.tables import (
    RegisterRejected,
    client_values,
    import_clients,
    import_paper_records,
    parse_paper_rows,
    read_rows,
    read_table,
)
from papervault.ingest.cli.context import (
    InputFile,
    emit_json,
    err,
    hidden_audited,
    out,
    principal_of,
    settings_of,
)
from papervault.ingest.relink import relink
from papervault.ingest.runtime import audit_key, open_runtime
from papervault.ingest.service import hand_link, unlinked

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer()
clients = typer.Typer(help="客户登记 / the clients register", no_args_is_help=True)
paper = typer.Typer(help="纸质档案登记 / the paper-record register", no_args_is_help=True)


def relink_after_import(s: Settings, engine: Engine, file_name: str,
                        values: list[str]) -> None:
    """After a register import: link the documents it now explains, audit that, say so."""
    found = relink(engine, s, values)
    with session_scope(engine) as session:
        audit.record(session, audit_key(s), s.actor, "register.relink", file_name,
                     {"checked": found.checked, "changed": found.changed})
    out.print(text("relinked", s.language, changed=found.changed, checked=found.checked))


@clients.command("import")
def clients_import(ctx: typer.Context, file: InputFile) -> None:
    """Import or update clients from CSV/XLSX (client_id, name, department, policy_numbers)."""

    s = settings_of(ctx)
    rt = open_runtime(s)
    rows = read_rows(file)
    with session_scope(rt.engine) as session:
        n = import_clients(session, rows)
        audit.record(session, audit_key(s), s.actor, "clients.import", file.name, {"rows": n})
    out.print(f"已导入客户 / clients imported: {n}")
    relink_after_import(s, rt.engine, file.name, client_values(rows))


@paper.command("import")
def paper_import(ctx: typer.Context, file: InputFile) -> None:
    """Import or update paper records (档号, client ID, title, department, year, retention,
    room/shelf/box, pages) from CSV (UTF-8, BOM, GBK) or XLSX. Any error: nothing imported."""
    s = settings_of(ctx)
    try:
        records = parse_paper_rows(read_table(file), s.link.record_patterns, file.name)
    except RegisterRejected as e:
        for problem in e.errors:
            err.print(f"[red]{problem}[/]")
        raise
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        result = import_paper_records(session, records)
        audit.record(session, audit_key(s), s.actor, "paper.import", file.name,
                     {"added": result.added, "updated": result.updated})
    out.print(text("paper_imported", s.language, added=result.added, updated=result.updated))
    relink_after_import(s, rt.engine, file.name,
                        [v for r in records for v in (r.record_no, r.client_id) if v])


@app.command()
def review(
    ctx: typer.Context,
    link: Annotated[int | None, typer.Option(help="DOC_ID: link this document by hand")] = None,
    client: Annotated[str | None, typer.Option(help="client ID for --link")] = None,
    record: Annotated[str | None, typer.Option(
        help="档号 for --link (its client is taken from the paper register)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List documents waiting for a link, or link one by hand:
    --link DOC --client ID and/or --record 档号."""

    s = settings_of(ctx)
    scope = principal_of(ctx).scope
    if link is not None:
        with hidden_audited(s):
            done = hand_link(s, link, client, record, scope)
        out.print(f"已关联 / linked: {done.document_id} → {done.client_id or '-'}"
                  f"  档号 {done.record_no or '-'}")
        return
    if client is not None or record is not None:
        raise BadInput(detail="--client/--record need --link DOC_ID")
    rows = unlinked(s, scope)
    if as_json:
        for r in rows:
            emit_json(r)
        return
    for r in rows:
        found = " ".join(f"{x['record_no']}→{x['client_id'] or '-'}" for x in r["records"])
        out.print(f"{r['id']:>6}  {r['link_state']:<9} {r['original_name']}  "
                  f"candidates: {r['candidates'] or '-'}"
                  + (f"  档号: {found}" if found else ""))
    out.print(f"待处理 / waiting: {len(rows)}")
