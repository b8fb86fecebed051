"""Security review H4: parallel wrong guesses are counted before the password is checked,
so 30 at once lock the account after the limit, and one address cannot get more than its
limit checked either (both databases)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlmodel import Session

from papervault.index.accounts import users
from papervault.index.catalog.db import make_engine
from tests.integration.test_access import Office, office  # noqa: F401 - the fixture


def _guessers(office: Office, n: int,  # noqa: F811 - the fixture's name
              address: Callable[[int], str]) -> list[tuple[TestClient, str]]:
    out = []
    for i in range(n):
        c = TestClient(office.web.app, client=(address(i), 7000 + i))
        m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
        assert m is not None
        out.append((c, m.group(1)))
    return out


def _burst(guessers: list[tuple[TestClient, str]], name: Callable[[int], str]) -> list[int]:
    go = threading.Barrier(len(guessers))

    def one(i: int) -> int:
        c, token = guessers[i]
        go.wait()  # released together, as in the review
        return c.post("/login", data={"username": name(i), "password": f"guess-{i}",
                                      "csrf": token}).status_code

    with ThreadPoolExecutor(len(guessers)) as pool:
        return list(pool.map(one, range(len(guessers))))


def _count_checks(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    checked: list[int] = []
    real = users._verify  # noqa: SLF001

    def counting(h: str, p: str) -> bool:
        checked.append(1)
        return real(h, p)

    monkeypatch.setattr(users, "_verify", counting)
    return checked


def test_thirty_parallel_guesses_lock_the_account(office: Office, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    s = office.settings
    checked = _count_checks(monkeypatch)
    statuses = _burst(_guessers(office, 30, lambda i: f"10.55.0.{i + 1}"),
                      lambda _i: "li.officer")
    assert statuses == [401] * 30
    assert len(checked) <= s.access.max_failed_logins, len(checked)
    engine = make_engine(s.db_url)
    with Session(engine) as db:
        assert users.get_user(db, "li.officer").locked_until is not None
    engine.dispose()


def test_one_address_gets_no_more_than_its_limit_checked(office: Office, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    s = office.settings
    limit = s.access.max_failed_logins_per_address
    checked = _count_checks(monkeypatch)
    statuses = _burst(_guessers(office, limit + 20, lambda _i: "10.56.0.1"),
                      lambda i: f"nobody{i}")
    assert len(checked) <= limit, len(checked)
    assert statuses.count(429) >= 20
