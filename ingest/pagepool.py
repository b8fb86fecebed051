"""Page processes: one pool shared by the worker threads, healed when a process dies.

* Failures come back as values (:func:`~papervault.ingest.stages.ocr.ocr_page` returns a
  failed page), so the pool breaks only when a process itself dies: the OOM killer, a
  signal, a crash in a native library. Then the pool is replaced at once, so no later job
  sees it broken, and the job in hand runs its unfinished pages again.
* The pages that were running when it broke are suspects: each is run again alone, in a
  process of its own. One that kills that process too (twice in all) is a poison page and
  is marked failed; an innocent neighbour simply gets read.
* Processes come from a ``forkserver``: a fork of the multi-threaded daemon inherited its
  listening web socket and the lock that tells the cleaner a worker is alive (M5). Each
  page process leads its own process group, dies with its parent (``PR_SET_PDEATHSIG``)
  and takes its tesseract/pdftoppm with it; ``RLIMIT_AS`` bounds it and them. Why not
  ``spawn``: the pool starts processes from whichever thread submits, and the death signal
  follows the *thread* that forked, so a worker thread that ended killed pages still
  running for another. The fork server is one long-lived single-threaded parent; but it
  outlives the daemon while any of its children lives (they hold its "alive" pipe), so
  each page process also watches the daemon itself through a pidfd.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import resource
import select
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType

from papervault.config.errors import TransientError
from papervault.ingest.stages.ocr import PageResult, PageTask, failed_page, ocr_page

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PAGE_NICENESS = 10  # added to the daemon's; see init_page_process
_RUNNING = ".running"  # per-job folder of marks: which pages a process has started
MAX_ROUNDS = 6  # pool breaks one job lives through before it is retried later


def init_page_process(tmpdir: str, daemon: int, memory_bytes: int) -> None:
    """Pool initializer: one tesseract thread, temp files in the private folder, bounded
    memory, and death with the parent (with the tools it started)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # Below the web UI and capture, which share the (often two) cores with a busy batch:
    # a page waiting a moment longer is fine, a clerk's page that does not answer is not
    # (walkthrough B17). tesseract and poppler inherit it.
    os.nice(PAGE_NICENESS)
    tempfile.tempdir = tmpdir
    # Ctrl-C reaches the whole terminal's group: the daemon finishes the pages in hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, _kill_own_group)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("page process: PR_SET_PDEATHSIG failed (errno %s)", ctypes.get_errno())
    _watch(daemon)
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _watch(daemon: int) -> None:
    """Die with the daemon, which is the fork server's parent, not ours: a pidfd becomes
    readable when it exits (no polling, no pid reuse)."""
    try:
        fd = os.pidfd_open(daemon)
    except ProcessLookupError:  # already gone
        _kill_own_group()
        return

    def wait() -> None:
        select.select([fd], [], [])
        _kill_own_group()

    threading.Thread(target=wait, name="watch-daemon", daemon=True).start()


def _kill_own_group(_signum: int = 0, _frame: object = None) -> None:
    """SIGTERM (the parent died, or the pool is being torn down): this process and every
    tool it started go at once, rather than finishing a page nobody waits for."""
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _started() -> None:
    """A page process's first task, so that it starts before the first page (PagePool)."""


def run_page(task: PageTask) -> PageResult:
    """:func:`ocr_page`, with a mark saying this page's process has started it."""
    mark = Path(task.workdir) / _RUNNING / str(task.page_no)
    mark.write_text(str(os.getpid()), encoding="ascii")
    try:
        return ocr_page(task)
    finally:
        mark.unlink(missing_ok=True)


Factory = Callable[[int], ProcessPoolExecutor]


def process_factory(private_dir: Path, memory_bytes: int) -> Factory:
    """Make pools of ``n`` page processes, forked by the fork server."""
    ctx = multiprocessing.get_context("forkserver")
    # Forked from a server that has imported the page code: a replaced pool starts fast.
    ctx.set_forkserver_preload(["papervault.ingest.pagepool"])

    def make(n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n, mp_context=ctx,
                                   initializer=init_page_process,
                                   initargs=(str(private_dir), os.getpid(), memory_bytes))

    return make


