"""The fault-injection suite's report: files, faults, lost, stored twice, recovery time."""

from __future__ import annotations

from typing import Any

import pytest

REPORT: list[dict[str, Any]] = []


@pytest.fixture
def fault_report() -> Any:
    def add(**row: Any) -> None:
        REPORT.append(row)

    return add


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    tr = terminalreporter
    tr.section("papervault fault-injection report")
    tr.write_line(f"{'fault':<34}{'files':>7}{'lost':>6}{'twice':>7}{'quarant.':>9}"
                  f"{'recover s':>11}")
    for r in REPORT:
        tr.write_line(f"{r['fault']:<34}{r['files']:>7}{r['lost']:>6}{r['twice']:>7}"
                      f"{r.get('quarantined', 0):>9}{r.get('recover_s', ''):>11}")
