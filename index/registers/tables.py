"""Registers imported from office spreadsheets: clients and paper records (档号).

Chinese offices save CSV as UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX via openpyxl.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from papervault.config.errors import BadInput
from papervault.index.catalog.models import Client, PaperRecord, utcnow
from papervault.index.text import fold_cell, fold_id

ENCODINGS = ("utf-8-sig", "gb18030")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by the stripped header."""
    return [row for _line, row in read_table(path)]


def read_table(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows with the line (CSV) or sheet row (XLSX) they came from; blank rows skipped."""
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
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise BadInput(detail=f"{path.name}: no header row")
    out: list[tuple[int, dict[str, str]]] = []
    start = reader.line_num + 1
    for row in reader:
        # A quoted cell may span lines: the row starts where the previous one ended.
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()
                 if isinstance(v, str)}
        if any(clean.values()):
            out.append((start, clean))
        start = reader.line_num + 1
    return out


def _read_xlsx(path: Path) -> list[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb.active
    if ws is None:
        raise BadInput(detail=f"{path.name}: no worksheet")
    rows = ws.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    out = [
        (n, {h: _cell(v) for h, v in zip(header, r, strict=False)})
        for n, r in enumerate(rows, start=2) if any(v not in (None, "") for v in r)
    ]
    wb.close()
    return out


def _cell(v: object) -> str:
    """Excel stores whole numbers as floats (2021.0): show them as people typed them."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


CLIENT_COLUMNS = {"client_id": ("client_id", "客户号", "客户编号"),
                  "name": ("name", "姓名", "客户名称"),
                  "department": ("department", "部门"),
                  "policy_numbers": ("policy_numbers", "保单号")}


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str:
    for n in names:
        if n in row:
            return row[n]
    return ""


def _max_len(model: type[Client] | type[PaperRecord], fld: str) -> int | None:
    """The column's length in the schema: PostgreSQL refuses longer values, SQLite not."""
    table = model.__table__  # type: ignore[union-attr]
    return getattr(table.columns[fld].type, "length", None)


def _cell_problem(model: type[Client] | type[PaperRecord], fld: str, value: str) -> str | None:
    """Why ``value`` cannot be stored in ``fld``, or None. Checked before anything is written,
    so a bad cell rejects the file instead of failing half-way in the database."""
    if "\x00" in value:
        return "contains a NUL character (is the file really text?) / 含有空字符"
    limit = _max_len(model, fld)
    if limit is not None and len(value) > limit:
        return f"longer than {limit} characters / 超过 {limit} 个字符"
    return None


def import_clients(session: Session, rows: list[dict[str, str]]) -> int:
    """Insert or update clients by ID; a row without an ID rejects the whole file."""
    for line, row in enumerate(rows, start=2):
        if not _pick(row, CLIENT_COLUMNS["client_id"]):
            raise BadInput(detail=f"line {line}: column client_id is empty")
        for fld, names in CLIENT_COLUMNS.items():
            problem = _cell_problem(Client, fld, _pick(row, names))
            if problem is not None:
                raise BadInput(detail=f"line {line}, column {fld}: {problem}")
    for row in rows:
        cid = fold_id(_pick(row, CLIENT_COLUMNS["client_id"])).strip()
        client = session.get(Client, cid) or Client(client_id=cid)
        client.name = _pick(row, CLIENT_COLUMNS["name"])
        client.department = _pick(row, CLIENT_COLUMNS["department"]) or None
        client.policy_numbers = " ".join(
            fold_id(_pick(row, CLIENT_COLUMNS["policy_numbers"])).replace(";", " ").split()
        )
        client.updated_at = utcnow()
        session.add(client)
    return len(rows)


def client_values(rows: list[dict[str, str]]) -> list[str]:
    """The client IDs and policy numbers of a clients file (what documents may mention)."""
    out: list[str] = []
    for row in rows:
        out.append(_pick(row, CLIENT_COLUMNS["client_id"]).upper())
        out += fold_id(_pick(row, CLIENT_COLUMNS["policy_numbers"])).replace(";", " ").split()
    return [v for v in out if v]


# -- the paper-record register (档号) ---------------------------------------------------

PAPER_COLUMNS: dict[str, tuple[str, ...]] = {
    "record_no": ("档号", "档案号", "record_no", "record no", "record_number"),
    "client_id": ("客户编号", "客户号", "client_id", "client id"),
    "title": ("题名", "标题", "案卷题名", "title"),
    "department": ("部门", "所属部门", "department"),
    "year": ("年度", "年份", "year"),
    "retention": ("保管期限", "retention", "retention_period"),
    "room": ("库房", "库房号", "room"),
    "shelf": ("架号", "柜架号", "排架号", "shelf"),
    "box": ("盒号", "box"),
    "location": ("存放位置", "位置", "location"),
    "expected_pages": ("页数", "预计页数", "expected_pages", "pages"),
    # Retention runs from the contract's end when the register gives it (art. 87).
    "contract_end": ("合同终止日期", "合同终止日", "保险止期", "保险终止日期", "终止日期",
                     "contract_end", "contract end"),
}
REQUIRED = ("record_no",)
RETENTIONS = {"永久": "永久", "permanent": "永久", "长期": "长期", "long": "长期",
              "短期": "短期", "short": "短期"}
MIN_YEAR, MAX_YEAR = 1949, 2100
_YEAR = re.compile(r"(\d{4})年?")
_PERIOD = re.compile(r"(?:定期)?(\d{1,3})\s*(?:年|y|years?)?", re.IGNORECASE)
_LOCATION_SPLIT = re.compile(r"\s*[/／|｜]\s*")  # not "-": shelf codes use it


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: enough for a clerk to find and fix it."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class RegisterRejected(BadInput):
    """The file has errors; nothing was imported."""

    key = "register_rejected"

    def __init__(self, name: str, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (+{len(errors) - 5})" if len(errors) > 5 else ""
        super().__init__(name=name, count=len(errors), detail=shown + more)


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int = 0


def _columns(header: set[str]) -> dict[str, str]:
    """Our field name → the header the file uses for it (case-insensitive)."""
    lower = {h.lower(): h for h in header}
    found: dict[str, str] = {}
    for fld, names in PAPER_COLUMNS.items():
        for n in names:
            if n.lower() in lower:
                found[fld] = lower[n.lower()]
                break
    return found


def parse_paper_rows(table: list[tuple[int, dict[str, str]]],
                     record_patterns: list[str] | tuple[str, ...] = (),
                     name: str = "file") -> list[PaperRecord]:
    """Validate every row; raise :class:`RegisterRejected` naming each bad cell."""
    header: set[str] = set().union(*(row.keys() for _, row in table)) if table else set()
    cols = _columns(header)
    missing = [PAPER_COLUMNS[f][0] for f in REQUIRED if f not in cols]
    if missing:
        raise RegisterRejected(name, [RowError(1, m, "column is missing / 缺少此列")
                                      for m in missing])
    patterns = [re.compile(p) for p in record_patterns]
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    records: list[PaperRecord] = []
    for line, row in table:
        rec = _paper_row(line, {f: row.get(h, "") for f, h in cols.items()}, cols, patterns,
                         errors)
        if rec is None:
            continue
        if rec.record_no in seen:
            errors.append(RowError(line, cols["record_no"],
                                   f"duplicate 档号 {rec.record_no} (also on line "
                                   f"{seen[rec.record_no]}) / 档号重复"))
            continue
        seen[rec.record_no] = line
        records.append(rec)
    if errors:
        raise RegisterRejected(name, errors)
    return records


def _paper_row(line: int, v: dict[str, str], cols: dict[str, str],
               patterns: list[re.Pattern[str]], errors: list[RowError]) -> PaperRecord | None:
    before = len(errors)

    def bad(fld: str, reason: str) -> None:
        errors.append(RowError(line, cols.get(fld, PAPER_COLUMNS[fld][0]), reason))

    no = fold_id(v.get("record_no", "")).strip()
    if not no:
        bad("record_no", "empty / 不能为空")
    elif len(no) > 64:
        bad("record_no", "longer than 64 characters / 超过 64 个字符")
    elif "\x00" in no:
        bad("record_no", "contains a NUL character (is the file really text?) / 含有空字符")
    elif patterns and not any(p.fullmatch(no) for p in patterns):
        bad("record_no", f"{no!r} does not match link.record_patterns / 档号格式不符")
    year = _year(v.get("year", ""), lambda r: bad("year", r))
    pages = _pages(v.get("expected_pages", ""), lambda r: bad("expected_pages", r))
    retention = _retention(v.get("retention", ""), lambda r: bad("retention", r))
    contract_end = _date(v.get("contract_end", ""), lambda r: bad("contract_end", r))
    room, shelf, box = (v.get("room", ""), v.get("shelf", ""), v.get("box", ""))
    if v.get("location") and not (room or shelf or box):
        room, shelf, box = ([*_LOCATION_SPLIT.split(v["location"], maxsplit=2), "", ""])[:3]
    cells = {"client_id": v.get("client_id", ""),
             "title": v.get("title", "")[:512], "department": v.get("department", ""),
             "room": room, "shelf": shelf, "box": box}
    for fld, value in cells.items():
        problem = _cell_problem(PaperRecord, fld, value)
        if problem is not None:
            errors.append(RowError(line, cols.get(fld) or cols.get("location", fld), problem))
    if len(errors) > before:
        return None
    return PaperRecord(
        record_no=no, client_id=fold_id(v.get("client_id", "")).strip() or None,
        title=v.get("title", "")[:512], department=v.get("department") or None, year=year,
        retention=retention, room=room or None, shelf=shelf or None, box=box or None,
        expected_pages=pages, contract_end=contract_end,
    )


def _year(raw: str, bad: Callable[[str], None]) -> int | None:
    raw = fold_cell(raw).strip()
    if not raw:
        return None
    m = _YEAR.fullmatch(raw)
    if m is None or not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
        bad(f"{raw!r} is not a year between {MIN_YEAR} and {MAX_YEAR} / 年度无效")
        return None
    return int(m.group(1))


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"|(\d{4})(\d{2})(\d{2})")


def _date(raw: str, bad: Callable[[str], None]) -> date | None:
    """2025-06-30, 2025/6/30, 2025.6.30, 2025年6月30日 or 20250630."""
    raw = fold_cell(raw).strip()
    if not raw:
        return None
    raw = raw.split(" ")[0].split("T")[0]  # a spreadsheet's datetime cell: the date part
    m = _DATE.fullmatch(raw)
    try:
        if m is None:
            raise ValueError(raw)
        y, mo, d = (int(g) for g in (m.groups()[:3] if m.group(1) else m.groups()[3:]))
        got = date(y, mo, d)
    except ValueError:
        got = None
    if got is None or not MIN_YEAR <= got.year <= MAX_YEAR:
        bad(f"{raw!r} is not a date such as 2025-06-30 / 日期无效")
        return None
    return got


def _pages(raw: str, bad: Callable[[str], None]) -> int | None:
    raw = fold_cell(raw).strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= 100_000:
        bad(f"{raw!r} is not a page count / 页数无效")
        return None
    return int(raw)


def _retention(raw: str, bad: Callable[[str], None]) -> str | None:
    """永久 / 长期 / 短期 (older scheme) or a period in years (定期30年 → 30年)."""
    raw = fold_cell(raw).strip()
    if not raw:
        return None
    if raw.lower() in RETENTIONS:
        return RETENTIONS[raw.lower()]
    m = _PERIOD.fullmatch(raw)
    if m is None or not 0 < int(m.group(1)) <= 200:
        bad(f"{raw!r}: use 永久, 长期, 短期 or a number of years (30年) / 保管期限无效")
        return None
    return f"{int(m.group(1))}年"


def import_paper_records(session: Session, records: list[PaperRecord]) -> ImportResult:
    """Insert new records and update existing ones by 档号, in the caller's transaction.

    A client ID the clients register lacks is added to it (without a name): the paper file
    proves the client exists, and documents can then be linked to them by hand."""
    added = updated = unchanged = 0
    named = sorted({r.client_id for r in records if r.client_id})
    for i in range(0, len(named), 500):
        ids = named[i : i + 500]
        known = set(session.exec(select(Client.client_id)
                                 .where(col(Client.client_id).in_(ids))))
        session.add_all(Client(client_id=cid) for cid in ids if cid not in known)
    for i in range(0, len(records), 500):
        part = records[i : i + 500]
        stmt = select(PaperRecord).where(col(PaperRecord.record_no)
                                         .in_([r.record_no for r in part]))
        existing = {r.record_no: r for r in session.exec(stmt)}
        for rec in part:
            old = existing.get(rec.record_no)
            if old is None:
                session.add(rec)
                added += 1
                continue
            fields = ("client_id", "title", "department", "year", "retention", "room",
                      "shelf", "box", "expected_pages", "contract_end")
            if all(getattr(old, f) == getattr(rec, f) for f in fields):
                unchanged += 1  # a re-import of the same file is not "18 updated" (B18)
                continue
            for fld in fields:
                setattr(old, fld, getattr(rec, fld))
            old.updated_at = utcnow()
            session.add(old)
            updated += 1
        session.flush()
    return ImportResult(added, updated, unchanged)
