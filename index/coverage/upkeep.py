"""Keeping the coverage tables up to date: ``record_state``, its per-group counts
(``coverage_count``) and the catalogue check (``coverage_check``).

Triggers (migrations 0003, 0011, 0015) put every 档号 whose documents or register row change
on ``coverage_dirty``; :func:`refresh` recomputes those. The counts are changed from the very
rows refresh deletes and inserts (``RETURNING``), so they match ``record_state`` exactly
whatever else commits meanwhile: the report then reads a few hundred rows, not a million.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

from papervault.index.coverage.sql import CHECK_ALL, CHECK_SOME, FILL_ALL, FILL_SOME

CHUNK = 500
# Past this many marked records one set-based rebuild beats many small ones.
REBUILD_ABOVE = 20_000
# Signed count rows kept before folding them into one per group (a report sums them all).
FOLD_ABOVE = 5_000

Group = tuple[str | None, int | None, int]  # department, year, code


def _nos(sql: str) -> Any:
    return text(sql).bindparams(bindparam("nos", expanding=True))


_UNMARK = _nos("DELETE FROM coverage_dirty WHERE record_no IN :nos")
_DROP = _nos("DELETE FROM record_state WHERE record_no IN :nos"
             " RETURNING department, year, code")
_FILL = _nos(FILL_SOME + " RETURNING department, year, code")
_UNCHECK = _nos("DELETE FROM coverage_check WHERE record_no IN :nos")
_CHECK = _nos(CHECK_SOME)
_ADD = text("INSERT INTO coverage_count (department, year, code, n)"
            " VALUES (:department, :year, :code, :n)")


def refresh(session: Session) -> int:
    """Recompute the coverage code of every marked record; returns how many were marked."""
    # In key order: through the primary key, an emptied queue is not a scan of dead rows.
    nos = list(session.execute(
        text("SELECT record_no FROM coverage_dirty ORDER BY record_no LIMIT :n"),
        {"n": REBUILD_ABOVE + 1}).scalars())
    if len(nos) > REBUILD_ABOVE:
        return rebuild(session)
    delta: Counter[Group] = Counter()
    for i in range(0, len(nos), CHUNK):
        part = {"nos": nos[i : i + CHUNK]}
        # Unmark first: a change committed meanwhile marks the record again for next time.
        session.execute(_UNMARK, part)
        delta.subtract(_groups(session.execute(_DROP, part)))
        delta.update(_groups(session.execute(_FILL, part)))
        session.execute(_UNCHECK, part)
        session.execute(_CHECK, part)
    _add_counts(session, delta.items())
    return len(nos)


def rebuild(session: Session) -> int:
    """Recompute every record's code, the counts and the catalogue check from scratch;
    returns how many records were marked."""
    dirty = int(session.execute(text("SELECT count(*) FROM coverage_dirty")).scalar_one())
    for sql in ("DELETE FROM coverage_dirty", "DELETE FROM record_state", FILL_ALL,
                "DELETE FROM coverage_count",
                "INSERT INTO coverage_count (department, year, code, n) SELECT department,"
                " year, code, count(*) FROM record_state GROUP BY department, year, code",
                "DELETE FROM coverage_check", CHECK_ALL):
        session.execute(text(sql))
    return dirty


def _groups(rows: Iterable[Sequence[Any]]) -> Counter[Group]:
    return Counter((dept, year, code) for dept, year, code in rows)


def _add_counts(session: Session, delta: Iterable[tuple[Group, int]]) -> None:
    rows = [{"department": d, "year": y, "code": c, "n": n} for (d, y, c), n in delta if n]
    if not rows:
        return
    session.execute(_ADD, rows)
    kept = int(session.execute(text("SELECT count(*) FROM coverage_count")).scalar_one())
    if kept > FOLD_ABOVE:
        # The rows this DELETE removes are exactly the ones it returns: a count another
        # session commits meanwhile stays, as a row of its own.
        gone = session.execute(text(
            "DELETE FROM coverage_count RETURNING department, year, code, n"))
        total: Counter[Group] = Counter()
        for d, y, c, n in gone:
            total[(d, y, c)] += n
        folded = [{"department": d, "year": y, "code": c, "n": n}
                  for (d, y, c), n in total.items() if n]
        if folded:
            session.execute(_ADD, folded)
