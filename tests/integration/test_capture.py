"""Capture against the real S3 server and both databases: durability first."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document, IngestEvent, Job, Verification
from papervault.ingest.pipeline import Duplicate, Quarantined, Retry, Stored, capture
from papervault.ingest.runtime import open_runtime
from papervault.storage.localserver import free_port, start_local_s3
from tests.conftest import S3_ACCESS, S3_SECRET, TESTDATA
from tests.factories import form_lines, write_form

PASSWORD_PDF = "paperless-ngx/src/documents/tests/samples/password-is-test.pdf"
SIMPLE_PDF = "paperless-ngx/src/documents/tests/samples/simple.pdf"


def test_stored_verified_recorded_then_source_removed(instance: Callable[..., Settings],
                                                       copy_sample) -> None:  # type: ignore[no-untyped-def]
    s = instance()
    rt = open_runtime(s)
    src = copy_sample(SIMPLE_PDF, s.inbox)
    out = capture(src, rt.capture_context())
    assert isinstance(out, Stored)
    assert not src.exists()
    with Session(rt.engine) as db:
        doc = db.get(Document, out.document_id)
        assert doc is not None
        assert doc.verify_state == "verified" and doc.media_type == "pdf" and doc.page_count == 1
        assert db.exec(select(Job).where(Job.document_id == doc.id)).one().state == "queued"
        assert db.exec(select(Verification)).one().ok
    # The stored object decrypts to the exact original bytes.
    original = TESTDATA / SIMPLE_PDF  # where conftest found the corpus (worktrees too)
    plain = b"".join(rt.store.iter_plaintext(doc.object_name, _wrapped(doc)))
    assert plain == original.read_bytes()


def _wrapped(doc: Document):  # type: ignore[no-untyped-def]
    from papervault.storage.crypto import WrappedKey

    return WrappedKey(doc.wrapped_key, doc.key_id)


def test_move_policy_keeps_source_in_done(instance: Callable[..., Settings], copy_sample) -> None:  # type: ignore[no-untyped-def]
    s = instance(watch={"after_store": "move"})
    rt = open_runtime(s)
    src = copy_sample(SIMPLE_PDF, s.inbox / "理赔部")
    out = capture(src, rt.capture_context())
    assert isinstance(out, Stored)
    assert (s.done_dir / "理赔部" / "simple.pdf").exists() and not src.exists()


def test_duplicate_is_recorded_not_stored_twice(instance: Callable[..., Settings],
                                                copy_sample) -> None:  # type: ignore[no-untyped-def]
    s = instance()
    rt = open_runtime(s)
    first = capture(copy_sample(SIMPLE_PDF, s.inbox), rt.capture_context())
    again = capture(copy_sample(SIMPLE_PDF, s.inbox, "copy of simple.pdf"), rt.capture_context())
    assert isinstance(first, Stored) and isinstance(again, Duplicate)
    assert again.document_id == first.document_id
    with Session(rt.engine) as db:
        assert len(db.exec(select(Document)).all()) == 1
        outcomes = sorted(e.outcome for e in db.exec(select(IngestEvent)))
    assert outcomes == ["duplicate", "stored"]
    assert len(list(rt.store.list_objects())) == 1
    assert len(list(rt.store.list_records())) == 1  # the original's recovery record


def _bad_inputs(inbox: Path, testdata: Path) -> dict[str, str]:
    """File name → the reason code it must be quarantined with."""
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "empty.pdf").write_bytes(b"")
    (inbox / "notes.pdf").write_text("这不是 PDF，只是文字。", encoding="utf-8")
    with zipfile.ZipFile(inbox / "archive.pdf", "w") as z:
        z.writestr("a.txt", "x")
    (inbox / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
    good = (testdata / SIMPLE_PDF).read_bytes()
    (inbox / "truncated.pdf").write_bytes(good[:300])
    (inbox / "locked.pdf").write_bytes((testdata / PASSWORD_PDF).read_bytes())
    (inbox / "passwd.pdf").symlink_to("/etc/passwd")
    os.mkfifo(inbox / "pipe.pdf")
    from PIL import Image

    Image.new("L", (1, 1), 255).save(inbox / "dot.png")
    return {
        "empty.pdf": "empty_file", "notes.pdf": "unsupported_type",
        "archive.pdf": "unsupported_type", "photo.heic": "unsupported_type",
        "truncated.pdf": "pdf_damaged", "locked.pdf": "pdf_encrypted",
        "passwd.pdf": "not_a_regular_file", "pipe.pdf": "not_a_regular_file",
        "dot.png": "too_small",
    }


def test_each_bad_input_is_quarantined_with_its_reason(
    instance: Callable[..., Settings], testdata: Path
) -> None:
    s = instance()
    rt = open_runtime(s)
    expected = _bad_inputs(s.inbox, testdata)
    for name, code in expected.items():
        out = capture(s.inbox / name, rt.capture_context())
        assert isinstance(out, Quarantined), (name, out)
        assert out.reason_code == code, (name, out)
        moved = s.quarantine_dir / name
        assert moved.exists() or moved.is_symlink(), name
        err = json.loads(Path(f"{moved}.error.json").read_text(encoding="utf-8"))
        assert err["reason_code"] == code and err["reason"] and err["reason_en"]
    with Session(rt.engine) as db:
        events = db.exec(select(IngestEvent).where(IngestEvent.outcome == "quarantined")).all()
    # What the status page lists for the clerk: the reason in Chinese, then English.
    assert len(events) == len(expected)
    assert all(e.reason and " / " in e.reason and not e.reason.split(" / ")[0].isascii()
               for e in events), [e.reason for e in events]
    assert not any(s.inbox.iterdir())
    assert Path("/etc/passwd").exists()  # the link was moved, never followed


def test_unreadable_file_is_quarantined(instance: Callable[..., Settings],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Root (as CI runs) reads every file, so the permission answer is forced for this one."""
    import papervault.ingest.inbox as inbox_mod

    s = instance()
    rt = open_runtime(s)
    f = write_form(s.inbox / "secret.png", form_lines(), dpi=100)
    real_open = os.open

    def refuse(p: object, flags: int, *args: object, **kw: object) -> int:
        if p == f.name and kw.get("dir_fd") is not None:
            raise PermissionError(13, "Permission denied")
        return real_open(p, flags, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(inbox_mod.os, "open", refuse)
    out = capture(f, rt.capture_context())
    assert isinstance(out, Quarantined) and out.reason_code == "unreadable"
    assert (s.quarantine_dir / "secret.png.error.json").exists()


def test_s3_down_keeps_the_file_and_stores_it_when_back(
    instance: Callable[..., Settings], tmp_path: Path
) -> None:
    """GIVEN an S3 server that stops WHEN a file is captured THEN the file stays in the inbox,
    nothing is quarantined, and once the server is back the same file is stored."""
    port = free_port()
    data = tmp_path / "own-s3"
    server = start_local_s3(data, port, S3_ACCESS, S3_SECRET)
    try:
        s = instance(s3={"endpoint": f"127.0.0.1:{port}", "bucket": "outage"})
        rt = open_runtime(s)
        from tests.conftest import bucket_ready, wait_until

        wait_until(lambda: bucket_ready(rt.store), timeout=30)
        server.stop()
        src = write_form(s.inbox / "claim.png", form_lines(), dpi=100)
        out = capture(src, rt.capture_context())
        assert isinstance(out, Retry) and src.exists()
        assert not any(s.quarantine_dir.glob("*")) if s.quarantine_dir.exists() else True
        server = start_local_s3(data, port, S3_ACCESS, S3_SECRET)
        wait_until(lambda: isinstance(capture(src, rt.capture_context()), Stored), timeout=60,
                   interval=0.5)
        assert not src.exists()
    finally:
        server.stop()
