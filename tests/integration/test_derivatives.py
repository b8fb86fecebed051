"""Verify covers the searchable PDFs too, and a broken download never answers 200 (M3)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import AuditEntry, Document, Verification
from papervault.index.integrity import verification
from papervault.index.web.app import create_app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import Runtime, open_runtime
from papervault.ingest.worker import Worker, clean_private_dir, make_pool
from tests.factories import form_lines, write_form

pytestmark = pytest.mark.slow


def _drain(rt: Runtime) -> None:
    cfg = rt.worker_config()
    clean_private_dir(cfg.private_dir)
    with make_pool(cfg) as pool:
        w = Worker(rt.engine, rt.store, cfg, pool)
        while w.run_once():
            pass


def _searchable(rt: Runtime, doc_id: int) -> str:
    with Session(rt.engine) as db:
        doc = db.get(Document, doc_id)
        assert doc is not None and doc.state == "indexed" and doc.searchable_object_name
        return doc.searchable_object_name


def test_broken_searchable_pdfs_are_reported_rebuilt_and_never_served_empty(
        instance: Callable[..., Settings]) -> None:
    """GIVEN two OCR'd documents, one searchable PDF deleted and the other cut to 100 bytes
    WHEN verify runs, and someone downloads them
    THEN verify reports both and queues OCR, which rebuilds them from the originals; the
    downloads fail with an error (audited as failed) instead of 200 and an empty body."""
    s = instance()
    rt = open_runtime(s)
    ids = []
    for i in (1, 2):
        out = capture(write_form(s.inbox / f"f{i}.png", form_lines(name=f"客户{i}"), dpi=150),
                      rt.capture_context())
        assert isinstance(out, Stored)
        ids.append(out.document_id)
    _drain(rt)
    gone, cut = (_searchable(rt, i) for i in ids)
    rt.store.delete(gone)
    raw = rt.store.raw_bytes(cut)[:100]
    rt.store.client.put_object(bucket_name=rt.store.bucket, object_name=cut,
                               data=io.BytesIO(raw), length=len(raw))

    result = verification.run(rt.engine, rt.store, verification.select_ids(
        rt.engine, verification.Selection()))
    assert (result.checked, result.ok, result.failed) == (2, 2, [])  # the originals are fine
    assert sorted(result.searchable_regenerating) == sorted(ids)
    with Session(rt.engine) as db:
        bad = db.exec(select(Verification).where(col(Verification.ok).is_(False))).all()
        assert {v.object_name for v in bad} == {gone, cut}

    with TestClient(create_app(s)) as web:
        for doc_id in ids:
            r = web.get(f"/api/documents/{doc_id}/searchable")
            assert r.status_code >= 500 and r.content, r.status_code
        assert web.get(f"/api/documents/{ids[0]}/original").status_code == 200
    with Session(rt.engine) as db:
        actions = [a.action for a in db.exec(select(AuditEntry))]
    assert actions.count("download.failed") == 2 and actions.count("download") == 1

    _drain(rt)  # the queued OCR jobs rebuild both from the originals
    for doc_id, old in zip(ids, (gone, cut), strict=True):
        assert _searchable(rt, doc_id) != old
    again = verification.run(rt.engine, rt.store, verification.select_ids(
        rt.engine, verification.Selection()))
    assert (again.ok, again.searchable_regenerating) == (2, [])
    with TestClient(create_app(s)) as web:
        r = web.get(f"/api/documents/{ids[1]}/searchable")
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
