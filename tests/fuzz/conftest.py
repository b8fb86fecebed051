"""Prints the fuzzing part of the reliability report (tests/report.py)."""

from __future__ import annotations

from typing import Any

from tests.report import print_report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    print_report(terminalreporter)
