"""The fault-injection suite's report rows (printed by tests/report.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.report import FAULTS, print_report


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> Any:
    """Add a report row; the database comes from the test's ``db_url`` parameter."""
    callspec = getattr(request.node, "callspec", None)
    db = callspec.params.get("db_url", "") if callspec is not None else ""

    def add(**row: Any) -> None:
        FAULTS.append({"db": db, **row})

    return add


def pytest_terminal_summary(terminalreporter: Any) -> None:
    print_report(terminalreporter)
