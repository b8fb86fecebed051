"""Records officers' filing commands: what is unclassified, set a document's type,
department or 密级 by hand; the completeness of client files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from papervault.config.errors import BadInput
from papervault.index.archive import Auditor, classify_by_hand
from papervault.index.catalog import doctypes
from papervault.index.catalog.db import session_scope
from papervault.index.coverage import completeness
from papervault.ingest.cli.context import (
    emit_json,
    hidden_audited,
    out,
    principal_of,
    settings_of,
)
from papervault.ingest.runtime import open_runtime

app = typer.Typer()
classify = typer.Typer(help="文件分类 / document types, departments, 密级", no_args_is_help=True)
Opt = typer.Option


@classify.command("list")
def classify_list(ctx: typer.Context,
                  as_json: Annotated[bool, Opt("--json")] = False,
                  limit: int = 200) -> None:
    """Documents without a type or a department (only unscoped users see the latter)."""
    s = settings_of(ctx)
    scope = principal_of(ctx).scope
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        docs = doctypes.to_classify(session, scope.document_where(), limit)
    for d in docs:
        row = {"id": d.id, "original_name": d.original_name, "client_id": d.client_id,
               "department": d.department, "doc_type": d.doc_type or doctypes.UNCLASSIFIED,
               "ingested_at": d.ingested_at}
        if as_json:
            emit_json(row)
        else:
            out.print(f"#{d.id} {d.original_name}  {d.client_id or '-'}  "
                      f"{d.department or '-'}  {row['doc_type']}", markup=False,
                      highlight=False)


@classify.command("set")
def classify_set(
    ctx: typer.Context,
    doc_id: int,
    doc_type: Annotated[str | None, Opt("--type", help="文件类型 (classify.types) or "
                                                     "'unclassified'")] = None,
    department: Annotated[str | None, Opt(help="部门 / department")] = None,
    level: Annotated[str | None, Opt(help="密级 (access.levels)")] = None,
) -> None:
    """Set a document's type, department or 密级 by hand (wins over every other source)."""
    s = settings_of(ctx)
    principal = principal_of(ctx)
    if doc_type is None and department is None and level is None:
        raise BadInput(detail="give --type, --department or --level")
    rt = open_runtime(s)
    with hidden_audited(s), session_scope(rt.engine) as session:
        before, after = classify_by_hand(session, doc_id, principal.scope, s, doc_type,
                                         department, level)
        Auditor(s).record(session, s.actor, "document.classify", f"document:{doc_id}",
                          {"before": before, "after": after})
    out.print(f"#{doc_id}: {after}", markup=False, highlight=False)


@app.command("completeness")
def completeness_cmd(
    ctx: typer.Context,
    department: Annotated[str | None, Opt(help="部门 / one department")] = None,
    client: Annotated[str | None, Opt("--client", help="客户编号 / one client")] = None,
    as_json: Annotated[bool, Opt("--json")] = False,
    as_csv: Annotated[bool, Opt("--csv")] = False,
    output: Annotated[Path | None, Opt("--output", "-o", help="write the CSV here")] = None,
    incomplete: Annotated[bool, Opt(help="only files that miss something")] = False,
) -> None:
    """Per client and paper record: present (verified copy) / missing / stale types."""
    s = settings_of(ctx)
    scope = principal_of(ctx).scope
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        rep = completeness.check(session, s.completeness, doctypes.rules_from(s.classify),
                                 scope, department=department, client_id=client)
        if incomplete:
            rep.files = [f for f in rep.files if not f.complete or f.stale]
        Auditor(s).record(session, s.actor, "completeness", department or "",
                          {"client_id": client, "files": len(rep.files)})
    if as_csv:
        data = rep.csv()
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            output.write_bytes(data)
        return
    if as_json:
        emit_json(rep.as_dict())
        return
    for dep, t in rep.by_department().items():
        out.print(f"[bold]{dep or '-'}[/]  {t.complete}/{t.files} complete ({t.percent}%)  "
                  f"missing types: {t.missing}  stale: {t.stale}", highlight=False)
    for f in rep.files:
        mark = "✓" if f.complete else "✗"
        line = f"{mark} {f.kind} {f.key}  present: {' '.join(f.present) or '-'}"
        if f.missing:
            line += f"  missing: {' '.join(f.missing)}"
        if f.unverified:
            line += f"  unverified: {' '.join(f.unverified)}"
        if f.stale:
            line += f"  stale: {' '.join(f.stale)}"
        out.print(line, markup=False, highlight=False)

