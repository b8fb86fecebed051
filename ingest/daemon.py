"""The capture loop: events and periodic rescans feed a stability tracker; settled files
go through :func:`ingest.pipeline.capture`; transient failures back off and retry.

Nothing here loses a file: a file leaves the tracker only once capture has stored it,
recorded it as a duplicate or quarantined it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from papervault.ingest.pipeline import (
    CaptureContext,
    Duplicate,
    Outcome,
    Retry,
    Stored,
    capture,
)
from papervault.ingest.stability import StabilityTracker
from papervault.ingest.watcher import start_observer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchConfig:
    inbox: Path
    stable_seconds: float
    polling: bool
    poll_interval: float
    rescan_interval: float
    ignore_suffixes: tuple[str, ...]
    ignore_prefixes: tuple[str, ...]
    retry_initial: float
    retry_max: float
    status_file: Path | None = None


def ignored(path: Path, cfg: WatchConfig) -> bool:
    """Temporary, hidden and lock files, in the path itself or any folder above it."""
    try:
        parts = path.relative_to(cfg.inbox).parts
    except ValueError:
        return True
    name = path.name
    if any(p.startswith(cfg.ignore_prefixes) for p in parts):
        return True
    return name.lower().endswith(cfg.ignore_suffixes)


def walk_inbox(cfg: WatchConfig) -> Iterator[Path]:
    """Every candidate entry below the inbox (not following links), hidden folders skipped."""
    for root, dirs, files in os.walk(cfg.inbox):
        here = Path(root)
        # os.walk lists links to folders under dirs; never follow them, triage rejects them.
        links = [d for d in dirs if (here / d).is_symlink()]
        dirs[:] = [d for d in dirs if not d.startswith(cfg.ignore_prefixes) and d not in links]
        for f in [*files, *links]:
            p = here / f
            if not ignored(p, cfg):
                yield p


@dataclass
class _Backoff:
    attempts: int
    next_at: float
    reason: str


class Capturer:
    """Runs the capture loop until :meth:`stop`."""

    def __init__(self, cfg: WatchConfig, ctx: CaptureContext,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.on_outcome = on_outcome
        self.clock = clock
        self.events: queue.Queue[Path] = queue.Queue()
        self.tracker = StabilityTracker(cfg.stable_seconds, clock)
        self.backoff: dict[Path, _Backoff] = {}
        self.stopping = threading.Event()
        self.counts: dict[str, int] = {}

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Observe, rescan and capture until stopped; finishes the file in hand first."""
        self.cfg.inbox.mkdir(parents=True, exist_ok=True)
        observer = start_observer(self.cfg.inbox, self.events, self.cfg.polling,
                                  self.cfg.poll_interval)
        try:
            self.rescan()
            last_scan = self.clock()
            while not self.stopping.is_set():
                self._drain_events()
                if self.clock() - last_scan >= self.cfg.rescan_interval:
                    self.rescan()
                    last_scan = self.clock()
                self.step()
                self._write_status()
                self.stopping.wait(0.2)
        finally:
            observer.stop()
            observer.join(timeout=5)
            self._write_status()

    def rescan(self) -> None:
        """Find what events missed (files made while we were down, SMB shares)."""
        for p in walk_inbox(self.cfg):
            self.tracker.observe(p)

    def _drain_events(self) -> None:
        while True:
            try:
                path = self.events.get_nowait()
            except queue.Empty:
                return
            if path.is_dir() and not path.is_symlink():
                for p in walk_inbox(self.cfg):
                    if p.is_relative_to(path):
                        self.tracker.observe(p)
            elif not ignored(path, self.cfg):
                self.tracker.observe(path)

    def step(self) -> int:
        """Capture every settled file whose retry time has come; return how many were tried."""
        now = self.clock()
        tried = 0
        for path in self.tracker.ready():
            if self.stopping.is_set():
                break
            b = self.backoff.get(path)
            if b is not None and now < b.next_at:
                continue
            try:
                outcome: Outcome = capture(path, self.ctx)
            except Exception:  # a bug must not stop the daemon; the file stays put
                log.exception("capture of %s failed unexpectedly", path)
                outcome = Retry(str(path), "internal error (details in the log)")
            tried += 1
            if isinstance(outcome, Stored | Duplicate):
                # One line per file in the server log (B16); the other outcomes are logged
                # with their reason where they are decided (pipeline._record).
                log.info("%s %s → document %s", outcome.outcome,
                         path.relative_to(self.cfg.inbox) if path.is_relative_to(self.cfg.inbox)
                         else outcome.path, outcome.document_id)
            self.counts[outcome.outcome] = self.counts.get(outcome.outcome, 0) + 1
            if isinstance(outcome, Retry):
                self._schedule(path, outcome.reason)
            else:
                self.tracker.forget(path)
                self.backoff.pop(path, None)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
        return tried

    def _schedule(self, path: Path, reason: str) -> None:
        prev = self.backoff.get(path)
        attempts = (prev.attempts if prev else 0) + 1
        delay = min(self.cfg.retry_max, self.cfg.retry_initial * 2 ** (attempts - 1))
        self.backoff[path] = _Backoff(attempts, self.clock() + delay, reason)
        if not path.exists():
            self.tracker.forget(path)
            self.backoff.pop(path, None)

    def _write_status(self) -> None:
        if self.cfg.status_file is None:
            return
        now = self.clock()
        doc = {
            "pid": os.getpid(),
            "updated": time.time(),
            "watching": len(self.tracker),
            "counts": self.counts,
            "retrying": [
                {"path": str(p), "attempts": b.attempts, "reason": b.reason,
                 "next_in_seconds": round(max(0.0, b.next_at - now), 1)}
                for p, b in sorted(self.backoff.items())
            ],
        }
        tmp = self.cfg.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.cfg.status_file)
