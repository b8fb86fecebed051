"""Registers imported from office spreadsheets: clients (and, later, paper records).

Chinese offices save CSV as UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX via openpyxl.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlmodel import Session

from config.errors import BadInput
from index.models import Client, utcnow

ENCODINGS = ("utf-8-sig", "gb18030")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by the stripped header."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raw = path.read_bytes()
    for enc in ENCODINGS:
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadInput(detail=f"{path.name}: not UTF-8 or GBK text; save it as CSV UTF-8")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise BadInput(detail=f"{path.name}: no header row")
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _read_xlsx(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb.active
    if ws is None:
        raise BadInput(detail=f"{path.name}: no worksheet")
    rows = ws.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    out = [
        {h: ("" if v is None else str(v).strip()) for h, v in zip(header, r, strict=False)}
        for r in rows if any(v is not None for v in r)
    ]
    wb.close()
    return out


CLIENT_COLUMNS = {"client_id": ("client_id", "客户号", "客户编号"),
                  "name": ("name", "姓名", "客户名称"),
                  "department": ("department", "部门"),
                  "policy_numbers": ("policy_numbers", "保单号")}


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str:
    for n in names:
        if n in row:
            return row[n]
    return ""


def import_clients(session: Session, rows: list[dict[str, str]]) -> int:
    """Insert or update clients by ID; a row without an ID rejects the whole file."""
    for line, row in enumerate(rows, start=2):
        if not _pick(row, CLIENT_COLUMNS["client_id"]):
            raise BadInput(detail=f"line {line}: column client_id is empty")
    for row in rows:
        cid = _pick(row, CLIENT_COLUMNS["client_id"]).upper()
        client = session.get(Client, cid) or Client(client_id=cid)
        client.name = _pick(row, CLIENT_COLUMNS["name"])
        client.department = _pick(row, CLIENT_COLUMNS["department"]) or None
        client.policy_numbers = " ".join(
            _pick(row, CLIENT_COLUMNS["policy_numbers"]).replace(";", " ").upper().split()
        )
        client.updated_at = utcnow()
        session.add(client)
    return len(rows)
