"""Long-running services and the CLI's heavier commands, wired from settings."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlmodel import col, select

from papervault.config.errors import ConfigError, TransientError
from papervault.config.settings import Settings
from papervault.index.accounts.scope import Scope
from papervault.index.catalog import jobs
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document
from papervault.index.catalog.status import status
from papervault.index.registers import review
from papervault.index.registers.metadata import compile_dates
from papervault.ingest.daemon import Capturer, walk_inbox
from papervault.ingest.pipeline import Outcome, capture
from papervault.ingest.runtime import Runtime, audit_key, local_s3, open_runtime, run_dir
from papervault.ingest.stages.ocr import check_tesseract
from papervault.ingest.worker import Worker, WorkerConfig, clean_private_dir, make_pool

log = logging.getLogger(__name__)


def outcome_dict(o: Outcome) -> dict[str, Any]:
    d: dict[str, Any] = {"path": o.path, "sha256": o.sha256, "outcome": o.outcome}
    if hasattr(o, "document_id"):
        d["document_id"] = o.document_id
    if hasattr(o, "reason"):
        d["reason"] = o.reason
    if hasattr(o, "reason_code"):
        d["reason_code"] = o.reason_code
    return d


def _expand(paths: list[Path], rt: Runtime) -> Iterator[Path]:
    from dataclasses import replace

    for p in paths:
        if p.is_dir() and not p.is_symlink():
            yield from walk_inbox(replace(rt.watch_config(), inbox=p))
        else:
            yield p


def ingest_paths(s: Settings, paths: list[Path], progress: Progress,
                 drain_ocr: bool = False) -> list[dict[str, Any]]:
    """Capture the given files and folders once; optionally run OCR until the queue is empty."""
    with local_s3(s):
        rt = open_runtime(s)
        rt.store.ensure_bucket()
        files = list(_expand(paths, rt))
        task = progress.add_task("ingest", total=len(files))
        results = []
        for f in files:
            base = f.parent if f.parent.is_dir() else Path()
            ctx = rt.capture_context()
            from dataclasses import replace

            # Back-scans come from anywhere: folders above the file name the batch.
            ctx = replace(ctx, inbox=base if not f.is_relative_to(s.inbox) else s.inbox)
            results.append(outcome_dict(capture(f, ctx)))
            progress.advance(task)
        if drain_ocr:
            _drain(rt)
        return results


def _drain(rt: Runtime) -> None:
    cfg = rt.worker_config()
    check_tesseract(cfg.langs)
    clean_private_dir(cfg.private_dir)
    with make_pool(cfg) as pool:
        w = Worker(rt.engine, rt.store, cfg, pool)
        while w.run_once():
            pass


def run_worker(s: Settings, drain: bool = False,
               stop: threading.Event | None = None) -> jobs.Waiting:
    """Claim OCR jobs until stopped (or, with ``drain``, until no job can run now);
    returns the jobs still queued for a later retry."""
    stop = stop or _stop_on_signals()
    with local_s3(s):
        rt = open_runtime(s)
        cfg = rt.worker_config()
        check_tesseract(cfg.langs)
        clean_private_dir(cfg.private_dir)
        _worker_loop(rt, stop, drain)
        return jobs.waiting(rt.engine)


def _worker_loop(rt: Runtime, stop: threading.Event, drain: bool = False,
                 cfg: WorkerConfig | None = None) -> None:
    cfg = cfg or rt.worker_config()
    with make_pool(cfg) as pool:
        # As many jobs in flight as page processes, so one-page documents fill every core.
        workers = [Worker(rt.engine, rt.store, cfg, pool) for _ in range(cfg.processes)]

        def loop(w: Worker) -> None:
            idle = 0.5
            while not stop.is_set():
                try:
                    busy = w.run_once()
                except TransientError as e:
                    log.warning("worker: %s", e)
                    busy = False
                if not busy:
                    if drain:
                        return
                    # A job queued in this process, or stop, wakes it; others: the poll.
                    for _ in range(5):
                        if stop.is_set() or jobs.wait_for_work(idle / 5):
                            break
            jobs.release_worker(rt.engine, w.name)

        threads = [threading.Thread(target=loop, args=(w,), name=f"ocr-{i}")
                   for i, w in enumerate(workers)]
        # Its own stop: with drain the OCR loops end by themselves, not by `stop`.
        beats_done = threading.Event()
        beat = threading.Thread(target=_beat_loop, args=(rt, workers[0].name, beats_done),
                                name="worker-beat")
        beat.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        beats_done.set()
        beat.join()


BEAT_SECONDS = 15.0


def _beat_loop(rt: Runtime, name: str, stop: threading.Event) -> None:
    """Say this worker process is alive, busy or idle: a row other machines see (/readyz)
    and a file its own container's healthcheck reads (papervault health worker)."""
    from papervault.index.catalog import jobs

    beat_file = run_dir(rt.settings) / "worker.json"
    while True:
        try:
            jobs.beat(rt.engine, name)
            ok = True
        except Exception:  # a database restart: the next beat tries again
            log.warning("worker heartbeat could not be recorded", exc_info=True)
            ok = False
        write_beat_file(beat_file, {"name": name, "updated": time.time(), "db": ok})
        if stop.wait(BEAT_SECONDS):
            break
    try:
        jobs.forget_worker(rt.engine, name)
    except Exception:
        log.warning("worker heartbeat row not removed", exc_info=True)


