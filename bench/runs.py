"""papervault's own measurements: end to end (c), capture latency under load (d),
worker peak RSS (e) and workers against PostgreSQL (scale-out)."""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from sqlmodel import Session, col, func, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document, Job
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import Runtime, open_runtime
from papervault.ingest.service import run_worker


def _capture(rt: Runtime, src: Path, name: str) -> int:
    dest = rt.settings.inbox / "bench" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    out = capture(dest, rt.capture_context())
    if not isinstance(out, Stored):
        raise RuntimeError(f"capture of {name}: {out}")
    return out.document_id


def _check_indexed(rt: Runtime, doc_ids: list[int], pages: int) -> None:
    with Session(rt.engine) as s:
        docs = s.exec(select(Document).where(col(Document.id).in_(doc_ids))).all()
        states = {d.state for d in docs}
        total = sum(d.page_count or 0 for d in docs)
        if states != {"indexed"} or total != pages or not all(d.text for d in docs):
            errors = {j.last_error for j in s.exec(select(Job).where(
                col(Job.document_id).in_(doc_ids), col(Job.state) != "done"))}
            raise RuntimeError(f"not everything indexed: {states}, {total}/{pages} pages, "
                               f"job errors {errors}")


# A running worker (the daemon's state when a clerk drops a file) has its page processes
# up: the first page waits for neither the fork server nor their start (~1 s of one core).
WORKER_START_SECONDS = 3.0


def end_to_end(s: Settings, pdf: Path, pages: int, running: bool = True) -> dict[str, float]:
    """Seconds from a dropped PDF to its searchable PDF stored and its text indexed, with
    the worker already running (``running``: pages/min at work) or started after the
    capture, as ``papervault worker --drain`` from cron would be (its start-up counted)."""
    rt = open_runtime(s)  # schema created before the clock starts
    rt.store.ensure_bucket()
    # So is the bucket's first volume: SeaweedFS grows one on a fresh bucket's first
    # write (~1 s), once per bucket and never again.
    rt.store.delete(rt.store.put_file(io.BytesIO(b"warm-up")).name)
    dest = s.inbox / "bench" / pdf.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, dest)
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(s,), kwargs={"stop": stop},
                              daemon=True)
    if running:
        worker.start()
        time.sleep(WORKER_START_SECONDS)
    t0 = time.perf_counter()
    out = capture(dest, rt.capture_context())
    t1 = time.perf_counter()
    if not isinstance(out, Stored):
        raise RuntimeError(f"capture: {out}")
    if running:
        _wait_done(rt, out.document_id, stop)
    else:
        run_worker(s, drain=True, stop=stop)
    t2 = time.perf_counter()
    stop.set()
    if running:
        worker.join()
    _check_indexed(rt, [out.document_id], pages)
    return {"seconds": t2 - t0, "capture_seconds": t1 - t0, "ocr_seconds": t2 - t1}


