"""Network-share behaviour in real time: a scanner writing one file over SMB for 20 s, and a
file whose mtime is bumped again and again without its content changing.

Files made while the observer was down (rescan) and polling mode with no inotify events are
covered by tests/e2e/test_daemon.py.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import IngestEvent
from papervault.ingest.runtime import open_runtime
from tests.conftest import wait_until
from tests.factories import write_multipage_pdf
from tests.faults.test_faults import account, capturing, stored_shas

pytestmark = pytest.mark.slow


def _outcomes(s: Settings) -> list[str]:
    with Session(open_runtime(s, migrate=False).engine) as db:
        return [e.outcome for e in db.exec(select(IngestEvent))]


# Pages and a growing file, not the index, are under test: one database is enough.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_file_growing_for_20_seconds_is_taken_once_complete(
    instance: Callable[..., Settings], fault_report  # type: ignore[no-untyped-def]
) -> None:
    """GIVEN a polled share (no inotify on SMB) and a scanner appending a multi-page PDF every
    1-2 s for 20 s WHEN it finally stops THEN the file is captured once, with its full
    content, and was never taken, stored or quarantined while it grew."""
    s = instance(watch={"polling": True, "poll_interval": 0.5, "stable_seconds": 3.0})
    s.inbox.mkdir(parents=True, exist_ok=True)
    full = write_multipage_pdf(s.inbox.parent / "full.pdf",
                               [[f"第{i}页 page {i}"] for i in range(1, 5)], dpi=100).read_bytes()
    chunks = 16  # pauses alternate 1.0 s and 1.8 s: 15 pauses make about 20.6 s of writing
    step = len(full) // chunks + 1
    target = s.inbox / "smb-scan.pdf"
    with capturing(s):
        start = time.monotonic()
        with target.open("wb") as f:
            for n, i in enumerate(range(0, len(full), step)):
                if n:
                    time.sleep(1.0 if n % 2 else 1.8)  # the slow writer: real time is the point
                f.write(full[i:i + step])
                f.flush()
                os.fsync(f.fileno())
                assert not stored_shas(s), f"taken after {time.monotonic() - start:.1f} s"
                assert not any(s.quarantine_dir.rglob("*.error.json"))
        writing = time.monotonic() - start
        wait_until(lambda: len(stored_shas(s)) == 1, timeout=30)
    sha = hashlib.sha256(full).hexdigest()
    assert writing >= 20 and stored_shas(s) == [sha]
    assert _outcomes(s) == ["stored"]
    lost, twice, quarantined = account(s, {target.name: sha})
    fault_report(fault=f"file growing {writing:.0f} s (SMB)", files=1, lost=lost, twice=twice,
                 quarantined=quarantined)
    assert (lost, twice, quarantined) == (0, 0, 0)


def test_file_touched_repeatedly_is_processed_once(
    instance: Callable[..., Settings], fault_report  # type: ignore[no-untyped-def]
) -> None:
    """GIVEN a scanner or sync tool that bumps a finished file's mtime every 0.2 s for 3 s
    (content unchanged) THEN it is taken once it stays quiet and processed exactly once."""
    s = instance(watch={"stable_seconds": 1.0})
    s.inbox.mkdir(parents=True, exist_ok=True)
    full = write_multipage_pdf(s.inbox.parent / "full.pdf", [["touch 1"]], dpi=100).read_bytes()
    target = s.inbox / "touched.pdf"
    target.write_bytes(full)
    with capturing(s) as cap:
        deadline = time.monotonic() + 3
        bump = time.time_ns()
        while time.monotonic() < deadline:
            bump += 1_000_000_000
            os.utime(target, ns=(bump, bump))
            assert not stored_shas(s), "taken while its mtime kept changing"
            time.sleep(0.2)  # the touching tool: real time is the point
        wait_until(lambda: len(stored_shas(s)) == 1, timeout=30)
        wait_until(lambda: not cap.tracker, timeout=10)
    sha = hashlib.sha256(full).hexdigest()
    assert _outcomes(s) == ["stored"] and cap.counts == {"stored": 1}
    lost, twice, quarantined = account(s, {target.name: sha})
    fault_report(fault="file touched every 0.2 s for 3 s", files=1, lost=lost, twice=twice,
                 quarantined=quarantined)
    assert (lost, twice, quarantined) == (0, 0, 0)
