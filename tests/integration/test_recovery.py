"""A lost index is rebuilt from the recovery records kept beside each original in S3: every
original comes back verified, byte-identical and searchable again; rotation keeps the records
readable; a damaged record or a missing object is named, never restored."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from papervault.config.errors import PapervaultError
from papervault.config.settings import Settings
from papervault.index.catalog.models import Document, Job
from papervault.ingest import pipeline
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Retry, Stored, capture
from papervault.ingest.runtime import open_runtime
from papervault.storage import records
from papervault.storage.crypto import WrappedKey
from papervault.storage.objects import ObjectStore
from tests.conftest import drop_pg, fresh_pg_url, write_config

SAMPLES = {
    "simple.pdf": "paperless-ngx/src/documents/tests/samples/simple.pdf",
    "phototest.tif": "tesseract-ocr-test/testing/phototest.tif",
    "多行.png": "cnocr/examples/multi-line_cn1.png",
}


@pytest.fixture
def empty_index(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind: the index after the first one was lost."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'rebuilt.db'}"
        return
    url = fresh_pg_url()
    yield url
    drop_pg(url)


def _capture_samples(s: Settings, copy_sample: Callable[..., Path]) -> dict[str, str]:
    """Capture the samples (one in a department folder); their SHA-256 by file name."""
    rt = open_runtime(s)
    shas = {}
    for name, rel in SAMPLES.items():
        folder = s.inbox / "理赔部" if name.endswith(".tif") else s.inbox
        src = copy_sample(rel, folder, name)
        shas[name] = hashlib.sha256(src.read_bytes()).hexdigest()
        assert isinstance(capture(src, rt.capture_context()), Stored)
    return shas


@pytest.fixture
def captured(instance: Callable[..., Settings], copy_sample: Callable[..., Path]) -> Settings:
    """An instance holding the captured samples."""
    s = instance()
    _capture_samples(s, copy_sample)
    return s


def _last_json(res: Result) -> Any:
    """The JSON a ``--json`` command printed last."""
    return json.loads(res.stdout.strip().splitlines()[-1])


def _recover(cfg: Path) -> tuple[int, dict[str, object]]:
    """Exit status (as ``papervault`` would exit) and the JSON report."""
    res = CliRunner().invoke(app, ["-c", str(cfg), "recover", "--json"])
    code = res.exception.exit_code if isinstance(res.exception, PapervaultError) \
        else res.exit_code
    return code, _last_json(res)


def _recover_lost(instance: Callable[..., Settings], empty_index: str,
                  tmp_path: Path) -> tuple[int, dict[str, object]]:
    """``papervault recover`` into the empty database of the lost index."""
    return _recover(write_config(instance(db={"url": empty_index}), tmp_path / "lost.toml"))


def _record_bytes(store: ObjectStore, name: str) -> bytes:
    return bytes(store.client.get_object(bucket_name=store.bucket,
                                         object_name=records.record_name(name)).read())


def _put_record_bytes(store: ObjectStore, name: str, raw: bytes) -> None:
    store.client.put_object(bucket_name=store.bucket, object_name=records.record_name(name),
                            data=io.BytesIO(raw), length=len(raw))


def _drop_record(store: ObjectStore, name: str) -> None:
    store.client.remove_object(bucket_name=store.bucket, object_name=records.record_name(name))


def test_a_lost_index_is_rebuilt_from_storage_and_searchable_again(
    instance: Callable[..., Settings], empty_index: str, copy_sample: Callable[..., Path],
    tmp_path: Path,
) -> None:
    s = instance()
    shas = _capture_samples(s, copy_sample)
    with Session(open_runtime(s).engine) as db:
        before = {d.object_name: d for d in db.exec(select(Document))}

    lost = instance(db={"url": empty_index})
    cfg = write_config(lost, tmp_path / "pv.toml")
    code, report = _recover(cfg)
    assert code == 0, report
    assert report["restored"] == 3 and report["failed"] == [] and report["already_indexed"] == 0

    rt = open_runtime(lost)
    with Session(rt.engine) as db:
        after = {d.object_name: d for d in db.exec(select(Document))}
        queued = {j.document_id for j in db.exec(select(Job))}
    assert after.keys() == before.keys()
    for name, d in after.items():
        b = before[name]
        assert (d.sha256, d.size, d.original_name, d.source_folder, d.media_type,
                d.page_count, d.object_size, d.verify_state) == (
            b.sha256, b.size, b.original_name, b.source_folder, b.media_type, b.page_count,
            b.object_size, "verified")
        assert d.ingested_at.replace(tzinfo=None) == b.ingested_at.replace(tzinfo=None)
        assert d.id in queued  # OCR is made afresh
        out = tmp_path / f"get-{d.id}"
        assert rt.store.download(name, WrappedKey(d.wrapped_key, d.key_id), out) \
            == shas[d.original_name]
    assert {d.source_folder for d in after.values()} == {"", "理赔部"}

    again_code, again = _recover(cfg)
    assert again_code == 0 and again["restored"] == 0 and again["already_indexed"] == 3

    runner = CliRunner()
    res = runner.invoke(app, ["-c", str(cfg), "worker", "--drain"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-c", str(cfg), "search", "quick", "--json"])
    assert res.exit_code == 0, res.output
    hits = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert "phototest.tif" in json.dumps(hits, ensure_ascii=False)


def test_records_survive_key_rotation_and_damage_is_named(
    instance: Callable[..., Settings], captured: Settings, empty_index: str, tmp_path: Path,
) -> None:
    s = captured
    rt = open_runtime(s)
    old_key = rt.store.master.key_id
    lagging = sorted(rt.store.list_records())[0]
    before_rotation = _record_bytes(rt.store, lagging)
    cfg = write_config(s, tmp_path / "pv.toml")
    runner = CliRunner()
    for args in (["keys", "rotate"], ["keys", "status", "--json"]):
        res = runner.invoke(app, ["-c", str(cfg), *args])
        assert res.exit_code == 0, res.output
    new_key = next(k for k, n in _last_json(res)["keys"].items() if n)
    # A record left under the old key (a verify that raced the rotation wrote it back):
    # retiring the old key must first bring it level with the index.
    _put_record_bytes(rt.store, lagging, before_rotation)
    res = runner.invoke(app, ["-c", str(cfg), "keys", "retire", old_key])
    assert res.exit_code == 0, res.output

    names = sorted(open_runtime(s, migrate=False).store.list_records())
    assert len(names) == 3
    store = open_runtime(s, migrate=False).store  # the keyset without the old key
    assert all(store.read_record(n).wrapped.key_id == new_key for n in names)
    # One record swapped for another's (a foreign key and details), one object deleted.
    swapped, missing, intact = names
    _put_record_bytes(store, swapped,
                      _record_bytes(store, intact).replace(intact.encode(), swapped.encode()))
    store.client.remove_object(bucket_name=store.bucket, object_name=missing)

    lost = instance(db={"url": empty_index})
    code, report = _recover(write_config(lost, tmp_path / "lost.toml"))
    assert code == 4
    assert report["restored"] == 1
    failed = {f["object"]: f["reason"] for f in report["failed"]}  # type: ignore[union-attr]
    assert set(failed) == {swapped, missing}
    assert "missing" in failed[missing]
    with Session(open_runtime(lost).engine) as db:
        assert [d.object_name for d in db.exec(select(Document))] == [intact]


def test_originals_stored_before_records_existed_get_them_written(
    instance: Callable[..., Settings], captured: Settings, empty_index: str, tmp_path: Path,
) -> None:
    s = captured
    store = open_runtime(s).store
    first, *rest = sorted(store.list_records())
    for name in rest:  # as an older papervault left them: no records
        _drop_record(store, name)
    res = CliRunner().invoke(app, ["-c", str(write_config(s, tmp_path / "pv.toml")),
                                   "recover", "--write-records", "--json"])
    assert res.exit_code == 0, res.output
    assert _last_json(res) == {"written": 2}
    assert sorted(store.list_records()) == sorted([first, *rest])
    code, report = _recover_lost(instance, empty_index, tmp_path)
    assert code == 0 and report["restored"] == 3, report


def test_verify_rewrites_a_missing_or_wrong_record(
    instance: Callable[..., Settings], captured: Settings, empty_index: str, tmp_path: Path,
) -> None:
    s = captured
    store = open_runtime(s).store
    garbled, swapped, intact = sorted(store.list_records())
    _put_record_bytes(store, garbled, b"[]")  # JSON, but not a record
    _put_record_bytes(store, swapped, _record_bytes(store, intact))
    cfg = write_config(s, tmp_path / "pv.toml")
    res = CliRunner().invoke(app, ["-c", str(cfg), "verify", "--json"])
    assert res.exit_code == 0, res.output
    run = _last_json(res)
    assert (run["ok"], run["failed"], run["records_rewritten"]) == (3, 0, 2)
    again = CliRunner().invoke(app, ["-c", str(cfg), "verify", "--json"])
    assert _last_json(again)["records_rewritten"] == 0
    code, report = _recover_lost(instance, empty_index, tmp_path)
    assert code == 0 and report["restored"] == 3, report


def test_an_upload_abandoned_mid_capture_leaves_nothing_to_recover(
    instance: Callable[..., Settings], copy_sample: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scanner still writing: the stored copy differs from the file's hash, so capture
    retries later, and the half-written copy and its record are removed at once."""
    s = instance()
    src = copy_sample(SAMPLES["simple.pdf"], s.inbox)
    monkeypatch.setattr(pipeline, "sha256_file", lambda _p: "0" * 64)
    store = open_runtime(s).store
    assert isinstance(capture(src, open_runtime(s).capture_context()), Retry)
    assert list(store.list_objects()) == [] and list(store.list_records()) == []
    assert src.exists()
