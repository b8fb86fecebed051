"""Records officers' commands: search, show, get. Every view and download is audited."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from papervault.config.messages import text
from papervault.index.accounts.access import Perm
from papervault.index.archive import (
    Auditor,
    document_dict,
    find,
    get_document,
    pages_of,
    parse_date,
    result_dict,
    shown,
    stored_file,
)
from papervault.index.catalog.db import session_scope
from papervault.index.registers.parties import parties_of
from papervault.index.search.query import SearchQuery
from papervault.ingest.cli.context import (
    emit_json,
    hidden_audited,
    out,
    principal_of,
    settings_of,
)
from papervault.ingest.runtime import local_s3, open_runtime, pi_key
from papervault.storage.errors import IntegrityError

app = typer.Typer()


Opt = typer.Option


@app.command("search")
def search_cmd(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="词语、客户编号、档号 / words, IDs")] = "",
    client: Annotated[str | None, Opt("--client", help="客户编号 / client ID")] = None,
    record_no: Annotated[str | None, Opt("--record", help="档号 / paper record number")] = None,
    department: Annotated[str | None, Opt(help="部门 / department")] = None,
    doc_type: Annotated[str | None, Opt("--type", help="文件类型 / document type")] = None,
    link: Annotated[str | None, Opt(help="linked | unlinked | ambiguous | pending")] = None,
    date_from: Annotated[str | None, Opt("--from", help="文件日期起 YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Opt("--to", help="文件日期止 YYYY-MM-DD")] = None,
    ingested_from: Annotated[str | None, Opt(help="入库日期起 YYYY-MM-DD")] = None,
    ingested_to: Annotated[str | None, Opt(help="入库日期止 YYYY-MM-DD")] = None,
    page: int = 1,
    per_page: int = 20,
    as_json: Annotated[bool, Opt("--json", help="JSON output")] = False,
) -> None:
    """Search OCR text and metadata (Chinese: any 1, 2, 3+ characters; IDs; English)."""
    s = settings_of(ctx)
    q = SearchQuery(
        q=query, client_id=client, record_no=record_no, department=department,
        doc_type=doc_type, link_state=link, doc_from=parse_date(date_from),
        doc_to=parse_date(date_to), ingested_from=parse_date(ingested_from),
        ingested_to=parse_date(ingested_to), page=page, per_page=per_page,
    )
    scope = principal_of(ctx).scope
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        result, audit_q = find(session, q, pi_key(s), scope)
        Auditor(s).record(session, s.actor, "search", audit_q,
                          {**q.filters(), "total": result.total, **shown(result, scope)})
    if as_json:
        emit_json(result_dict(q, result))
        return
    lang = s.language
    more = "+" if result.total_capped else ""
    out.print(text("search_found", lang, total=f"{result.total}{more}", page=result.page,
                   pages=result.pages))
    for h in result.hits:
        who = " ".join(x for x in (h.client_id, h.record_no, h.doc_type) if x)
        where = f" p.{h.page_no}" if h.page_no else ""
        out.print(f"[bold]#{h.document_id}[/] {h.original_name}  [cyan]{who}[/]{where}",
                  highlight=False)
        out.print("   " + h.snippet_text(("[reverse]", "[/reverse]")), highlight=False)


@app.command()
def show(
    ctx: typer.Context,
    doc_id: int,
    as_json: Annotated[bool, Opt("--json", help="JSON output")] = False,
    full: Annotated[bool, Opt(help="print the whole OCR text")] = False,
) -> None:
    """Show one document: metadata, pages and OCR text (the text needs view_content)."""
    s = settings_of(ctx)
    principal = principal_of(ctx)
    content = principal.can(Perm.VIEW_CONTENT)
    rt = open_runtime(s)
    with hidden_audited(s), session_scope(rt.engine) as session:
        doc = get_document(session, doc_id, principal.scope)
        data = document_dict(doc, pages_of(session, doc_id) if content else None,
                             parties_of(session, doc_id), principal.scope.level_of(doc))
        Auditor(s).record(session, s.actor, "view", f"document:{doc_id}",
                          {"client_id": doc.client_id})
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key not in ("pages", "text", "warnings") and value not in (None, ""):
            out.print(f"[bold]{key:>18}[/] {value}", highlight=False)
    if not content:
        return
    body = data["text"] if full else data["text"][:2000]
    out.print()
    out.print(body.replace("\f", "—" * 20), highlight=False, markup=False)
    if len(data["text"]) > len(body):
        out.print(text("text_truncated", s.language))


@app.command()
def get(
    ctx: typer.Context,
    doc_id: int,
    output: Annotated[Path, Opt("--output", "-o", help="where to write (0600)")],
    searchable: Annotated[bool, Opt(help="the searchable PDF instead of the original")] = False,
) -> None:
    """Decrypt a document's original (SHA-256 checked) or its searchable PDF into a file."""
    s = settings_of(ctx)
    scope = principal_of(ctx).scope
    with local_s3(s):
        rt = open_runtime(s)
        with hidden_audited(s), session_scope(rt.engine) as session:
            f = stored_file(get_document(session, doc_id, scope), searchable)
        # Decrypt next to the target and rename only once the checksum matches, so a
        # tampered or truncated object never appears under the requested name.
        part = output.with_name(f".{output.name}.part")
        try:
            digest = rt.store.download(f.object_name, f.wrapped, part)
            if f.sha256 and digest != f.sha256:
                raise IntegrityError(detail=f"{f.object_name}: SHA-256 differs from the index")
            part.replace(output)
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        output.chmod(0o600)
        with session_scope(rt.engine) as session:
            Auditor(s).record(session, s.actor, "download", f"document:{doc_id}",
                              {"searchable": searchable, "sha256": digest})
    out.print(f"{output}  sha256={digest}", highlight=False)
