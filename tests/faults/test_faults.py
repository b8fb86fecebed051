"""Fault injection: kill -9, SIGTERM, S3 outage, a locked database, a full disk.
Every dropped file must end stored exactly once, a duplicate or quarantined; none lost."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document
from papervault.ingest.daemon import Capturer
from papervault.ingest.pipeline import Retry, Stored, capture
from papervault.ingest.runtime import open_runtime
from papervault.storage.localserver import free_port, start_local_s3
from tests.conftest import S3_ACCESS, S3_SECRET, bucket_ready, wait_until
from tests.conftest import write_config as shared_write_config

pytestmark = pytest.mark.slow


def make_batch(folder: Path, n: int, tag: str = "") -> dict[str, str]:
    """``n`` distinct small scans; returns name → sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i in range(n):
        img = Image.new("L", (120, 60), 255)
        ImageDraw.Draw(img).text((5, 20), f"{tag} scan {i:04d}", fill=0)
        p = folder / f"scan-{tag}{i:04d}.png"
        img.save(p)
        out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def stored_shas(s: Settings) -> list[str]:
    with Session(open_runtime(s, migrate=False).engine) as db:
        return [d.sha256 for d in db.exec(select(Document))]


def account(s: Settings, expected: dict[str, str]) -> tuple[int, int, int]:
    """(lost, stored twice, quarantined) for a batch."""
    shas = stored_shas(s)
    lost = sum(1 for sha in expected.values() if sha not in shas)
    twice = len(shas) - len(set(shas))
    quarantined = len(list(s.quarantine_dir.rglob("*.error.json"))) \
        if s.quarantine_dir.exists() else 0
    return lost, twice, quarantined


def write_config(s: Settings, path: Path) -> Path:
    return shared_write_config(s, path, stable_seconds=0.3, rescan_interval=1.0,
                               retry_initial=0.5, retry_max=2.0)