class PagePool:
    """The page processes of one worker; replaced, never reused, once broken."""

    def __init__(self, make: Factory, processes: int) -> None:
        self._make = make
        self._processes = processes
        self._lock = threading.Lock()
        self._pool = make(processes)
        self.generation = 0  # how many times it was replaced
        # Started now, not by the first page: the fork server imports the page code and
        # each process runs its initializer (~1 s of one core), while the worker is still
        # checking tesseract and claiming its first job, instead of with both cores idle.
        try:
            for _ in range(processes):
                self._pool.submit(_started)
        except (OSError, RuntimeError) as e:  # no process could start: the first page
            # meets the same failure where a job records it and the daemon carries on;
            # raised here, it ended the worker thread before its first job.
            log.warning("page processes did not start yet: %s", e)

    def __enter__(self) -> PagePool:
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None,
                 _tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            pool = self._pool
        pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, task: PageTask) -> tuple[int, Future[PageResult]]:
        """Queue one page; the generation says which pool took it."""
        for _ in range(MAX_ROUNDS):
            with self._lock:
                generation, pool = self.generation, self._pool
            try:
                return generation, pool.submit(run_page, task)
            except BrokenProcessPool:  # a process died while the pool was idle
                self.heal(generation)
            except RuntimeError:  # shut down: another thread replaced it just now
                continue
        raise TransientError("ocr_internal")

    def heal(self, generation: int) -> None:
        """Replace the pool if it is still the broken one (several threads may notice)."""
        with self._lock:
            if generation != self.generation:
                return
            broken, self._pool = self._pool, self._make(self._processes)
            self.generation += 1
        log.warning("a page process died; page processes replaced (#%s)", self.generation)
        broken.shutdown(wait=False, cancel_futures=True)

    def run_alone(self, task: PageTask) -> PageResult:
        """Run one page in a process of its own; a failed page if it dies there too."""
        overran = _Overran()
        with self._make(1) as alone:
            try:
                return _await(alone.submit(run_page, task), task, overran)
            except BrokenProcessPool:
                key = "page_timeout" if overran else "page_crashed"
                return failed_page(task.page_no, key, **(
                    {"seconds": round(task.limit())} if overran else {}))


def run_pages(pool: PagePool, tasks: list[PageTask]) -> list[PageResult]:
    """Every page's result, in task order, whatever kills page processes meanwhile."""
    for folder in {Path(t.workdir) / _RUNNING for t in tasks}:
        folder.mkdir(exist_ok=True)
    done: dict[int, PageResult] = {}
    pending = list(tasks)
    for _ in range(MAX_ROUNDS):
        pending = _run_round(pool, pending, done)
        if not pending:
            return [done[t.page_no] for t in tasks]
        suspects = [t for t in pending if _was_running(t)]
        for t in suspects:
            log.warning("page %s was running when its process died: reading it alone",
                        t.page_no)
            done[t.page_no] = pool.run_alone(t)
            _was_running(t)  # clears a mark the second death left
        pending = [t for t in pending if t.page_no not in done]
    raise TransientError("ocr_internal")  # the pool keeps breaking: try the job later


def _run_round(pool: PagePool, tasks: list[PageTask],
               done: dict[int, PageResult]) -> list[PageTask]:
    """Submit ``tasks``; return those lost because the pool broke."""
    submitted = [(t, *pool.submit(t)) for t in tasks]
    lost: list[PageTask] = []
    for task, generation, future in submitted:
        try:
            done[task.page_no] = _await(future, task, _Overran())
        except BrokenProcessPool:
            pool.heal(generation)
            lost.append(task)
        except CancelledError:  # another thread replaced the pool before this page ran
            lost.append(task)
    return lost


class _Overran:
    """Whether :func:`_await` had to kill the page's process."""

    def __init__(self) -> None:
        self.killed = False

    def __bool__(self) -> bool:
        return self.killed


def _await(future: Future[PageResult], task: PageTask, overran: _Overran) -> PageResult:
    """The page's result; a page running past :meth:`PageTask.limit` has its process (and
    the tools it started) killed, so no page holds a core for ever, whatever code it is
    stuck in (the tools have their own time limits; a content stream pikepdf parses or an
    image PIL decodes has none). The pool then breaks and heals like any other death."""
    mark = Path(task.workdir) / _RUNNING / str(task.page_no)
    while True:
        try:
            return future.result(timeout=1.0)
        except TimeoutError:
            if not overran and _started_before(mark, time.time() - task.limit()):
                overran.killed = _kill(mark)


def _started_before(mark: Path, when: float) -> bool:
    try:
        return mark.stat().st_mtime < when
    except FileNotFoundError:
        return False


def _kill(mark: Path) -> bool:
    """SIGTERM the page process named in ``mark``: its handler kills its whole group."""
    try:
        os.kill(int(mark.read_text(encoding="ascii")), signal.SIGTERM)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False
    log.warning("page %s ran past its time limit: its process was stopped", mark.name)
    return True


def _was_running(task: PageTask) -> bool:
    """Whether a process had started this page when it died (and clear the mark)."""
    mark = Path(task.workdir) / _RUNNING / str(task.page_no)
    if not mark.exists():
        return False
    mark.unlink(missing_ok=True)
    return True