def _wait_done(rt: Runtime, doc_id: int, stop: threading.Event, limit: float = 3600) -> None:
    """Until the document's job is no longer queued or running (polled every 20 ms)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with Session(rt.engine) as s:
            states = set(s.exec(select(Job.state).where(col(Job.document_id) == doc_id)))
        if states and not states & {"queued", "running"}:
            return
        time.sleep(0.02)
    stop.set()
    raise RuntimeError(f"document {doc_id} not read within {limit:.0f} s")


def capture_under_load(s: Settings, backlog: list[Path], drops: list[Path]) -> dict[str, Any]:
    """Capture latency of each file in ``drops`` while a worker chews through ``backlog``."""
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    for i, b in enumerate(backlog):
        _capture(rt, b, f"backlog-{i}.pdf")
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(s,), kwargs={"stop": stop}, daemon=True)
    worker.start()
    _wait_running(rt)
    latencies = []
    busy = []
    for i, d in enumerate(drops):
        dest = s.inbox / "drop" / f"drop-{i}.pdf"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(d, dest)
        t0 = time.perf_counter()
        out = capture(dest, rt.capture_context())
        latencies.append(time.perf_counter() - t0)
        if not isinstance(out, Stored):
            raise RuntimeError(f"capture under load: {out}")
        busy.append(_running(rt) > 0)
    stop.set()
    worker.join()
    latencies.sort()
    return {
        "captures": len(latencies),
        "p50_seconds": statistics.median(latencies),
        "p95_seconds": latencies[max(0, round(0.95 * len(latencies)) - 1)],
        "max_seconds": latencies[-1],
        "ocr_busy_during_every_capture": all(busy),
    }


def _running(rt: Runtime) -> int:
    with Session(rt.engine) as s:
        return int(s.exec(select(func.count()).select_from(Job)
                          .where(col(Job.state) == "running")).one())


def _wait_running(rt: Runtime, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while _running(rt) == 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker never started a job")
        time.sleep(0.05)


def _worker_cmd(config: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "papervault"), "-c", str(config), "worker",
            "--drain"]


def _start_worker(config: Path, tag: str) -> tuple[subprocess.Popen[bytes], Path]:
    """A ``papervault worker --drain`` whose stderr goes to a log beside its config."""
    log = config.with_name(f"worker-{tag}.log")
    with log.open("wb") as err:
        proc = subprocess.Popen(_worker_cmd(config), stdout=subprocess.DEVNULL, stderr=err)
    return proc, log


def _check_exit(proc: subprocess.Popen[bytes], log: Path) -> None:
    if proc.wait() != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise RuntimeError(f"worker exited with {proc.returncode}: {tail}")


def worker_peak_rss(s: Settings, config: Path, pdf: Path, pages: int) -> dict[str, Any]:
    """Peak memory of one ``papervault worker --drain`` and all its children (psutil, 0.1 s).

    Summed RSS counts every shared page once per process: the forked page processes share
    most of the worker's memory, so it overstates the footprint. Summed PSS (each shared
    page split among its sharers) is what the tree really holds; both are reported.
    """
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    doc = _capture(rt, pdf, pdf.name)
    t0 = time.perf_counter()
    proc, log = _start_worker(config, "rss")
    ps = psutil.Process(proc.pid)
    peak = {"rss": 0, "pss": 0, "main": 0}
    at_peak: list[tuple[str, int, int]] = []
    trend: list[tuple[float, int, int]] = []
    samples = 0
    while proc.poll() is None:
        try:
            kids = ps.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        tree = [_mem(p) for p in (ps, *kids)]  # a tesseract may end between the two calls
        samples += 1
        rss, pss = sum(t[1] for t in tree), sum(t[2] for t in tree)
        peak["main"] = max(peak["main"], tree[0][1])
        peak["pss"] = max(peak["pss"], pss)
        if rss > peak["rss"]:
            peak["rss"], at_peak = rss, [(n, r >> 20, p >> 20) for n, r, p in tree]
        now = time.perf_counter() - t0
        if not trend or now - trend[-1][0] >= 30:
            trend.append((round(now, 1), rss >> 20, pss >> 20))
        time.sleep(0.1)
    _check_exit(proc, log)
    _check_indexed(rt, [doc], pages)
    return {"pages": pages, "seconds": time.perf_counter() - t0,
            "peak_rss_mb_with_children": round(peak["rss"] / 2**20, 1),
            "peak_pss_mb_with_children": round(peak["pss"] / 2**20, 1),
            "peak_rss_mb_worker_only": round(peak["main"] / 2**20, 1),
            "processes_at_peak_name_rss_pss_mb": at_peak, "samples": samples,
            "trend_seconds_rss_pss_mb": trend}


def _mem(p: psutil.Process) -> tuple[str, int, int]:
    """(name, RSS, PSS), bytes; zeros for a process that has just exited."""
    try:
        with p.oneshot():
            m = p.memory_full_info()
            return p.name(), int(m.rss), int(m.pss)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "-", 0, 0


def workers_against_postgres(s: Settings, config: Path, docs: list[Path],
                             n_workers: int) -> dict[str, Any]:
    """``n_workers`` ``papervault worker --drain`` processes on one queue: seconds, and
    that every job was done exactly once."""
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    ids = [_capture(rt, d, d.name) for d in docs]
    t0 = time.perf_counter()
    procs = [_start_worker(config, f"{n_workers}-{i}") for i in range(n_workers)]
    for proc, _ in procs:
        proc.wait()
    seconds = time.perf_counter() - t0
    for proc, log in procs:
        _check_exit(proc, log)
    _check_indexed(rt, ids, len(docs))
    with Session(rt.engine) as sess:
        jobs = sess.exec(select(Job)).all()
    done_once = all(j.state == "done" and j.attempts == 1 for j in jobs)
    by_worker: dict[str, int] = {}
    for j in jobs:
        proc_name = (j.worker or "?").rsplit(":", 1)[0]  # host:pid
        by_worker[proc_name] = by_worker.get(proc_name, 0) + 1
    return {"workers": n_workers, "jobs": len(jobs), "seconds": seconds,
            "pages_per_min": 60 * len(docs) / seconds, "every_job_done_once": done_once,
            "jobs_per_worker_process": sorted(by_worker.values(), reverse=True)}
