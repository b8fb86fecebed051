"""Register import on arbitrary CSV-ish bytes in the encodings offices use: either a clean
import or one clear :class:`BadInput`, and never half an import. Runs on both databases:
PostgreSQL enforces column lengths and refuses NUL characters where SQLite does not."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from papervault.config.errors import BadInput
from papervault.config.settings import DEFAULT_RECORD_PATTERNS
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Client, PaperRecord
from papervault.index.registers.tables import (
    CLIENT_COLUMNS,
    PAPER_COLUMNS,
    import_clients,
    import_paper_records,
    parse_paper_rows,
    read_rows,
    read_table,
)
from tests.fuzz.budget import FUZZ
from tests.report import counted

ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "big5", "latin-1"]
HEADERS = sorted({n for names in PAPER_COLUMNS.values() for n in names}
                 | {n for names in CLIENT_COLUMNS.values() for n in names})
CELLS = st.one_of(
    st.text(max_size=80),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=10),
    st.sampled_from(["DA-2024-LP-000001", "ＤＡ－２０２４－ＬＰ－０００００２", "KH-2024-000001",
                     "2024", "２０２４年", "永久", "定期30年", "12", "0", "-3", "",
                     "3号库房 / A-12 / 007", "x" * 300, "a\x00b", "\r\n", '"']),
)


def _count(engine: Engine, table: type[Client] | type[PaperRecord]) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(table)).one())


def _import_paper(engine: Engine, path: Path, patterns: list[str]) -> None:
    before = _count(engine, PaperRecord)
    try:
        records = parse_paper_rows(read_table(path), patterns, path.name)
        with session_scope(engine) as s:
            result = import_paper_records(s, records)
    except BadInput as e:
        assert e.message("zh") and e.message("en")
        assert _count(engine, PaperRecord) == before  # nothing half-imported
        return
    assert _count(engine, PaperRecord) == before + result.added
    with Session(engine) as s:
        nos = [r.record_no for r in records]
        assert len(s.exec(select(PaperRecord.record_no)
                          .where(col(PaperRecord.record_no).in_(nos))).all()) == len(nos)


def _import_clients(engine: Engine, path: Path) -> None:
    before = _count(engine, Client)
    try:
        rows = read_rows(path)
        with session_scope(engine) as s:
            import_clients(s, rows)
    except BadInput as e:
        assert e.message("zh") and e.message("en")
        assert _count(engine, Client) == before
        return
    assert _count(engine, Client) >= before


def _csv(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding, errors="replace")


@FUZZ
@given(raw=st.binary(max_size=2000), strict=st.booleans())
@counted
def test_arbitrary_bytes(engine: Engine, tmp_path: Path, raw: bytes, strict: bool) -> None:
    f = tmp_path / "register.csv"
    f.write_bytes(raw)
    _import_paper(engine, f, DEFAULT_RECORD_PATTERNS if strict else [])
    _import_clients(engine, f)


KEYS = st.sampled_from(["档号", "record_no", "client_id", "客户编号"])
IDS = st.one_of(st.integers(0, 999).map(lambda n: f"DA-2024-LP-{n:06d}"),
                st.integers(0, 999).map(lambda n: f"KH-2024-{n:06d}"))


@FUZZ
@given(key=KEYS,
       header=st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=12)), max_size=8),
       rows=st.lists(st.tuples(IDS, st.lists(CELLS, max_size=9)), max_size=6),
       encoding=st.sampled_from(ENCODINGS), strict=st.booleans())
@counted
def test_spreadsheet_like_csv(engine: Engine, tmp_path: Path, key: str, header: list[str],
                              rows: list[tuple[str, list[str]]], encoding: str,
                              strict: bool) -> None:
    """Mostly well-formed registers (a key column with valid IDs) with hostile cells."""
    f = tmp_path / "register.csv"
    f.write_bytes(_csv([key, *header], [[k, *cells] for k, cells in rows], encoding))
    _import_paper(engine, f, DEFAULT_RECORD_PATTERNS if strict else [])
    _import_clients(engine, f)
