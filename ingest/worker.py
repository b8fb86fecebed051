"""The OCR worker: claim a job, decrypt the original into a private folder, recognise its
pages in parallel processes, link it, store the searchable PDF, index the text.

    claim → fetch → pages (rasterize → OCR, in processes) → link → searchable PDF → index
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete

from papervault.config.errors import PapervaultError, TransientError
from papervault.config.messages import pair
from papervault.config.settings import DEFAULT_DATE_PATTERNS
from papervault.index.accounts import privacy
from papervault.index.catalog import doctypes, documents, jobs
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document, Page, utcnow
from papervault.index.registers import linking as link
from papervault.index.registers import metadata, parties, retention
from papervault.ingest.pagepool import PagePool, process_factory, run_pages
from papervault.ingest.stages import barcodes, quality, split, thumbs
from papervault.ingest.stages.ocr import PageResult, PageTask
from papervault.ingest.stages.searchable_pdf import assemble
from papervault.storage.crypto import WrappedKey
from papervault.storage.objects import ObjectStore, StoredObject

log = logging.getLogger(__name__)

_EXT = {"pdf": ".pdf", "tiff": ".tif", "jpeg": ".jpg", "png": ".png"}


@dataclass(frozen=True)
class WorkerConfig:
    langs: str
    dpi: int
    processes: int
    page_timeout: float
    text_layer_min_chars: int
    lease_seconds: float
    max_attempts: int
    client_patterns: tuple[str, ...]
    record_patterns: tuple[str, ...]
    private_dir: Path
    min_dpi_warning: int = 300
    low_confidence_warning: float = 40.0
    # Set when privacy.mask_numbers is on: ID and card numbers are masked in the stored text.
    pi_key: bytes | None = None
    max_pixels: int = 200_000_000  # of one rendered page
    page_memory_mb: int = 3072  # RLIMIT_AS of a page process and the tools it runs
    crash_token: str | None = None  # tests only: see PageTask.crash_token
    date_patterns: tuple[str, ...] = tuple(DEFAULT_DATE_PATTERNS)
    type_rules: doctypes.TypeRules = doctypes.TypeRules(())
    retention: retention.Defaults = retention.Defaults()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# This process's mark on its job folders; its lock file says it is alive.
_TOKEN = uuid.uuid4().hex[:12]
_LOCKS: dict[Path, int] = {}


def clean_private_dir(private_dir: Path) -> None:
    """Remove plaintext that dead workers left behind, and (re)create the folder 0700.

    Several worker processes may share the folder (one instance, several workers on one
    host): each holds a lock on its own file in ``<folder>.live`` while it runs and names
    its job folders after it, so a starting worker never removes a running one's files.
    """
    private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_dir.chmod(0o700)
    live = _live_tokens(private_dir)
    for entry in private_dir.iterdir():
        owner = entry.name.split("-")[1] if entry.name.startswith("job") else ""
        if owner not in live:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _live_tokens(private_dir: Path) -> set[str]:
    """Tokens of the workers (this one included) that hold their lock on this folder."""
    locks = private_dir.with_name(private_dir.name + ".live")
    locks.mkdir(mode=0o700, exist_ok=True)
    if private_dir not in _LOCKS:
        # Locked before it appears under its name, so nobody sees it unlocked.
        fd = os.open(locks / f".new-{_TOKEN}", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until this process (and its pool) exits
        (locks / f".new-{_TOKEN}").rename(locks / _TOKEN)
        _LOCKS[private_dir] = fd
    live = {_TOKEN}
    for lock in locks.iterdir():
        if lock.name == _TOKEN or lock.name.startswith(".new-"):
            continue
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            live.add(lock.name)
        else:
            lock.unlink(missing_ok=True)  # its worker is gone
        finally:
            os.close(fd)
    return live


def make_pool(cfg: WorkerConfig) -> PagePool:
    """The page processes the worker threads of one process share."""
    factory = process_factory(cfg.private_dir, cfg.page_memory_mb * 1024 * 1024)
    return PagePool(factory, cfg.processes)


class Worker:
    """Claims jobs until stopped; pages of all its jobs share one process pool."""

    def __init__(self, engine: Engine, store: ObjectStore, cfg: WorkerConfig,
                 pool: PagePool) -> None:
        self.engine = engine
        self.store = store
        self.cfg = cfg
        self.pool = pool
        self.name = worker_name()
        self.client_patterns = link.compile_patterns(cfg.client_patterns)
        self.record_patterns = link.compile_patterns(cfg.record_patterns)
        self.date_patterns = metadata.compile_dates(cfg.date_patterns)

    def run_once(self) -> bool:
        """Claim and process one job; False when the queue is empty."""
        claim = jobs.claim(self.engine, self.name, self.cfg.lease_seconds)
        if claim is None:
            return False
        stop_beat = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(claim, stop_beat), daemon=True)
        beat.start()
        try:
            self.process(claim)
        except TransientError as e:
            log.warning("job %s: %s; will retry", claim.job_id, e)
            jobs.release(self.engine, claim, self.name, str(e), retry_in=30.0)
        except PapervaultError as e:
            self._failed(claim, pair(e.key, **e.params))
        except Exception:  # a bug must not kill the worker: record it on the job
            log.exception("job %s failed", claim.job_id)
            self._failed(claim, pair("ocr_internal"))
        finally:
            stop_beat.set()
            beat.join()
        return True

    def _heartbeat(self, claim: jobs.Claim, stop: threading.Event) -> None:
        interval = max(1.0, self.cfg.lease_seconds / 3)
        while not stop.wait(interval):
            try:
                jobs.heartbeat(self.engine, claim, self.name, self.cfg.lease_seconds)
            except TransientError:
                log.warning("heartbeat for job %s failed", claim.job_id)

    def _failed(self, claim: jobs.Claim, reason: str) -> None:
        retry = 30.0 * claim.attempts if claim.attempts < self.cfg.max_attempts else None
        jobs.release(self.engine, claim, self.name, reason, retry_in=retry)
        if retry is None:
            with session_scope(self.engine) as s:
                doc = s.get(Document, claim.document_id)
                if doc is not None:
                    doc.state = "ocr_failed"
                    doc.link_state = "unlinked" if doc.link_state == "pending" else doc.link_state

    def process(self, claim: jobs.Claim) -> None:
        with session_scope(self.engine) as s:
            doc = s.get(Document, claim.document_id)
        if doc is None:
            raise PapervaultError("not_found", what=f"document {claim.document_id}")
        workdir = Path(tempfile.mkdtemp(prefix=f"job{claim.job_id}-{_TOKEN}-",
                                        dir=self.cfg.private_dir))
        try:
            original = workdir / ("original" + _EXT.get(doc.media_type, ".bin"))
            self.store.download(doc.object_name, WrappedKey(doc.wrapped_key, doc.key_id), original)
            pages = self._ocr_pages(original, doc, workdir)
            if all(p.failure is not None for p in pages):
                self._unreadable(claim, doc, pages)
                return
            sheets = barcodes.sheets_from((p.page_no, p.codes) for p in pages)
            decision = self._link(doc, pages)
            searchable = assemble(pages, original if doc.media_type == "pdf" else None,
                                  workdir / "searchable.pdf")
            with searchable.open("rb") as f:
                obj = self.store.put_file(f, kind="s")
            self.store.verify(obj.name, obj.wrapped, obj.sha256)
            thumbs_obj = self._store_thumbs(pages, workdir)
            # The searchable PDF (encrypted, like the original) keeps every digit; the text
            # the index stores and shows is masked when the office asks for it.
            digests: set[str] = set()
            if self.cfg.pi_key is not None:
                pages, digests = privacy.mask_pages(pages, self.cfg.pi_key)
            self._save(claim, doc, pages, decision, obj.name, obj.wrapped, obj.sha256,
                       digests, thumbs_obj)
            self._retain(claim.document_id)
            self._drop_replaced(doc.searchable_object_name, obj.name)
            if thumbs_obj is not None and doc.thumbs_object_name:
                self._drop_replaced(doc.thumbs_object_name, thumbs_obj.name)
            # Quality warnings, then one child document per cover sheet (issue 4).
            checks = split.Checks(self.cfg.min_dpi_warning, self.cfg.low_confidence_warning,
                                  self.cfg.type_rules)
            split.after_save(self.engine, self.store, claim.document_id, original,
                             doc.media_type, pages, sheets, workdir, checks)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _retain(self, doc_id: int) -> None:
        """Under Object Lock, the original is kept as long as its record's 保管期限 (or its
        type's default, Insurance Law art. 87) asks; the lock only ever grows."""
        lock = self.store.active_lock()
        if lock is None:
            return
        with session_scope(self.engine) as s:
            row = s.get(Document, doc_id)
            if row is None:
                return
            keep = retention.for_document(s, row, self.cfg.retention,
                                          lock.until(row.ingested_at))
            name = row.object_name
        self.store.retain(name, None if keep.hold else keep.until)

    def _store_thumbs(self, pages: list[PageResult], workdir: Path) -> StoredObject | None:
        # Rendered here, once, from the upright pages: the web pages only decrypt this
        # small object (security review M10).
        ordered = sorted(pages, key=lambda p: p.page_no)
        packed = thumbs.pack([p.thumb for p in ordered], workdir / "thumbs.tif")
        if packed is None:
            return None
        with packed.open("rb") as f:
            return self.store.put_file(f, kind="t")

    def _ocr_pages(self, original: Path, doc: Document, workdir: Path) -> list[PageResult]:
        count = doc.page_count or 1
        # A single page cannot be a batch: its codes are not looked at.
        tasks = [
            PageTask(str(original), doc.media_type, n, self.cfg.dpi, self.cfg.langs,
                     str(workdir), self.cfg.page_timeout, self.cfg.text_layer_min_chars,
                     scan_codes=count >= 2, max_pixels=self.cfg.max_pixels,
                     crash_token=self.cfg.crash_token)
            for n in range(1, count + 1)
        ]
        return run_pages(self.pool, tasks)

    def _unreadable(self, claim: jobs.Claim, doc: Document, pages: list[PageResult]) -> None:
        """No page could be read: keep each page's reason, and leave the job failed until
        someone fixes the cause and runs ``papervault ocr retry --failed``. Retrying now
        would only fail the same way."""
        reasons = "\n".join(p.failure.reason() for p in pages if p.failure is not None)
        with session_scope(self.engine) as s:
            if doc.id is not None:
                _replace_pages(s, doc.id, pages)
        jobs.release(self.engine, claim, self.name, reasons, retry_in=None)
        with session_scope(self.engine) as s:
            row = s.get(Document, claim.document_id)
            if row is not None:
                row.state = "ocr_failed"
                row.link_state = "unlinked" if row.link_state == "pending" else row.link_state

    def _drop_replaced(self, old: str | None, new: str) -> None:
        """A document read again (``ocr retry``, a rebuilt derivative) replaced its
        searchable PDF: the old object would otherwise stay behind as an orphan."""
        if old is None or old == new:
            return
        try:
            self.store.delete(old)
        except PapervaultError as e:  # papervault orphans finds it later
            log.warning("could not delete the replaced searchable PDF %s: %s", old, e)

    def _link(self, doc: Document, pages: list[PageResult]) -> link.LinkDecision:
        with session_scope(self.engine) as s:
            return link.decide_document(
                doc.original_name, doc.source_folder, "\n".join(p.text for p in pages),
                self.client_patterns, self.record_patterns,
                lambda v: documents.client_for(s, v),
                lambda v: documents.record_owner(s, v),
            )

    def _save(self, claim: jobs.Claim, doc: Document, pages: list[PageResult],
              decision: link.LinkDecision, name: str, wrapped: WrappedKey, sha: str,
              digests: set[str], thumbs_obj: StoredObject | None = None) -> None:
        with session_scope(self.engine) as s:
            row = s.get(Document, doc.id)
            assert row is not None and row.id is not None
            if not jobs.finish(s, claim, self.name):
                # Our lease was taken over: the other worker's result stands.
                self.store.delete(name)
                if thumbs_obj is not None:
                    self.store.delete(thumbs_obj.name)
                return
            _replace_pages(s, row.id, pages)
            row.text = "\n\f\n".join(p.text for p in sorted(pages, key=lambda p: p.page_no))
            # Some pages unreadable: the rest is indexed, the document says it is incomplete.
            row.state = "partly_read" if any(p.failure for p in pages) else "indexed"
            row.ocr_at = utcnow()
            if row.link_source != "manual":
                decision.apply_to(row)
            doctypes.offer_type(row, doctypes.classify_text(row.text, self.cfg.type_rules),
                                "keywords")
            row.candidates = decision.candidate_text
            parties.save_mentions(s, row, decision)
            metadata.apply_record_metadata(s, row, self.date_patterns)
            row.searchable_object_name = name
            row.searchable_wrapped_key = wrapped.blob
            row.searchable_key_id = wrapped.key_id
            row.searchable_sha256 = sha
            if thumbs_obj is not None:
                row.thumbs_object_name = thumbs_obj.name
                row.thumbs_wrapped_key = thumbs_obj.wrapped.blob
                row.thumbs_key_id = thumbs_obj.wrapped.key_id
            # Blank and low-confidence pages now; DPI and page count follow in split.after_save.
            row.warnings = json.dumps(
                quality.page_warnings(pages, {}, 0, self.cfg.low_confidence_warning),
                ensure_ascii=False)
            s.add(row)
            if self.cfg.pi_key is not None:
                privacy.store_digests(s, row.id, digests)


def _replace_pages(s: Session, document_id: int, pages: list[PageResult]) -> None:
    s.execute(delete(Page).where(col(Page.document_id) == document_id))
    for p in pages:
        s.add(Page(document_id=document_id, page_no=p.page_no, text=p.text,
                   confidence=p.confidence, source=p.source, width_px=p.width_px,
                   height_px=p.height_px, dpi=p.dpi, turn=p.turn, skew=p.skew,
                   failure=p.failure.reason() if p.failure is not None else None))
