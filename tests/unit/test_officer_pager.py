"""The result pager shows the first, the last and two pages either side of the current."""
from __future__ import annotations

from papervault.index.web.routes.search import pager


def test_pager_keeps_ends_and_neighbours() -> None:
    assert pager(1, 1) == [1]
    assert pager(1, 4) == [1, 2, 3, 4]
    assert pager(10, 30) == [1, None, 8, 9, 10, 11, 12, None, 30]
    assert pager(30, 30) == [1, None, 28, 29, 30]
