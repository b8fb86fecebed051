"""The coverage counts refresh keeps (``coverage_count``, ``coverage_check``) stay exactly what
grouping ``record_state`` and checking the catalogue from scratch would say, through every
kind of change the triggers see, on both databases; migration 0015 fills them from an archive
that had none, and downgrading restores the triggers it replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from papervault.index.catalog.db import alembic_config, session_scope, upgrade
from papervault.index.catalog.models import Document, PaperRecord
from papervault.index.coverage import report as coverage
from papervault.index.coverage import upkeep
from papervault.index.coverage.report import FlagFilter
from papervault.index.coverage.sql import FILL_ALL
from papervault.index.coverage.tables import RecordState
from tests.conftest import engine_at

# The report's queries before the counts were kept: the reference the counts must equal.
GROUPS = ("SELECT department, year, code, count(*) FROM record_state"
          " GROUP BY department, year, code")
IMAGES = ("SELECT count(*) FROM document d LEFT JOIN paperrecord r ON r.record_no = d.record_no"
          " WHERE d.state IN ('indexed', 'partly_read') AND d.link_state <> 'split'"
          " AND r.record_no IS NULL")
PAGES = ("SELECT count(*) FROM paperrecord r WHERE r.expected_pages IS NOT NULL"
         " AND r.expected_pages <> (SELECT SUM(CASE WHEN d.link_state <> 'split'"
         " THEN COALESCE(d.page_count, 0) ELSE 0 END) FROM document d"
         " WHERE d.record_no = r.record_no)")

FILTERS = [FlagFilter(), FlagFilter(state="none"), FlagFilter(state="failed"),
           FlagFilter(department="理赔部"), FlagFilter(year=2023),
           FlagFilter(departments=frozenset({"核保部"})),
           FlagFilter(state="stored", department="核保部", year=2024)]


def _doc(n: int, record_no: str | None, verify_state: str = "verified", pages: int = 2,
         state: str = "indexed", link_state: str = "linked") -> Document:
    return Document(sha256=f"{n:064x}", size=1, original_name=f"scan{n}.pdf",
                    media_type="pdf", object_name=f"o/{n}", object_size=1, wrapped_key=b"k",
                    key_id="k", record_no=record_no, verify_state=verify_state,
                    page_count=pages, state=state, link_state=link_state)


def _fixture(s: Session) -> None:
    s.add_all([PaperRecord(record_no="DA-2024-LP-000001", department="理赔部", year=2024,
                           expected_pages=2),
               PaperRecord(record_no="DA-2024-LP-000002", department="理赔部", year=2024,
                           expected_pages=5),
               PaperRecord(record_no="DA-2023-LP-000003", department="理赔部", year=2023),
               PaperRecord(record_no="DA-2023-HB-000004", department="核保部", year=2023,
                           expected_pages=1),
               PaperRecord(record_no="DA-2024-HB-000005", department="核保部", year=2024),
               PaperRecord(record_no="DA-0000-XX-000006")])  # no department, no year
    s.flush()
    s.add_all([_doc(1, "DA-2024-LP-000001"), _doc(2, "DA-2024-LP-000002", "unverified"),
               _doc(3, "DA-2023-HB-000004", "failed"), _doc(4, "DA-2024-HB-000005"),
               _doc(5, "DA-2024-HB-000005", "unverified", pages=3),
               _doc(6, "DA-1999-XX-000001"), _doc(7, None), _doc(8, None, state="stored"),
               _doc(9, None, link_state="split"), _doc(10, "DA-1999-XX-000002", pages=1)])


def _expected(s: Session) -> dict[str, Any]:
    """The report's figures the way it computed them before 0015."""
    groups = {(d, y, c): n for d, y, c, n in s.execute(text(GROUPS))}
    flagged = [len(s.exec(coverage._where(select(RecordState.record_no), f)).all())
               for f in FILTERS]
    return {"groups": groups, "images": s.execute(text(IMAGES)).scalar_one(),
            "pages": s.execute(text(PAGES)).scalar_one(), "flagged": flagged}


def _reported(s: Session) -> dict[str, Any]:
    rep = coverage.report(s)
    groups = {}
    for (d, y), t in rep.by_department_year.items():
        for code, name in coverage.STATE_NAMES.items():
            if getattr(t, name):
                groups[(None if d == "-" else d, None if y == "-" else int(y), code)] = \
                    getattr(t, name)
    return {"groups": groups, "images": rep.catalogue.images_without_row,
            "pages": rep.catalogue.page_mismatch,
            "flagged": [coverage.count_flagged(s, f) for f in FILTERS]}


def _check(engine: Engine) -> dict[str, Any]:
    with session_scope(engine) as s:
        got = _reported(s)
        want = _expected(s)  # after the report's refresh: record_state is current
    assert got == want
    return got


