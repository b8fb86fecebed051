"""Manual spot checks (DA/T 31-2017): sample, mark, report."""

from __future__ import annotations

from typing import Annotated

import typer

from papervault.config.messages import text
from papervault.index.accounts import audit
from papervault.index.catalog.db import session_scope
from papervault.index.coverage import qa
from papervault.ingest.cli.context import emit_json, out, settings_of
from papervault.ingest.runtime import audit_key, open_runtime

app = typer.Typer(help="人工抽检 / manual spot checks (DA/T 31-2017)", no_args_is_help=True)


@app.command("sample")
def qa_sample(
    ctx: typer.Context,
    fraction: Annotated[float, typer.Option(help="share to draw (≥ 0.05)")] = qa.MIN_FRACTION,
    department: Annotated[str | None, typer.Option(help="only this department")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Draw a random sample of newly digitised documents for a manual check."""
    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        sample = qa.draw(session, fraction, department=department)
        audit.record(session, audit_key(s), s.actor, "qa.sample", sample.sample_id,
                     {"fraction": fraction, "department": department,
                      "population": sample.population, "documents": list(sample.document_ids)})
        # This sample only: listing every earlier pending one too read as a wrong count (B18).
        rows = qa.pending(session, sample.sample_id)
    if as_json:
        emit_json({"sample_id": sample.sample_id, "population": sample.population,
                   "documents": list(sample.document_ids)})
        return
    out.print(text("qa_sampled", s.language, count=len(sample.document_ids),
                   population=sample.population))
    for r in rows:
        out.print(f"  {r['document_id']:>7}  {r['record_no'] or '-':<22} {r['original_name']}")


@app.command("mark")
def qa_mark(
    ctx: typer.Context,
    doc_id: int,
    verdict: Annotated[str, typer.Argument(help="pass | fail")],
    reason: Annotated[str, typer.Option(help="why it failed (needed for fail)")] = "",
) -> None:
    """Record the reviewer's verdict for one document."""
    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        qa.mark(session, doc_id, verdict, reason, s.actor)
        audit.record(session, audit_key(s), s.actor, f"qa.{verdict}", f"document {doc_id}",
                     {"reason": reason})
    out.print(f"{doc_id}: {verdict}")


@app.command("report")
def qa_report(ctx: typer.Context,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Sampled, pending, passed, failed and the pass rate; failures to re-scan."""
    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        data = qa.report(session)
    if as_json:
        emit_json(data)
        return
    rate = "-" if data["pass_rate"] is None else f"{data['pass_rate']}%"
    out.print(f"抽检 sampled: {data['sampled']}  待检 pending: {data['pending']}  "
              f"合格 passed: {data['passed']}  不合格 failed: {data['failed']}  "
              f"合格率 pass rate: {rate}")
    for f in data["failures"]:
        out.print(f"  [red]重扫 rescan[/] {f['document_id']} {f['record_no'] or '-'} "
                  f"{f['original_name']}: {f['reason']}")
