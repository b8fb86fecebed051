"""Operations: probes, metrics, doctor, version, secret files, CPU quota, backup and restore."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.progress import Progress
from sqlmodel import select
from typer.testing import CliRunner

from papervault.config.errors import BadInput, ConfigError
from papervault.config.settings import Settings, cgroup_cpu_quota, load_settings
from papervault.config.version import package_version
from papervault.index.catalog import jobs
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import Document
from papervault.index.web.app import create_app
from papervault.ingest.cli import app as cli_app
from papervault.ingest.service import ingest_paths
from papervault.storage.factory import open_store
from tests.conftest import write_config


def test_probes_answer_without_sign_in_and_readiness_needs_a_live_worker(
    instance: Callable[..., Settings],
) -> None:
    s = instance(access={"login": True}, web={"host": "0.0.0.0", "metrics": True})
    with TestClient(create_app(s)) as web:
        assert web.get("/healthz").json() == {"status": "ok"}
        r = web.get("/readyz")
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert checks["database"]["ok"] and checks["s3"]["ok"] and not checks["worker"]["ok"]
        jobs.beat(web.app.state.engine, "test-worker")  # type: ignore[attr-defined]
        r = web.get("/readyz")
        assert r.status_code == 200, r.text
        metrics = web.get("/metrics")
        assert metrics.status_code == 200
        assert "papervault_coverage_percent 100.0" in metrics.text
        assert "papervault_worker_heartbeat_age_seconds" in metrics.text
        assert "papervault_queue_jobs" in metrics.text
    off = instance(access={"login": True}, web={"host": "0.0.0.0"})
    with TestClient(create_app(off)) as web:
        assert web.get("/metrics").status_code == 404  # opt-in: web.metrics


def test_version_and_keys_new() -> None:
    runner = CliRunner()
    res = runner.invoke(cli_app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"papervault {package_version()}"
    res = runner.invoke(cli_app, ["keys", "new"])
    assert res.exit_code == 0 and '"primaryKeyId"' in res.output


def test_secret_files_fill_credentials_and_a_missing_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "ak").write_text("AKEY\n")
    (tmp_path / "sk").write_text("SKEY\n")
    (tmp_path / "pw").write_text("p@ss:word/1\n")
    s = load_settings(None, home=str(tmp_path),
                      s3={"access_key_file": "ak", "secret_key_file": "sk"},
                      db={"url": "postgresql+psycopg://app@db:5432/pv", "password_file": "pw"})
    assert s.s3.access_key.get_secret_value() == "AKEY"
    assert s.s3.secret_key.get_secret_value() == "SKEY"
    assert s.db_url == "postgresql+psycopg://app:p%40ss%3Aword%2F1@db:5432/pv"
    assert "p@ss" not in repr(s) and "p@ss" not in s.db.url
    with pytest.raises(ConfigError) as e:
        load_settings(None, home=str(tmp_path), s3={"secret_key_file": "missing"})
    assert "s3.secret_key_file" in str(e.value) and "missing" in str(e.value)


def test_cpu_quota_from_cgroup(tmp_path: Path) -> None:
    f = tmp_path / "cpu.max"
    f.write_text("150000 100000\n")
    assert cgroup_cpu_quota(f) == 2
    f.write_text("50000 100000\n")
    assert cgroup_cpu_quota(f) == 1
    f.write_text("max 100000\n")
    assert cgroup_cpu_quota(f) is None
    assert cgroup_cpu_quota(tmp_path / "absent") is None


def test_doctor_passes_a_good_instance_and_names_the_fix_for_an_open_key(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    s = instance()
    cfg = write_config(s, tmp_path / "pv.toml")
    runner = CliRunner()
    res = runner.invoke(cli_app, ["-c", str(cfg), "doctor"])
    assert res.exit_code == 1  # a fresh bucket: versioning is turned on at start-up only
    assert "mc version enable" in res.output
    open_store(s).ensure_bucket()
    res = runner.invoke(cli_app, ["-c", str(cfg), "doctor"])
    assert res.exit_code == 0, res.output
    assert "tesseract" in res.output and "migrated" in res.output
    key = s.path(s.crypto.master_key_file)  # type: ignore[arg-type]
    key.chmod(0o644)
    res = runner.invoke(cli_app, ["-c", str(cfg), "doctor"])
    assert res.exit_code == 1
    assert "FAIL" in res.output and f"chmod 0600 {key}" in res.output


def test_backup_then_restore_into_a_fresh_instance_reads_the_same_documents(
    instance: Callable[..., Settings], tmp_path: Path, copy_sample: Callable[..., Path],
    db_url: str,
) -> None:
    """GIVEN an instance with a stored scan WHEN it is backed up with a passphrase and
    restored into an empty database and key folder THEN the restored instance opens the same
    document from S3 with the restored master key, and a wrong passphrase is refused."""
    s = instance()
    scan = copy_sample("cnocr/examples/multi-line_cn1.png", tmp_path / "drop")
    original = scan.read_bytes()  # the inbox copy is deleted once stored
    with Progress(disable=True) as progress:
        ingest_paths(s, [scan], progress)
    cfg = write_config(s, tmp_path / "pv.toml")
    phrase = tmp_path / "phrase"
    phrase.write_text("correct horse battery staple")
    out = tmp_path / "b" / "pv.tar.age"
    runner = CliRunner()
    res = runner.invoke(cli_app, ["-c", str(cfg), "backup", str(out),
                                  "--passphrase-file", str(phrase)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_mode & 0o777 == 0o600
    assert b"primaryKeyId" not in out.read_bytes()  # encrypted, not a plain tar

    from tests.conftest import drop_pg, empty_pg_url

    new_url = f"sqlite:///{tmp_path / 'restored.db'}" if db_url.startswith("sqlite") \
        else empty_pg_url()
    home = tmp_path / "restored"
    home.mkdir()
    restored = s.model_copy(update={"home": home, "db": s.db.model_copy(update={"url": new_url})})
    rcfg = write_config(restored, tmp_path / "restored.toml")
    try:
        wrong = tmp_path / "wrong"
        wrong.write_text("not it")
        res = runner.invoke(cli_app, ["-c", str(rcfg), "restore", str(out),
                                      "--passphrase-file", str(wrong)])
        assert isinstance(res.exception, BadInput) and "cannot be decrypted" in str(res.exception)
        res = runner.invoke(cli_app, ["-c", str(rcfg), "restore", str(out),
                                      "--passphrase-file", str(phrase)])
        assert res.exit_code == 0, (res.output, res.exception)
        assert (home / "keys" / "master-keyset.json").stat().st_mode & 0o777 == 0o600
        again = load_settings(rcfg)
        engine = make_engine(again.db_url)
        with session_scope(engine) as session:
            docs = session.exec(select(Document)).all()
        engine.dispose()
        assert [d.original_name for d in docs] == ["multi-line_cn1.png"]
        got = tmp_path / "got.png"
        res = runner.invoke(cli_app, ["-c", str(rcfg), "get", str(docs[0].id), "-o", str(got)])
        assert res.exit_code == 0, (res.output, res.exception)
        assert got.read_bytes() == original
        # Restoring over a database that now holds the index is refused, nothing overwritten.
        res = runner.invoke(cli_app, ["-c", str(rcfg), "restore", str(out),
                                      "--passphrase-file", str(phrase)])
        assert isinstance(res.exception, BadInput), res.output
    finally:
        if not new_url.startswith("sqlite"):
            drop_pg(new_url)
