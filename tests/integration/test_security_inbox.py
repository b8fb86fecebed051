"""Security review C1: a folder in the inbox swapped for a link during the stability wait
must not make the daemon read, delete or move anything outside the inbox."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select

import papervault.ingest.pipeline as pipeline
from papervault.config.settings import Settings
from papervault.index.catalog.models import Document
from papervault.ingest.daemon import Capturer
from papervault.ingest.inbox import Entry
from papervault.ingest.pipeline import Quarantined, Vanished, capture
from papervault.ingest.runtime import open_runtime
from tests.factories import form_lines, write_form


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _outside(tmp_path: Path) -> Path:
    """A folder only the daemon's account may read, holding a scan and a 'key'."""
    out = tmp_path / "outside"
    out.mkdir(mode=0o700)
    write_form(out / "scan.png", form_lines("KH-2024-000777"))
    (out / "decoy-master-keyset.json").write_text('{"secret": true}', encoding="utf-8")
    return out


def _documents(s: Settings) -> list[Document]:
    with Session(open_runtime(s, migrate=False).engine) as db:
        return list(db.exec(select(Document)))


@pytest.mark.parametrize("after_store", ["delete", "move"])
def test_folder_swapped_for_a_link_during_the_wait_is_quarantined_not_followed(
    instance: Callable[..., Settings], tmp_path: Path, after_store: str,
) -> None:
    """GIVEN a real folder ``x.tmp`` (an ignored suffix) with a scan and a decoy key, seen
    by the tracker WHEN it is replaced by a link to a private folder before the quiet
    period ends THEN nothing outside is archived, deleted or moved; the link itself is
    quarantined with its reason."""
    s = instance(watch={"after_store": after_store, "stable_seconds": 5.0})
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    outside = _outside(tmp_path)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    folder = s.inbox / "x.tmp"
    folder.mkdir(parents=True)
    write_form(folder / "scan.png", form_lines("KH-2024-000001"))
    (folder / "decoy-master-keyset.json").write_text("{}", encoding="utf-8")
    clock = Clock()
    cap = Capturer(rt.watch_config(), rt.capture_context(), clock=clock)
    cap.rescan()
    assert len(cap.tracker) == 2  # both paths remembered, as in the review
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)  # the swap
    for t in (1.0, 7.0, 13.0, 19.0):  # past the wait, whatever the link's files show
        clock.now = t
        cap.step()
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
    assert _documents(s) == []
    moved = s.quarantine_dir / "x.tmp"
    assert moved.is_symlink() and moved.readlink() == outside
    err = json.loads(Path(f"{moved}.error.json").read_text(encoding="utf-8"))
    assert err["reason_code"] == "not_a_regular_file" and "symbolic link" in err["reason_en"]
    assert not os.path.lexists(folder)
    assert not s.done_dir.exists() or not any(s.done_dir.rglob("*"))


def test_folder_moved_out_of_the_inbox_after_opening_is_never_touched(
    instance: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN capture has opened ``inbox/dept/scan.png`` WHEN the folder is moved out of
    the inbox and a link put in its place THEN the source is not deleted and not stored."""
    s = instance()
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    src = s.inbox / "dept" / "scan.png"
    src.parent.mkdir(parents=True)
    write_form(src, form_lines("KH-2024-000002"))
    away = tmp_path / "away"
    real = pipeline.triage

    def triage_then_move(entry: Entry, *args: object) -> object:
        out = real(entry, *args)  # type: ignore[arg-type]
        src.parent.rename(away)
        src.parent.symlink_to(away, target_is_directory=True)
        return out

    monkeypatch.setattr(pipeline, "triage", triage_then_move)
    out = capture(src, rt.capture_context())
    assert isinstance(out, Vanished), out
    assert (away / "scan.png").exists()
    assert _documents(s) == []


def test_hard_link_to_a_private_file_is_quarantined_unread(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    s = instance()
    rt = open_runtime(s)
    outside = _outside(tmp_path)
    s.inbox.mkdir(parents=True, exist_ok=True)
    os.link(outside / "scan.png", s.inbox / "scan.png")
    out = capture(s.inbox / "scan.png", rt.capture_context())
    assert isinstance(out, Quarantined) and out.reason_code == "not_a_regular_file"
    assert "hard link" in json.loads(
        (s.quarantine_dir / "scan.png.error.json").read_text(encoding="utf-8"))["reason_en"]
    assert (outside / "scan.png").exists() and _documents(s) == []


def test_an_inbox_that_is_itself_a_link_still_works(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    """The inbox setting may name a link to a mounted share: only what lies below the
    inbox is never followed."""
    real = tmp_path / "share"
    real.mkdir()
    link = tmp_path / "inbox-link"
    link.symlink_to(real, target_is_directory=True)
    s = instance(watch={"inbox": str(link)})
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    src = link / "scan.png"
    write_form(src, form_lines("KH-2024-000003"))
    out = capture(src, rt.capture_context())
    assert type(out).__name__ == "Stored", out
    assert not (real / "scan.png").exists()
