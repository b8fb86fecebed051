"""CSV cells a spreadsheet will not run (security review M1).

Excel and LibreOffice treat a cell starting with ``= + - @`` (or tab/CR, or their
full-width forms) as a formula: a user name typed at the sign-in page or a register title
became a live ``HYPERLINK`` in the auditors' export. OWASP's advice: prefix such a cell
with a single quote, which the spreadsheet shows as text.
"""

from __future__ import annotations

from collections.abc import Iterable

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def cell(value: object) -> object:
    """``value`` unchanged unless it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def row(values: Iterable[object]) -> list[object]:
    return [cell(v) for v in values]
