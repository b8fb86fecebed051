"""Registers imported by upload: the file is kept aside, checked and shown as a preview
(with every line-level error) before anything is written; the confirm step imports it.

The staged file sits in the instance folder (owner-only, like the rest of it) under a
random token, bound to the user who uploaded it, and expires after :data:`TTL`.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import Engine

from papervault.config.errors import BadInput
from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Client
from papervault.index.registers.relink import relink
from papervault.index.registers.tables import (
    CLIENT_COLUMNS,
    RegisterRejected,
    RowError,
    _cell_problem,
    _pick,
    client_values,
    import_clients,
    import_paper_records,
    parse_paper_rows,
    read_table,
)

Kind = Literal["clients", "paper"]
KINDS: tuple[Kind, ...] = ("clients", "paper")
SUFFIXES = (".csv", ".xlsx", ".xlsm")
MAX_BYTES = 20 * 1024 * 1024
TTL = 30 * 60
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Preview:
    """What the file would import: its header, its first rows, and every problem."""

    kind: Kind
    name: str
    rows: int
    header: tuple[str, ...]
    sample: tuple[tuple[str, ...], ...]
    errors: tuple[RowError, ...] = field(default=())


@dataclass(frozen=True)
class Imported:
    kind: Kind
    name: str
    rows: int
    added: int
    updated: int
    relinked: int


def staging_dir(settings: Settings) -> Path:
    return settings.path(Path("uploads/registers"))


def stage(settings: Settings, data: bytes, name: str, kind: Kind, actor: str) -> str:
    """Keep an uploaded register aside for its preview; returns the token to confirm it."""
    suffix = Path(name).suffix.lower()
    if kind not in KINDS:
        raise BadInput(detail="register must be clients or paper")
    if suffix not in SUFFIXES:
        raise BadInput(detail=f"{Path(name).name}: upload a CSV or XLSX file")
    if not data:
        raise BadInput(detail=f"{Path(name).name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise BadInput(detail=f"{Path(name).name}: larger than {MAX_BYTES // 1024 // 1024} MB")
    folder = staging_dir(settings)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _sweep(folder)
    token = secrets.token_urlsafe(18)
    (folder / f"{token}{suffix}").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(
        {"actor": actor, "kind": kind, "name": Path(name).name[:200], "suffix": suffix,
         "at": time.time()}), encoding="utf-8")
    return token


def _sweep(folder: Path) -> None:
    """Drop staged files older than :data:`TTL` (abandoned previews)."""
    now = time.time()
    for meta in folder.glob("*.json"):
        try:
            old = now - float(json.loads(meta.read_text(encoding="utf-8"))["at"]) > TTL
        except (OSError, ValueError, KeyError):
            old = True
        if old:
            for f in folder.glob(f"{meta.stem}.*"):
                f.unlink(missing_ok=True)


def _staged(settings: Settings, token: str, actor: str) -> tuple[Path, dict[str, str]]:
    folder = staging_dir(settings)
    if not token.replace("-", "").replace("_", "").isalnum():
        raise BadInput("register_upload_expired")
    meta_path = folder / f"{token}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BadInput("register_upload_expired") from e
    if meta.get("actor") != actor or time.time() - float(meta["at"]) > TTL:
        raise BadInput("register_upload_expired")
    return folder / f"{token}{meta['suffix']}", meta


def discard(settings: Settings, token: str, actor: str) -> None:
    path, _ = _staged(settings, token, actor)
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)


def _check_clients(table: list[tuple[int, dict[str, str]]]) -> list[RowError]:
    errors: list[RowError] = []
    for line, row in table:
        if not _pick(row, CLIENT_COLUMNS["client_id"]):
            errors.append(RowError(line, "client_id", "empty / 客户编号为空"))
        for fld, names in CLIENT_COLUMNS.items():
            problem = _cell_problem(Client, fld, _pick(row, names))
            if problem is not None:
                errors.append(RowError(line, fld, problem))
    return errors


def preview(settings: Settings, token: str, actor: str) -> Preview:
    """Read and check the staged file; nothing is written."""
    path, meta = _staged(settings, token, actor)
    kind: Kind = "paper" if meta["kind"] == "paper" else "clients"
    name = meta["name"]
    try:
        table = read_table(path)
    except BadInput as e:
        return Preview(kind, name, 0, (), (), (RowError(1, "-", e.message("zh")),))
    header: list[str] = []
    for _, row in table:
        header += [h for h in row if h and h not in header]
    sample = tuple(tuple(row.get(h, "") for h in header) for _, row in table[:PREVIEW_ROWS])
    if kind == "clients":
        errors = _check_clients(table)
    else:
        try:
            parse_paper_rows(table, settings.link.record_patterns, name)
            errors = []
        except RegisterRejected as e:
            errors = list(e.errors)
    return Preview(kind, name, len(table), tuple(header), sample, tuple(errors))


def confirm(engine: Engine, settings: Settings, token: str, actor: str) -> Imported:
    """Import the staged file (checked again: it is the same file, but the register's
    patterns may have changed meanwhile), relink documents, and drop the staged copy."""
    path, meta = _staged(settings, token, actor)
    kind = meta["kind"]
    name = meta["name"]
    table = read_table(path)
    if kind == "clients":
        errors = _check_clients(table)
        if errors:
            raise RegisterRejected(name, errors)
        rows = [row for _, row in table]
        with session_scope(engine) as session:
            n = import_clients(session, rows)
        values = client_values(rows)
        added, updated = n, 0
    else:
        records = parse_paper_rows(table, settings.link.record_patterns, name)
        with session_scope(engine) as session:
            result = import_paper_records(session, records)
        n, added, updated = len(records), result.added, result.updated
        values = [v for r in records for v in (r.record_no, r.client_id) if v]
    found = relink(engine, settings, values)
    discard(settings, token, actor)
    return Imported("paper" if kind == "paper" else "clients", name, n, added, updated,
                    found.changed)
