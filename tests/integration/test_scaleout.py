"""Scale-out: ``papervault worker`` processes sharing one PostgreSQL queue and one S3 server.

Real processes, real tesseract, the local S3 server: every job is done exactly once by
three concurrent workers, and a worker killed with SIGKILL while it holds a job loses it
to another worker only after its lease has run out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document, Job, Page
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import Runtime, open_runtime
from tests.conftest import drop_pg, fresh_pg_url, wait_until, write_config
from tests.factories import form_lines, write_form, write_multipage_pdf

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.e2e]

LEASE = 4.0  # seconds; heartbeats every LEASE / 3


@pytest.fixture
def db_url() -> Iterator[str]:
    """PostgreSQL only (overrides conftest's SQLite + PostgreSQL pair): the shared queue."""
    url = fresh_pg_url()
    yield url
    drop_pg(url)


def start_worker(cfg: Path, *, drain: bool, processes: int = 1) -> subprocess.Popen[bytes]:
    """A ``papervault worker`` in its own process group (so SIGKILL takes its pool too)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERVAULT_")}
    env.update(PAPERVAULT_OCR__WORKERS=str(processes), PAPERVAULT_OCR__LEASE_SECONDS=str(LEASE))
    exe = Path(sys.executable).parent / "papervault"
    args = [str(exe), "-c", str(cfg), "worker"] + (["--drain"] if drain else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    proc.wait(timeout=120)
    if proc.stderr is not None:
        proc.stderr.close()


def jobs_of(rt: Runtime) -> list[Job]:
    with Session(rt.engine) as s:
        return list(s.exec(select(Job).order_by(Job.id)))


def object_count(rt: Runtime, prefix: str) -> int:
    return sum(1 for _ in rt.store.client.list_objects(
        bucket_name=rt.store.bucket, prefix=prefix, recursive=True))


def pid_of(worker: str | None) -> int:
    return int((worker or "::").split(":")[1] or 0)  # host:pid:suffix


def as_utc(t: datetime) -> datetime:
    """Lease times as stored: PostgreSQL returns them without a zone, in UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def test_three_workers_do_every_job_exactly_once(instance: Callable[..., Settings],
                                                 tmp_path: Path) -> None:
    """GIVEN 12 scans queued in PostgreSQL WHEN three worker processes drain the queue
    together THEN each job is claimed once, each document has one searchable PDF and one set
    of pages, and more than one process did the work."""
    s = instance(ocr={"dpi": 150})
    rt = open_runtime(s)
    for i in range(12):
        src = write_form(s.inbox / f"claim-{i:02d}.jpg",
                         form_lines(client_id=f"KH-2024-{i:06d}"), dpi=150)
        assert isinstance(capture(src, rt.capture_context()), Stored)
    cfg = write_config(s, tmp_path / "pv.toml")
    workers = [start_worker(cfg, drain=True) for _ in range(2)]
    try:
        # The third starts while the others hold jobs: starting must not disturb them
        # (it once wiped the shared private folder, their decrypted originals with it).
        wait_until(lambda: any(j.state == "running" for j in jobs_of(rt)), timeout=60)
        workers.append(start_worker(cfg, drain=True))
        codes = [w.wait(timeout=300) for w in workers]
    finally:
        for w in workers:
            stop(w, signal.SIGKILL)
    assert codes == [0, 0, 0]
    jobs = jobs_of(rt)
    assert len(jobs) == 12
    assert [(j.state, j.attempts) for j in jobs] == [("done", 1)] * 12
    assert len({pid_of(j.worker) for j in jobs}) >= 2, "only one worker process got jobs"
    with Session(rt.engine) as db:
        docs = list(db.exec(select(Document)))
        pages = list(db.exec(select(Page)))
    assert {d.state for d in docs} == {"indexed"}
    assert all(f"KH-2024-{i:06d}" in d.text for i, d in enumerate(sorted(docs,
                                                                         key=lambda d: d.id)))
    assert sorted(p.document_id for p in pages) == sorted(d.id for d in docs)
    # A job done twice would have stored a second searchable PDF.
    assert object_count(rt, "s/") == 12
    assert object_count(rt, "o/") == 12


def test_killed_worker_job_is_taken_over_after_its_lease(instance: Callable[..., Settings],
                                                         tmp_path: Path) -> None:
    """GIVEN worker A holding the only job and worker B idle beside it WHEN A is killed with
    SIGKILL THEN B leaves the job alone while A's lease runs, takes it over once the lease
    has expired, and finishes it once."""
    s = instance(ocr={"dpi": 150})
    rt = open_runtime(s)
    pages = [[f"第 {i} 页 理赔材料 客户编号：KH-2024-000123", f"Page {i} of 8"]
             for i in range(1, 9)]
    src = write_multipage_pdf(s.inbox / "batch.pdf", pages, dpi=150)
    out = capture(src, rt.capture_context())
    assert isinstance(out, Stored)
    cfg = write_config(s, tmp_path / "pv.toml")
    a = start_worker(cfg, drain=False)
    b: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: jobs_of(rt)[0].state == "running", timeout=60)
        assert pid_of(jobs_of(rt)[0].worker) == a.pid
        b = start_worker(cfg, drain=False)
        # Heartbeats keep a live worker's job: longer than one lease, still A's.
        first_lease = jobs_of(rt)[0].lease_until
        wait_until(lambda: jobs_of(rt)[0].lease_until != first_lease, timeout=LEASE)
        assert pid_of(jobs_of(rt)[0].worker) == a.pid and jobs_of(rt)[0].state == "running"

        os.killpg(a.pid, signal.SIGKILL)
        a.wait(timeout=30)
        expires = jobs_of(rt)[0].lease_until
        assert expires is not None

        def taken_over() -> bool:
            job = jobs_of(rt)[0]
            if pid_of(job.worker) == a.pid:
                return False
            assert datetime.now(UTC) >= as_utc(expires), "taken before A's lease ran out"
            return True

        wait_until(taken_over, timeout=LEASE + 30, interval=0.05)
        assert pid_of(jobs_of(rt)[0].worker) == b.pid
        wait_until(lambda: jobs_of(rt)[0].state == "done", timeout=180)
    finally:
        stop(a, signal.SIGKILL)
        if b is not None:
            stop(b)
    job = jobs_of(rt)[0]
    assert (job.state, job.attempts, pid_of(job.worker)) == ("done", 2, b.pid)
    with Session(rt.engine) as db:
        doc = db.get(Document, out.document_id)
        assert doc is not None and doc.state == "indexed" and "KH-2024-000123" in doc.text
        assert len(list(db.exec(select(Page).where(Page.document_id == doc.id)))) == 8
    assert object_count(rt, "s/") == 1  # A died before storing anything
