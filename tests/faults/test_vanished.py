"""A file deleted while it is being captured: by the scanner operator right after the drop,
or between triage/hashing and the upload. Expected: no crash, no quarantine entry for a file
that is gone, no half-done index rows, a ``vanished`` intake event saying so, and the daemon
keeps running. A file deleted after its copy was stored and verified stays stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select

import papervault.ingest.pipeline as pipeline
from papervault.config.settings import Settings
from papervault.index.catalog.models import Document, IngestEvent, Job
from papervault.ingest.inbox import Entry
from papervault.ingest.pipeline import Stored, Vanished, capture
from papervault.ingest.runtime import open_runtime
from tests.conftest import wait_until
from tests.faults.test_faults import account, capturing, make_batch, stored_shas


def _events(s: Settings, outcome: str) -> list[IngestEvent]:
    with Session(open_runtime(s, migrate=False).engine) as db:
        return list(db.exec(select(IngestEvent).where(IngestEvent.outcome == outcome)))


def _rows(s: Settings) -> tuple[int, int]:
    with Session(open_runtime(s, migrate=False).engine) as db:
        return len(db.exec(select(Document)).all()), len(db.exec(select(Job)).all())


def _objects(s: Settings) -> list[str]:
    return [name for name, _, _ in open_runtime(s, migrate=False).store.list_objects()]


def _delete_after(monkeypatch: pytest.MonkeyPatch, stage: str,
                  doomed: Callable[[Path], bool]) -> None:
    """Run the real ``stage`` of the pipeline, then delete the file as an operator would."""
    real = getattr(pipeline, stage)

    def stage_then_delete(what: object, *args: object) -> object:
        # The stages get the inbox entry (triage) or its open file (hashing), not a path.
        if isinstance(what, Entry):
            path = what.inbox / what.folder / what.name
        else:
            path = Path(f"/proc/self/fd/{what.fileno()}").readlink()  # type: ignore[attr-defined]
        result = real(what, *args)
        if doomed(path):
            path.unlink()
        return result

    monkeypatch.setattr(pipeline, stage, stage_then_delete)


@pytest.mark.parametrize("stage", ["triage", "sha256_file"])
def test_deleted_between_triage_or_hashing_and_upload(
    instance: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    s = instance()
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    expected = make_batch(s.inbox, 1, "v")
    path = s.inbox / next(iter(expected))
    _delete_after(monkeypatch, stage, lambda p: True)
    out = capture(path, rt.capture_context())
    assert isinstance(out, Vanished)
    assert "删除" in out.reason
    assert _rows(s) == (0, 0)  # no document, no OCR job
    assert not s.quarantine_dir.exists() or not any(s.quarantine_dir.rglob("*"))
    assert _objects(s) == []  # nothing uploaded for a file that is gone
    (event,) = _events(s, "vanished")
    assert event.path.endswith(path.name) and "removed from the inbox" in (event.reason or "")
    assert "删除" in (event.reason or "")  # the clerk's language first


def test_deleted_after_it_was_stored_stays_stored_in_move_mode(
    instance: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy was read back and verified before the operator deleted the source: keep it
    (before the fix, the failed move to done/ reported it as a retry)."""
    s = instance(watch={"after_store": "move"})
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    expected = make_batch(s.inbox, 1, "m")
    path = s.inbox / next(iter(expected))
    real_verify = rt.store.verify

    def verify_then_delete(*args: object, **kwargs: object) -> None:
        real_verify(*args, **kwargs)  # type: ignore[arg-type]
        path.unlink()

    monkeypatch.setattr(rt.store, "verify", verify_then_delete)
    assert isinstance(capture(path, rt.capture_context()), Stored)
    assert stored_shas(s) == list(expected.values())
    assert not any(s.done_dir.rglob("*.png")) and not _events(s, "vanished")


@pytest.mark.slow
def test_daemon_with_files_deleted_mid_capture_and_right_after_drop(
    instance: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
    fault_report,  # type: ignore[no-untyped-def]
) -> None:
    """GIVEN the daemon running WHEN 30 files are dropped, 10 of them are deleted after
    hashing and 5 more by the operator right after the drop THEN the other 15 are stored
    once, the 10 are recorded as vanished, nothing is quarantined, the daemon keeps going."""
    s = instance(watch={"stable_seconds": 0.5})
    s.inbox.mkdir(parents=True, exist_ok=True)
    _delete_after(monkeypatch, "sha256_file", lambda p: p.name.startswith("scan-gone"))
    with capturing(s) as cap:
        keep = make_batch(s.inbox, 15, "keep")
        make_batch(s.inbox, 10, "gone")
        early = make_batch(s.inbox, 5, "early")
        for name in early:  # the operator notices the wrong pile at once
            (s.inbox / name).unlink()
        wait_until(lambda: not any(s.inbox.iterdir()) and len(stored_shas(s)) == 15,
                   timeout=60)
        wait_until(lambda: not cap.tracker and not cap.backoff, timeout=10)
        assert not cap.stopping.is_set()
        keep_more = make_batch(s.inbox, 3, "after")  # still capturing afterwards
        wait_until(lambda: len(stored_shas(s)) == 18, timeout=30)
    lost, twice, quarantined = account(s, keep | keep_more)
    vanished = {Path(e.path).name for e in _events(s, "vanished")}
    assert vanished == {f"scan-gone{i:04d}.png" for i in range(10)}
    assert cap.counts.get("vanished") == 10 and "retry" not in cap.counts
    fault_report(fault="files deleted mid-capture", files=33, lost=lost, twice=twice,
                 quarantined=quarantined, vanished=len(vanished) + len(early))
    assert (lost, twice, quarantined) == (0, 0, 0)
