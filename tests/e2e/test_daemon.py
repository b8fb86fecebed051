"""The capture daemon with real watchdog events, polling and rescans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document, IngestEvent
from papervault.ingest.daemon import Capturer
from papervault.ingest.runtime import open_runtime
from tests.conftest import wait_until
from tests.factories import form_lines, write_form


@contextmanager
def running(s: Settings) -> Iterator[Capturer]:
    rt = open_runtime(s)
    cap = Capturer(rt.watch_config(), rt.capture_context())
    t = threading.Thread(target=cap.run, name="capture-under-test")
    t.start()
    try:
        yield cap
    finally:
        cap.stop()
        t.join(timeout=30)
        assert not t.is_alive()


def _stored(s: Settings) -> list[Document]:
    with Session(open_runtime(s, migrate=False).engine) as db:
        return list(db.exec(select(Document)))


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_dropped_files_are_stored_temp_and_hidden_ignored(
    instance: Callable[..., Settings], polling: bool
) -> None:
    s = instance(watch={"polling": polling, "poll_interval": 0.3, "rescan_interval": 3600})
    s.inbox.mkdir(parents=True, exist_ok=True)
    with running(s):
        write_form(s.inbox / "2024" / "claim-a.png", form_lines(), dpi=100)
        write_form(s.inbox / "claim-b.jpg", form_lines(name="李娜"), dpi=100)
        (s.inbox / "scan.pdf.part").write_bytes(b"%PDF-1.4 still being written")
        (s.inbox / "~$lock.pdf").write_bytes(b"x")
        (s.inbox / ".DS_Store").write_bytes(b"x")
        wait_until(lambda: len(_stored(s)) == 2, timeout=30)
        wait_until(lambda: not (s.inbox / "claim-b.jpg").exists(), timeout=10)
    names = sorted(d.original_name for d in _stored(s))
    assert names == ["claim-a.png", "claim-b.jpg"]
    assert {d.source_folder for d in _stored(s)} == {"2024", ""}
    for junk in ("scan.pdf.part", "~$lock.pdf", ".DS_Store"):
        assert (s.inbox / junk).exists(), junk


def test_slowly_written_file_is_not_taken_early(instance: Callable[..., Settings]) -> None:
    """GIVEN a scanner that appends to a file for several seconds THEN capture waits for it
    to settle and stores the complete file, once."""
    s = instance(watch={"stable_seconds": 1.5, "rescan_interval": 3600})
    s.inbox.mkdir(parents=True, exist_ok=True)
    full = write_form(s.inbox.parent / "full.png", form_lines(), dpi=100).read_bytes()
    target = s.inbox / "slow.png"
    with running(s):
        with target.open("wb") as f:
            step = len(full) // 6 + 1
            for i in range(0, len(full), step):
                f.write(full[i:i + step])
                f.flush()
                time.sleep(0.5)  # a slow SMB writer: the test is about real time passing
                assert not _stored(s), "taken while still being written"
        wait_until(lambda: len(_stored(s)) == 1, timeout=30)
    import hashlib

    assert _stored(s)[0].sha256 == hashlib.sha256(full).hexdigest()


def test_files_made_while_stopped_are_found_by_the_rescan(
    instance: Callable[..., Settings]
) -> None:
    s = instance(watch={"rescan_interval": 0.5})
    s.inbox.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        write_form(s.inbox / "offline" / f"c{i}.png", form_lines(name=f"客户{i}"), dpi=100)
    with running(s):
        wait_until(lambda: len(_stored(s)) == 3, timeout=30)


def test_status_shows_counts_and_retries(instance: Callable[..., Settings]) -> None:
    """A file the store cannot take (S3 unreachable) is retried with backoff and reported."""
    s = instance(s3={"endpoint": "127.0.0.1:9"}, watch={"retry_initial": 0.2})
    s.inbox.mkdir(parents=True, exist_ok=True)
    write_form(s.inbox / "waiting.png", form_lines(), dpi=100)
    with running(s):
        status_file = s.path(Path("run")) / "capture.json"
        wait_until(lambda: status_file.exists()
                   and json.loads(status_file.read_text())["retrying"], timeout=30)
    doc = json.loads(status_file.read_text())
    assert doc["retrying"][0]["path"].endswith("waiting.png")
    assert "unreachable" in doc["retrying"][0]["reason"] or "S3" in doc["retrying"][0]["reason"]
    assert (s.inbox / "waiting.png").exists()
    with Session(open_runtime(s, migrate=False).engine) as db:
        assert db.exec(select(IngestEvent).where(IngestEvent.outcome == "retry")).first()


@pytest.mark.e2e
def test_cli_init_ingest_status_as_a_real_subprocess(tmp_path: Path, s3_server) -> None:  # type: ignore[no-untyped-def]
    """The console command end to end: init an instance (its own local S3 server), ingest a
    sample with OCR, and read the counts from ``status --json``."""
    exe = Path(sys.executable).parent / "papervault"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERVAULT_")}
    inst = tmp_path / "office"
    made = subprocess.run([exe, "init", str(inst), "--admin", "wang.admin"], check=True,
                          env=env, capture_output=True, text=True)
    assert "wang.admin" in made.stdout and "one-time password" in made.stdout
    cfg = inst / "papervault.toml"
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"
    assert oct((inst / "keys" / "master-keyset.json").stat().st_mode & 0o777) == "0o600"
    # The administrator adds a scanning clerk, who drops the batch (an admin may not ingest).
    admin = {**env, "PAPERVAULT_ACTOR": "wang.admin"}
    clerk = {**env, "PAPERVAULT_ACTOR": "zhao.scan"}
    subprocess.run([exe, "-c", str(cfg), "users", "add", "zhao.scan", "--role", "scanner"],
                   check=True, env=admin, capture_output=True)
    drop = tmp_path / "batch" / "KH-2024-000123"
    write_form(drop / "claim.png", form_lines(), dpi=150)
    refused = subprocess.run([exe, "-c", str(cfg), "ingest", str(drop.parent)], env=admin,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 77 and "ingest" in refused.stderr
    out = subprocess.run([exe, "-c", str(cfg), "ingest", "--json", "--ocr", str(drop.parent)],
                         check=True, env=clerk, capture_output=True, text=True, timeout=300)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["outcome"] for r in rows] == ["stored"]
    st = subprocess.run([exe, "-c", str(cfg), "status", "--json"], check=True, env=clerk,
                        capture_output=True, text=True, timeout=120)
    data = json.loads(st.stdout)
    assert data["documents"]["by_state"] == {"indexed": 1}
    assert data["queue"]["depth"] == 0
    # No secret reached the output or the log.
    secret = [ln for ln in cfg.read_text().splitlines() if ln.startswith("secret_key")][0]
    assert secret.split('"')[1] not in out.stdout + out.stderr + st.stdout + st.stderr
