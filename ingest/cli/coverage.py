"""Auditors' commands: verify, coverage, cover sheets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from papervault.config.messages import Lang, text
from papervault.config.settings import Settings
from papervault.index.accounts import audit
from papervault.index.catalog.db import session_scope
from papervault.index.coverage import report as coverage
from papervault.index.coverage.coversheets import render
from papervault.index.coverage.report import CoverageBelow, FlagFilter
from papervault.index.integrity import verification
from papervault.index.integrity.verification import VerifyFailed
from papervault.index.registers import retention
from papervault.ingest.cli.context import (
    audit_run,
    emit_json,
    err,
    out,
    principal_of,
    settings_of,
)
from papervault.ingest.runtime import audit_key, local_s3, open_runtime
from papervault.storage.errors import StorageUnavailable

app = typer.Typer()


def _lang(s: Settings) -> str:
    return s.language


@app.command()
def verify(
    ctx: typer.Context,
    sample: Annotated[float, typer.Option(help="random share to check, e.g. 0.1")] = 1.0,
    older_than: Annotated[float | None, typer.Option(
        help="only documents not verified in this many days")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read stored originals back, decrypt, compare SHA-256; record the result (daily job)."""
    s = settings_of(ctx)
    with local_s3(s):
        rt = open_runtime(s)
        ids = verification.select_ids(
            rt.engine, verification.Selection(sample=sample, older_than_days=older_than))
        with Progress(console=err, disable=as_json or not sys.stderr.isatty()) as progress:
            task = progress.add_task("verify", total=len(ids))
            result = verification.run(rt.engine, rt.store, ids,
                                      lambda n: progress.advance(task, n),
                                      retention.defaults_from(s.retention))
    detail = {**result.as_dict(), "sample": sample, "older_than_days": older_than}
    audit_run(rt, "verify.run", f"{len(ids)} documents", detail)
    if as_json:
        emit_json(detail)
    else:
        out.print(text("verify_done", s.language, checked=result.checked, ok=result.ok,
                       failed=len(result.failed)))
        for doc_id in result.failed:
            out.print(f"[red]failed[/] document {doc_id}")
        if result.records_rewritten:
            out.print(text("records_rewritten", s.language, n=len(result.records_rewritten)))
        if result.searchable_regenerating:
            out.print(text("searchable_regenerating", s.language,
                           n=len(result.searchable_regenerating),
                           ids=", ".join(map(str, result.searchable_regenerating[:20]))))
        if result.locks_reapplied is None:
            out.print(text("locks_unchecked", s.language))
        elif result.locks_reapplied:
            out.print(text("locks_reapplied", s.language, n=len(result.locks_reapplied),
                           ids=", ".join(map(str, result.locks_reapplied[:20]))))
    if result.interrupted:

        raise StorageUnavailable(detail=result.interrupted)
    if result.failed:
        raise VerifyFailed(failed=len(result.failed))


@app.command("coverage")
def coverage_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="report as JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="flagged records as CSV")] = False,
    output: Annotated[Path | None, typer.Option("-o", help="write to this file")] = None,
    fail_under: Annotated[float | None, typer.Option(
        help="exit 5 below this % (default: coverage.fail_under)")] = None,
    limit: Annotated[int, typer.Option(help="flagged records listed (JSON/table)")] = 200,
) -> None:
    """Which paper records have a verified backup: totals, by department and year, flagged."""
    s = settings_of(ctx)
    fail_under = s.coverage.fail_under if fail_under is None else fail_under
    deps = principal_of(ctx).scope.departments  # a scoped auditor: their departments' records
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        rep = coverage.report(session, deps)
        mine = FlagFilter(departments=deps)
        if as_csv:
            _write(output, coverage.flagged_csv(session, mine))
        else:
            flagged = coverage.flagged(session, mine, limit=limit)
            n_flagged = coverage.count_flagged(session, mine)
        audit.record(session, audit_key(s), s.actor, "coverage.report",
                     "csv" if as_csv else "json" if as_json else "table", rep.totals.as_dict())
    if as_json:
        data = {**rep.as_dict(), "flagged_total": n_flagged,
                "flagged": [f.as_dict() for f in flagged]}
        if output:

            output.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            emit_json(data)
    elif not as_csv:
        _print_report(rep, flagged, n_flagged, s.language)
    if fail_under is not None and rep.totals.percent < fail_under:
        raise CoverageBelow(percent=rep.totals.percent, threshold=fail_under)


def _write(output: Path | None, data: bytes) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)


def _print_report(rep: coverage.Report, flagged: list[coverage.Flagged], n: int,
                  lang: Lang) -> None:
    t = rep.totals
    if not t.total:
        out.print(text("register_empty", lang))
    out.print(f"纸质档案 records: {t.total}   已校验 verified: {t.verified} ({t.percent}%)   "
              f"待校验 stored: {t.stored}   待核实 review: {t.review}   未扫描 none: {t.none}   "
              f"失败 failed: {t.failed}")
    c = rep.catalogue
    out.print(f"目录与图像核对 catalogue↔images (DA/T 31): "
              f"{'一致 ok' if c.ok else '不一致 mismatch'} — 无图像的条目 rows without images: "
              f"{c.rows_without_images}   无条目的图像 images without a row: "
              f"{c.images_without_row}   页数不符 page count differs: {c.page_mismatch}")
    for title, groups in (("部门 department", rep.by_department), ("年度 year", rep.by_year)):
        out.print(f"\n{title}")
        for k, g in sorted(groups.items()):
            out.print(f"  {k:<12} {g.verified:>7}/{g.total:<7} {g.percent:>6}%  "
                      f"none={g.none} stored={g.stored} review={g.review} failed={g.failed}")
    out.print(f"\n需处理 flagged: {n}")
    for f in flagged:
        out.print(f"  {f.record_no:<22} {f.state:<8} {f.location:<24} {f.client_id or '-'}  "
                  f"{f.reason}")
    if n > len(flagged):
        out.print(f"  … --csv lists all {n}")


@app.command()
def coversheets(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="the PDF to write")],
    all_records: Annotated[bool, typer.Option("--all", help="every registered record")] = False,
    missing: Annotated[bool, typer.Option(
        "--missing", help="records without a verified backup (the default)")] = True,
    record: Annotated[list[str] | None, typer.Option(help="only these 档号")] = None,
) -> None:
    """One A4 cover sheet per record (QR code + 档号, client, title, shelf location)."""

    s = settings_of(ctx)
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        records = coverage.sheet_records(session, all_records or not missing, tuple(record or ()))
        audit.record(session, audit_key(s), s.actor, "coversheets.print", str(output.name),
                     {"count": len(records)})
    output.write_bytes(render(records))
    out.print(text("coversheets_written", s.language, count=len(records), path=output))