def _change(engine: Engine, *args: Any) -> None:
    with session_scope(engine) as s:
        for fn in args:
            fn(s)


def _set(model: Any, key: Any, **values: Any) -> Any:
    def apply(s: Session) -> None:
        row = s.get(model, key)
        assert row is not None
        for k, v in values.items():
            setattr(row, k, v)
        s.add(row)
    return apply


def _doc_id(s: Session, n: int) -> int:
    return s.exec(select(Document.id).where(col(Document.sha256) == f"{n:064x}")).one()  # type: ignore[return-value]


def _doc_set(n: int, **values: Any) -> Any:
    return lambda s: _set(Document, _doc_id(s, n), **values)(s)


def _steps() -> list[tuple[Any, ...]]:
    return [
        (_doc_set(2, verify_state="verified"),),  # code: stored → verified
        (_doc_set(1, page_count=3),),  # pages now differ from the register's 2
        (_set(PaperRecord, "DA-2024-LP-000002", expected_pages=2),),  # and now agree
        (_set(PaperRecord, "DA-2023-HB-000004", department="客服部", year=2022),),
        (lambda s: s.add(PaperRecord(record_no="DA-1999-XX-000001", year=1999)),),  # registered
        (_doc_set(10, state="stored"),),  # no longer a read document
        (_doc_set(6, link_state="split"),),  # a batch: counted through its parts
        (_doc_set(7, record_no="DA-2023-LP-000003"),),  # filed: "none" becomes verified
        (lambda s: s.delete(s.get(PaperRecord, "DA-2024-HB-000005")),),  # register row gone
        (lambda s: s.add(_doc(11, "DA-2023-HB-000004", "verified", pages=1)),),  # re-scan
        (lambda s: s.delete(s.get(Document, _doc_id(s, 4))),),
        (_doc_set(8, state="indexed"), _doc_set(9, link_state="linked")),
    ]


def test_kept_counts_equal_a_recount_after_every_change(engine: Engine) -> None:
    with session_scope(engine) as s:
        _fixture(s)
    first = _check(engine)
    assert (first["images"], first["pages"]) == (3, 2)  # 6, 10, 7 / 000002, 000004
    for step in _steps():
        _change(engine, *step)
        _check(engine)


def test_counts_fold_and_rebuild(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN every count row folded at once, or every change rebuilt from scratch
    THEN the figures are the same as a recount."""
    with session_scope(engine) as s:
        _fixture(s)
    _check(engine)
    monkeypatch.setattr(upkeep, "FOLD_ABOVE", 0)
    for step in _steps()[:6]:
        _change(engine, *step)
        _check(engine)
    with engine.connect() as c:  # folded: one row per group, none of them zero
        rows = c.execute(text("SELECT department, year, code, count(*), min(n)"
                              " FROM coverage_count GROUP BY department, year, code")).all()
    assert all(k == 1 and n > 0 for *_, k, n in rows)
    monkeypatch.setattr(upkeep, "REBUILD_ABOVE", 0)
    for step in _steps()[6:]:
        _change(engine, *step)
        _check(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with engine_at(request.param, tmp_path, "0014_pg_search") as eng:
        yield eng


def test_migration_fills_the_counts_and_downgrades(old_engine: Engine) -> None:
    """GIVEN an archive at 0014 whose record_state is current, and one record marked since
    WHEN it upgrades THEN the report equals a recount; downgraded, the old triggers mark
    records again (and no longer on a page count)."""
    with Session(old_engine) as s:
        _fixture(s)
        s.commit()
    with old_engine.begin() as c:  # what 0014's refresh left: every record computed
        c.execute(text("DELETE FROM coverage_dirty"))
        c.execute(text(FILL_ALL))
        c.execute(text("UPDATE document SET verify_state = 'verified'"
                       " WHERE record_no = 'DA-2024-LP-000002'"))
    upgrade(old_engine)
    got = _check(old_engine)
    assert (got["images"], got["pages"]) == (3, 2)
    _change(old_engine, _doc_set(1, page_count=3))  # marked by the new trigger
    assert _check(old_engine)["pages"] == 3
    command.downgrade(alembic_config(old_engine), "0014_pg_search")
    with old_engine.begin() as c:
        for table in ("coverage_count", "coverage_check"):
            assert not old_engine.dialect.has_table(c, table)
        c.execute(text("DELETE FROM coverage_dirty"))
        c.execute(text("UPDATE document SET page_count = 7"))
        assert c.execute(text("SELECT count(*) FROM coverage_dirty")).scalar_one() == 0
        c.execute(text("UPDATE document SET verify_state = 'failed' WHERE record_no ="
                       " 'DA-2024-LP-000001'"))
        assert c.execute(text("SELECT record_no FROM coverage_dirty")).scalars().all() == [
            "DA-2024-LP-000001"]