def write_beat_file(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically, so a healthcheck never reads half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def retry_ocr(s: Settings, *, failed: bool) -> int:
    """Queue OCR again: waiting jobs now, and with ``failed`` failed jobs and documents
    with unreadable pages too. Returns how many documents were queued."""
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        ids = set(jobs.requeue(session, failed=failed))
        if failed:
            partly = session.exec(select(Document.id).where(
                col(Document.state) == "partly_read")).all()
            for doc_id in partly:
                if doc_id is not None and doc_id not in ids:
                    jobs.enqueue(session, doc_id)
                    ids.add(doc_id)
        for doc in session.exec(select(Document).where(col(Document.id).in_(ids))):
            if doc.state in ("ocr_failed", "partly_read"):
                doc.state = "stored"
                session.add(doc)
    return len(ids)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing the work in hand", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
    return stop


def clean_staging(s: Settings) -> None:
    """Remove sealed upload files a killed process left behind (they hold no plaintext,
    but they fill the disk)."""
    seal = s.staging_dir / "seal"
    if seal.exists():
        for leftover in seal.glob("seal-*"):
            leftover.unlink(missing_ok=True)


def run_watch(s: Settings) -> None:
    """Capture only: SIGTERM/Ctrl-C finishes the file in hand, then stops."""
    stop = _stop_on_signals()
    with local_s3(s):
        rt = open_runtime(s)
        rt.store.ensure_bucket()
        clean_staging(s)
        capturer = Capturer(rt.watch_config(), rt.capture_context())
        t = threading.Thread(target=capturer.run, name="capture")
        t.start()
        while not stop.is_set() and t.is_alive():
            stop.wait(0.5)
        capturer.stop()
        t.join()


def run_up(s: Settings) -> None:
    """The main job: local S3 (if configured), capture, OCR worker and the web app."""
    stop = _stop_on_signals()
    with local_s3(s) as server:
        rt = open_runtime(s)
        rt.store.ensure_bucket()
        check_tesseract(s.ocr.langs)
        clean_staging(s)
        clean_private_dir(rt.worker_config().private_dir)
        capturer = Capturer(rt.watch_config(), rt.capture_context())
        threads = [
            threading.Thread(target=capturer.run, name="capture"),
            threading.Thread(target=_worker_loop, args=(rt, stop), name="worker"),
        ]
        web_failed = threading.Event()
        web = _start_web(s, stop, web_failed)
        if web is not None:
            threads.append(web)
        for t in threads:
            t.start()
        log.info("papervault up: inbox %s%s", s.inbox,
                 f", S3 on {server.endpoint}" if server else "")
        if web is not None:  # the address people type in (B16)
            log.info("web UI: %s", web_address(s))
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.is_set():
                stop.wait(0.5)
        capturer.stop()
        for t in threads:
            t.join()
        if web_failed.is_set():
            # Running on without the web UI looked healthy to nobody (M5).
            raise ConfigError("web_bind_failed", host=s.web.host, port=s.web.port)
        log.info("papervault stopped cleanly")


def web_address(s: Settings) -> str:
    """The address to open the web UI at, as people type it (every interface: this host's
    name, which the office's PCs resolve; loopback otherwise)."""
    import socket

    host = s.web.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a comparison, not a bind
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{s.web.port}/"


def _start_web(s: Settings, stop: threading.Event,
               failed: threading.Event) -> threading.Thread | None:
    if not s.web.enabled:
        return None
    try:
        from papervault.index.web.app import create_app
    except ImportError:
        return None
    import uvicorn

    config = uvicorn.Config(create_app(s), host=s.web.host, port=s.web.port, log_level="warning",
                            **s.web.uvicorn_options())  # type: ignore[arg-type]
    # Run off the main thread, uvicorn leaves signal handling to us (the stop event).
    server = uvicorn.Server(config)

    def serve() -> None:
        t = threading.Thread(target=server.run, name="web-server")
        t.start()
        while not stop.wait(0.5):
            if not t.is_alive():  # it could not bind (the port is taken): stop all of up
                failed.set()
                stop.set()
        server.should_exit = True
        t.join()

    return threading.Thread(target=serve, name="web")


def gather_status(s: Settings, scope: Scope) -> dict[str, Any]:
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        data = status(session, scope)
    capture_file = run_dir(s) / "capture.json"
    if capture_file.exists():
        try:
            cap = json.loads(capture_file.read_text(encoding="utf-8"))
            cap["age_seconds"] = round(time.time() - cap.get("updated", 0), 1)
            data["capture"] = cap
        except (ValueError, OSError):
            pass
    return data


def unlinked(s: Settings, scope: Scope) -> list[dict[str, Any]]:
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        docs = session.exec(
            select(Document).where(col(Document.link_state).in_(["unlinked", "ambiguous"]),
                                   scope.document_where())
            .order_by(col(Document.id))
        ).all()
        return [review.review_item(session, d) for d in docs]


def hand_link(s: Settings, doc_id: int, client_id: str | None,
              record_no: str | None, scope: Scope) -> review.HandLink:
    """Link a document by hand (client, 档号 or both) within ``scope``, audited, with its
    metadata."""
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        return review.link_by_hand(session, doc_id, client_id, record_no,
                                   audit_key=audit_key(s), actor=s.actor,
                                   dates=compile_dates(s.link.date_patterns), scope=scope)
