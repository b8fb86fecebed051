"""PostgreSQL stopped and started again mid-batch, on a private cluster made by the test.

Two or more workers on PostgreSQL (one queue, SIGKILL and lease takeover) are covered by
tests/integration/test_scaleout.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from papervault.config.settings import Settings
from papervault.index.catalog.db import make_engine
from papervault.index.catalog.models import Document
from tests.conftest import wait_until
from tests.faults.privatepg import PrivatePg, pg_bin
from tests.faults.test_faults import account, capturing, make_batch

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def private_pg() -> Iterator[PrivatePg]:
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    pg = PrivatePg(bindir)
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def db_url(private_pg: PrivatePg) -> str:
    """This module's instances use the private cluster, not the shared server."""
    return private_pg.url


def test_postgres_restarted_mid_batch(instance: Callable[..., Settings],
                                      private_pg: PrivatePg,
                                      fault_report) -> None:  # type: ignore[no-untyped-def]
    """GIVEN the capture daemon on PostgreSQL working through 120 files WHEN the server
    stops at once (as on a crash) for 6 s and starts again THEN every file is stored exactly
    once: nothing lost, nothing quarantined, the daemon never stopped."""
    s = instance()
    probe = make_engine(s.db_url)

    def stored() -> int:
        try:
            with Session(probe) as db:
                return int(db.exec(select(func.count(col(Document.id)))).one())
        except SQLAlchemyError:
            return -1  # the server is down

    try:
        expected = make_batch(s.inbox, 120, "p")
        with capturing(s) as cap:
            wait_until(lambda: stored() >= 20, timeout=120)
            private_pg.stop("immediate")
            wait_until(lambda: cap.backoff, timeout=30)  # the daemon noticed and waits
            time.sleep(6)  # the outage itself: real time is the point of this test
            assert not any(s.quarantine_dir.rglob("*.error.json"))
            back = time.monotonic()
            private_pg.start()
            wait_until(lambda: stored() == len(expected), timeout=180, interval=0.2)
            recover = time.monotonic() - back
            assert not cap.stopping.is_set()
        lost, twice, quarantined = account(s, expected)
        fault_report(fault="PostgreSQL stopped 6 s mid-batch", db="private pg",
                     files=len(expected), lost=lost, twice=twice, quarantined=quarantined,
                     recover_s=f"{recover:.1f}")
        assert (lost, twice, quarantined) == (0, 0, 0)
        assert not any(s.inbox.iterdir())
    finally:
        probe.dispose()
