"""WORM on the local S3 server (SeaweedFS ``weed mini``): an original and its recovery record
stored under Object Lock cannot be deleted with the S3 keys, only hidden behind a delete
marker; GOVERNANCE lets an administrator's bypass remove a mis-scan."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from sqlmodel import Session
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import open_runtime
from papervault.storage import records
from papervault.storage.crypto import parse_master_key
from papervault.storage.localserver import LocalS3
from papervault.storage.objects import Lock, ObjectStore, S3Location, make_client
from tests.conftest import S3_ACCESS, S3_SECRET, write_config
from tests.factories import form_lines, write_form


@pytest.fixture
def locked_store(s3_server: LocalS3, master_keyset: str, tmp_path: Path
                 ) -> Iterator[ObjectStore]:
    loc = S3Location(endpoint=s3_server.endpoint, bucket="w-" + uuid.uuid4().hex[:12],
                     access_key=S3_ACCESS, secret_key=S3_SECRET)
    store = ObjectStore(make_client(loc), loc.bucket, parse_master_key(master_keyset),
                        tmp_path / "staging", lock=Lock("GOVERNANCE", 1))
    store.ensure_bucket()
    yield store
    _drop_locked(store.client, loc.bucket)


def _drop_locked(client: Minio, bucket: str) -> None:
    """Teardown as an administrator: lift legal holds, bypass GOVERNANCE, drop the bucket."""
    versions = list(client.list_objects(bucket_name=bucket, recursive=True,
                                        include_version=True))
    for v in versions:
        if v.object_name is not None and not v.is_delete_marker:
            client.disable_object_legal_hold(bucket_name=bucket, object_name=v.object_name,
                                             version_id=v.version_id)
    errors = list(client.remove_objects(
        bucket_name=bucket, bypass_governance_mode=True,
        delete_object_list=[DeleteObject(v.object_name, v.version_id) for v in versions
                            if v.object_name is not None]))
    if not errors:
        client.remove_bucket(bucket_name=bucket)


def _versions(client: Minio, bucket: str, name: str) -> list[str]:
    return [v.version_id for v in client.list_objects(bucket_name=bucket, prefix=name,
                                                      include_version=True)
            if v.object_name == name and not v.is_delete_marker and v.version_id]


@pytest.mark.parametrize("hold", [False, True], ids=["retention", "legal_hold"])
def test_a_locked_original_and_its_recovery_record_cannot_be_deleted(
        locked_store: ObjectStore, hold: bool) -> None:
    obj = locked_store.put_file(io.BytesIO(b"%PDF-1.7 scan " * 500),
                                details={"original_name": "scan_005.pdf"})
    if hold:  # 永久: a legal hold, no date
        locked_store.retain(obj.name, None)
    mode, until = locked_store.retention_of(obj.name)
    assert mode == "GOVERNANCE" and until is not None
    c, b = locked_store.client, locked_store.bucket
    for name in (obj.name, records.record_name(obj.name)):
        (version,) = _versions(c, b, name)
        with pytest.raises(S3Error) as refused:
            c.remove_object(bucket_name=b, object_name=name, version_id=version)
        assert refused.value.code == "AccessDenied"
        assert _versions(c, b, name) == [version]
    # The store's own delete only lays delete markers: every locked version stays readable.
    locked_store.delete(obj.name)
    for name in (obj.name, records.record_name(obj.name)):
        (version,) = _versions(c, b, name)
        assert c.stat_object(bucket_name=b, object_name=name, version_id=version).size


def test_governance_lets_an_administrator_remove_a_mis_scan(locked_store: ObjectStore) -> None:
    obj = locked_store.put_file(io.BytesIO(b"mis-scan " * 100), details={"original_name": "x"})
    c, b = locked_store.client, locked_store.bucket
    (version,) = _versions(c, b, obj.name)
    errors = list(c.remove_objects(bucket_name=b, bypass_governance_mode=True,
                                   delete_object_list=[DeleteObject(obj.name, version)]))
    assert not errors
    assert _versions(c, b, obj.name) == []


def test_originals_are_kept_as_long_as_their_records_retention_asks(
        instance: Callable[..., Settings], tmp_path: Path) -> None:
    """Real OCR: the worker links each scan to its record and extends the original's lock
    to the record's 保管期限 (30年 from its year; 永久 a legal hold)."""
    bucket = "w-" + uuid.uuid4().hex[:12]
    s = instance(s3={"bucket": bucket, "object_lock": "GOVERNANCE", "lock_default_days": 2})
    rt = open_runtime(s)
    rt.store.ensure_bucket()  # what start-up does: a new bucket, made with Object Lock
    try:
        register = tmp_path / "register.csv"
        register.write_text("档号,客户编号,题名,部门,年度,保管期限\n"
                            "DA-2024-LP-00201,KH-2024-000123,投保单,理赔部,2024,30年\n"
                            "DA-2024-LP-00202,KH-2024-000123,保单,理赔部,2024,永久\n",
                            encoding="utf-8")
        cfg = write_config(s, tmp_path / "pv.toml")
        with cfg.open("a", encoding="utf-8") as f:  # [s3] is the file's last section
            f.write('object_lock = "GOVERNANCE"\nlock_default_days = 2\n')
        runner = CliRunner()
        res = runner.invoke(app, ["-c", str(cfg), "paper", "import", str(register)])
        assert res.exit_code == 0, res.output
        ctx = rt.capture_context()
        ids = {}
        for no in ("00201", "00202"):
            out = capture(write_form(s.inbox / f"{no}.png", form_lines(
                extra=f"档号 DA-2024-LP-{no}"), dpi=200), ctx)
            assert isinstance(out, Stored)
            ids[no] = out.document_id
        res = runner.invoke(app, ["-c", str(cfg), "worker", "--drain"])
        assert res.exit_code == 0, res.output
        with Session(rt.engine) as db:
            names = {k: db.get(Document, i) for k, i in ids.items()}
        docs = {k: d for k, d in names.items() if d is not None}
        assert {k: d.record_no for k, d in docs.items()} == {
            "00201": "DA-2024-LP-00201", "00202": "DA-2024-LP-00202"}
        store = rt.store
        for name in (docs["00201"].object_name, records.record_name(docs["00201"].object_name)):
            assert store.retention_of(name) == ("GOVERNANCE",
                                                datetime(2054, 12, 31, tzinfo=UTC))
        held = docs["00202"].object_name
        assert store.client.is_object_legal_hold_enabled(bucket_name=bucket, object_name=held)
        (version,) = _versions(store.client, bucket, held)
        with pytest.raises(S3Error):
            store.client.remove_object(bucket_name=bucket, object_name=held, version_id=version)
    finally:
        _drop_locked(rt.store.client, bucket)
