"""papervault's own measurements: end to end (c), capture latency under load (d),
worker peak RSS (e) and workers against PostgreSQL (scale-out)."""

from __future__ import annotations

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

from config.settings import Settings
from index.models import Document, Job
from ingest.pipeline import Stored, capture
from ingest.runtime import Runtime, open_runtime
from ingest.service import run_worker


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


def end_to_end(s: Settings, pdf: Path, pages: int) -> dict[str, float]:
    """Seconds from a dropped PDF to its searchable PDF stored and its text indexed."""
    rt = open_runtime(s)  # schema created before the clock starts
    rt.store.ensure_bucket()
    dest = s.inbox / "bench" / pdf.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, dest)
    t0 = time.perf_counter()
    out = capture(dest, rt.capture_context())
    t1 = time.perf_counter()
    if not isinstance(out, Stored):
        raise RuntimeError(f"capture: {out}")
    run_worker(s, drain=True, stop=threading.Event())
    t2 = time.perf_counter()
    _check_indexed(rt, [out.document_id], pages)
    return {"seconds": t2 - t0, "capture_seconds": t1 - t0, "ocr_seconds": t2 - t1}


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


def worker_peak_rss(s: Settings, config: Path, pdf: Path, pages: int) -> dict[str, Any]:
    """Peak RSS of one ``papervault worker --drain`` and all its children (psutil, 0.1 s)."""
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    doc = _capture(rt, pdf, pdf.name)
    t0 = time.perf_counter()
    proc = subprocess.Popen(_worker_cmd(config), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ps = psutil.Process(proc.pid)
    peak_total = peak_main = 0
    trend: list[tuple[float, int]] = []
    while proc.poll() is None:
        try:
            main = ps.memory_info().rss
            kids = sum(_rss(c) for c in ps.children(recursive=True))
        except psutil.NoSuchProcess:
            break
        peak_main = max(peak_main, main)
        peak_total = max(peak_total, main + kids)
        now = time.perf_counter() - t0
        if not trend or now - trend[-1][0] >= 10:
            trend.append((round(now, 1), round((main + kids) / 2**20)))
        time.sleep(0.1)
    if proc.wait() != 0:
        raise RuntimeError(f"worker exited with {proc.returncode}")
    _check_indexed(rt, [doc], pages)
    return {"pages": pages, "seconds": time.perf_counter() - t0,
            "peak_rss_mb_with_children": round(peak_total / 2**20, 1),
            "peak_rss_mb_worker_only": round(peak_main / 2**20, 1),
            "trend_seconds_mb": trend}


def _rss(p: psutil.Process) -> int:
    try:
        return int(p.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def workers_against_postgres(s: Settings, config: Path, docs: list[Path],
                             n_workers: int) -> dict[str, Any]:
    """``n_workers`` ``papervault worker --drain`` processes on one queue: seconds, and
    that every job was done exactly once."""
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    ids = [_capture(rt, d, d.name) for d in docs]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(_worker_cmd(config), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(n_workers)]
    codes = [p.wait() for p in procs]
    seconds = time.perf_counter() - t0
    if any(codes):
        raise RuntimeError(f"a worker exited with {codes}")
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
