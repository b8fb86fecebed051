"""The whole shared test corpus dropped as ONE batch into the running daemon (issue 11).

Every file must end stored and indexed, stored with its unreadable pages failed (each with
its reason), a duplicate, or quarantined with a reason: none lost, none failed because of
another. The tally is printed with the fault suite's report.

Bounded to a few minutes on 2 cores: English only, PDFs rendered at 100 dpi, at most 3
pages a file (longer ones are quarantined, with that reason) and 30 s per tool run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document, IngestEvent, Job, Page
from papervault.ingest.daemon import Capturer, walk_inbox
from papervault.ingest.runtime import Runtime, open_runtime
from papervault.ingest.service import _worker_loop
from papervault.ingest.worker import clean_private_dir
from tests.conftest import wait_until
from tests.report import NOTES

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

PLUMBING = re.compile(r"pool|traceback|process|\b[A-Z]\w*(Error|Exception)\b|Broken", re.I)
FINAL = ("indexed", "partly_read", "ocr_failed")


def _corpus(testdata: Path, inbox: Path) -> dict[str, str]:
    """Copy every file of the corpus (its notes and reference texts too: they must be
    refused with a reason) under the inbox; returns relative path → sha256."""
    out: dict[str, str] = {}
    for src in sorted(p for p in testdata.rglob("*") if p.is_file()):
        rel = src.relative_to(testdata)
        if any(part.startswith(".") for part in rel.parts):
            continue  # the daemon ignores hidden files by design
        dest = inbox / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        out[str(rel)] = hashlib.sha256(src.read_bytes()).hexdigest()
    return out


def _queue_empty(rt: Runtime) -> bool:
    with Session(rt.engine) as db:
        busy = db.exec(select(Job).where(col(Job.state).in_(["queued", "running"]))).first()
        docs = db.exec(select(Document).where(col(Document.state).not_in(FINAL))).first()
    return busy is None and docs is None


def test_the_whole_corpus_as_one_batch(instance: Callable[..., Settings], testdata: Path,
                                       fault_report) -> None:  # type: ignore[no-untyped-def]
    s = instance(ocr={"langs": "eng", "dpi": 100, "page_timeout": 30, "max_attempts": 1},
                 limits={"max_pages": 3})
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    clean_private_dir(rt.worker_config().private_dir)  # as up does before the worker starts
    expected = _corpus(testdata, s.inbox / "corpus")
    stop = threading.Event()
    capturer = Capturer(rt.watch_config(), rt.capture_context())
    threads = [threading.Thread(target=capturer.run),
               threading.Thread(target=_worker_loop, args=(rt, stop))]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        wait_until(lambda: not list(walk_inbox(rt.watch_config())) and _queue_empty(rt),
                   timeout=600, interval=1.0)
    finally:
        stop.set()
        capturer.stop()
        for t in threads:
            t.join(timeout=120)
    seconds = time.monotonic() - started

    with Session(rt.engine) as db:
        docs = list(db.exec(select(Document).where(col(Document.parent_id).is_(None))))
        events = list(db.exec(select(IngestEvent)))
        failed_pages = list(db.exec(select(Page).where(col(Page.source) == "failed")))
        job_errors = [j.last_error for j in db.exec(select(Job)) if j.last_error]
    stored = {d.sha256 for d in docs}
    duplicates = {e.sha256 for e in events if e.outcome == "duplicate"}
    moved = s.quarantine_dir / "corpus"
    quarantined = {str(p.relative_to(moved)) for p in moved.rglob("*")
                   if p.is_file() and not p.name.endswith(".error.json")}
    lost = [rel for rel, sha in expected.items()
            if sha not in stored | duplicates and rel not in quarantined]
    assert not lost, lost
    assert not [d.original_name for d in docs if d.state not in FINAL]
    # A document that failed says why, page by page; nothing shows the plumbing.
    reasons = [p.failure or "" for p in failed_pages] + job_errors
    reasons += [e.reason or "" for e in events if e.outcome == "quarantined"]
    assert all(reasons) and not [r for r in reasons if PLUMBING.search(r)]
    assert not [r for r in job_errors if "内部错误" in r], "a failure not caused by its file"
    with Session(rt.engine) as db:
        no_reason = [d.original_name for d in docs if d.state != "indexed" and not db.exec(
            select(Page).where(col(Page.document_id) == d.id,
                               col(Page.failure).is_not(None))).first()]
    assert not no_reason, no_reason

    states = Counter(d.state for d in docs)
    codes = Counter(json.loads(f.read_text(encoding="utf-8"))["reason_code"]
                    for f in moved.rglob("*.error.json"))
    why = {p.document_id: p.failure for p in failed_pages}
    unread = [f"{d.original_name} ({d.state}: {why.get(d.id, '')})" for d in docs
              if d.state != "indexed"]
    assert states["indexed"] >= 60, states
    failed_docs = states["partly_read"] + states["ocr_failed"]
    fault_report(fault="whole test corpus, one batch", files=len(expected), lost=len(lost),
                 twice=len(docs) - len(stored), quarantined=len(quarantined),
                 failed_with_reason=failed_docs)
    NOTES.append(f"corpus batch: {len(expected)} files → {states['indexed']} indexed, "
                 f"{states['partly_read']} partly read, {states['ocr_failed']} OCR failed "
                 f"({len(failed_pages)} pages with a reason), {len(duplicates)} duplicates, "
                 f"{len(quarantined)} quarantined; {round(seconds)} s")
    NOTES.append("  quarantined: " + ", ".join(f"{k} ×{v}" for k, v in codes.most_common()))
    NOTES.append("  not fully read: " + (", ".join(unread) or "none"))