def start_watch(cfg: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "papervault"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERVAULT_")}
    return subprocess.Popen([exe, "-c", str(cfg), "watch"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_kill_9_mid_batch_then_restart(instance: Callable[..., Settings], tmp_path: Path,
                                       fault_report) -> None:  # type: ignore[no-untyped-def]
    s = instance()
    open_runtime(s)
    cfg = write_config(s, tmp_path / "pv.toml")
    expected = make_batch(s.inbox / "batch", 200)
    kills = 0
    proc = start_watch(cfg)
    for round_ in range(1, 4):  # kill it three times while it works through the batch
        wait_until(lambda w=30 * round_, p=proc: len(stored_shas(s)) >= w  # type: ignore[misc]
                   or p.poll() is not None, timeout=120)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        proc = start_watch(cfg)
    try:
        wait_until(lambda: not any((s.inbox / "batch").iterdir()), timeout=180)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    lost, twice, quarantined = account(s, expected)
    leftovers = list((s.staging_dir / "seal").glob("seal-*"))
    fault_report(fault=f"kill -9 x{kills} mid-batch", files=len(expected), lost=lost,
                 twice=twice, quarantined=quarantined)
    assert (lost, twice, quarantined) == (0, 0, 0)
    assert leftovers == []


def test_sigterm_finishes_the_file_in_hand(instance: Callable[..., Settings], tmp_path: Path,
                                           fault_report) -> None:  # type: ignore[no-untyped-def]
    s = instance()
    open_runtime(s)
    cfg = write_config(s, tmp_path / "pv.toml")
    expected = make_batch(s.inbox, 60, "t")
    proc = start_watch(cfg)
    wait_until(lambda: len(stored_shas(s)) >= 10, timeout=120)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
    # Every file is either stored (and gone from the inbox) or untouched in the inbox.
    shas = set(stored_shas(s))
    for name, sha in expected.items():
        assert (sha in shas) != (s.inbox / name).exists(), name
    proc = start_watch(cfg)
    try:
        wait_until(lambda: len(stored_shas(s)) == len(expected), timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    lost, twice, quarantined = account(s, expected)
    fault_report(fault="SIGTERM mid-batch", files=len(expected), lost=lost, twice=twice,
                 quarantined=quarantined)
    assert (lost, twice, quarantined) == (0, 0, 0)


@contextmanager
def capturing(s: Settings) -> Iterator[Capturer]:
    rt = open_runtime(s)
    cap = Capturer(rt.watch_config(), rt.capture_context())
    t = threading.Thread(target=cap.run)
    t.start()
    try:
        yield cap
    finally:
        cap.stop()
        t.join(timeout=60)


def test_s3_stopped_30_seconds_mid_batch(instance: Callable[..., Settings], tmp_path: Path,
                                         fault_report) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    data = tmp_path / "s3"
    server = start_local_s3(data, port, S3_ACCESS, S3_SECRET)
    try:
        s = instance(s3={"endpoint": f"127.0.0.1:{port}", "bucket": "outage"},
                     watch={"retry_max": 4.0})
        rt = open_runtime(s)
        wait_until(lambda: bucket_ready(rt.store), timeout=30)
        expected = make_batch(s.inbox, 40, "a")
        with capturing(s) as cap:
            wait_until(lambda: len(stored_shas(s)) >= 5, timeout=60)
            server.stop()
            expected |= make_batch(s.inbox, 40, "b")
            wait_until(lambda: cap.backoff, timeout=30)
            time.sleep(30)  # the outage itself: real time is the point of this test
            assert cap.backoff and not any(s.quarantine_dir.glob("*.error.json"))
            back = time.monotonic()
            server = start_local_s3(data, port, S3_ACCESS, S3_SECRET)
            wait_until(lambda: len(stored_shas(s)) == len(expected), timeout=120, interval=0.2)
            recover = time.monotonic() - back
        lost, twice, quarantined = account(s, expected)
        fault_report(fault="S3 stopped 30 s mid-batch", files=len(expected), lost=lost,
                     twice=twice, quarantined=quarantined, recover_s=f"{recover:.1f}")
        assert (lost, twice, quarantined) == (0, 0, 0)
    finally:
        server.stop()


def test_sqlite_locked_by_another_process(instance: Callable[..., Settings], tmp_path: Path,
                                          fault_report) -> None:  # type: ignore[no-untyped-def]
    s = instance(db={"url": f"sqlite:///{tmp_path / 'locked.db'}"})
    rt = open_runtime(s)
    expected = make_batch(s.inbox, 5, "l")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None);"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(3);"
        "c.execute('COMMIT')"), str(tmp_path / "locked.db")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    outcomes = [capture(s.inbox / name, rt.capture_context()) for name in sorted(expected)]
    holder.wait(timeout=30)
    assert all(isinstance(o, Stored | Retry) for o in outcomes)
    for name in sorted(expected):  # whatever had to wait is taken on the next pass
        if (s.inbox / name).exists():
            assert isinstance(capture(s.inbox / name, rt.capture_context()), Stored)
    lost, twice, quarantined = account(s, expected)
    fault_report(fault="SQLite locked 3 s", files=len(expected), lost=lost, twice=twice,
                 quarantined=quarantined)
    assert (lost, twice, quarantined) == (0, 0, 0)
    assert sqlite3.connect(tmp_path / "locked.db").execute("pragma integrity_check").fetchone()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_disk_full_in_staging_keeps_the_source_and_resumes(
    instance: Callable[..., Settings], tmp_path: Path, fault_report
) -> None:  # type: ignore[no-untyped-def]
    staging = tmp_path / "tiny"
    staging.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(staging)], check=True)
    try:
        s = instance(staging=str(staging))
        rt = open_runtime(s)
        big = s.inbox / "big.png"
        big.parent.mkdir(parents=True, exist_ok=True)
        Image.effect_noise((400, 400), 80).save(big)  # ~160 kB: does not fit in 64 kB
        expected = {big.name: hashlib.sha256(big.read_bytes()).hexdigest()}
        out = capture(big, rt.capture_context())
        assert isinstance(out, Retry) and "full" in out.reason and big.exists()
        subprocess.run(["mount", "-o", "remount,size=4m", str(staging)], check=True)
        assert isinstance(capture(big, rt.capture_context()), Stored)
        lost, twice, quarantined = account(s, expected)
        fault_report(fault="staging disk full", files=1, lost=lost, twice=twice,
                     quarantined=quarantined)
        assert (lost, twice, quarantined) == (0, 0, 0)
    finally:
        subprocess.run(["umount", "-l", str(staging)], check=False)
