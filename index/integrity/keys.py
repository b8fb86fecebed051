"""Which master keys wrap which data keys, and re-wrapping them in resumable batches."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document
from papervault.storage.crypto import WrappedKey


def key_usage(session: Session) -> dict[str, int]:
    """Data keys per master key id (originals and searchable PDFs)."""
    usage: dict[str, int] = {}
    for column in (Document.key_id, Document.searchable_key_id):
        for k, n in session.exec(select(column, func.count()).group_by(column)).all():
            if k:
                usage[str(k)] = usage.get(str(k), 0) + int(n)
    return usage


def rewrap_all(engine: Engine, target_key_id: str,
               rewrap: Callable[[WrappedKey, str], WrappedKey],
               batch: int = 200, progress: Callable[[int], None] | None = None,
               on_original: Callable[[Document, WrappedKey], None] | None = None) -> int:
    """Re-wrap every data key not yet under ``target_key_id``; safe to interrupt and rerun.

    ``on_original`` sees each captured original's new wrapping before the index commits it
    (to rewrite its recovery record): if it fails, the index still names the old key and a
    rerun repeats both."""
    done = 0
    while True:
        with session_scope(engine) as s:
            docs = s.exec(
                select(Document).where(or_(
                    col(Document.key_id) != target_key_id,
                    (col(Document.searchable_key_id).is_not(None))
                    & (col(Document.searchable_key_id) != target_key_id),
                    (col(Document.thumbs_key_id).is_not(None))
                    & (col(Document.thumbs_key_id) != target_key_id),
                )).order_by(col(Document.id)).limit(batch)
            ).all()
            if not docs:
                return done
            for d in docs:
                if d.key_id != target_key_id:
                    w = rewrap(WrappedKey(d.wrapped_key, d.key_id), d.object_name)
                    if on_original is not None and d.parent_id is None:
                        on_original(d, w)
                    d.wrapped_key, d.key_id = w.blob, w.key_id
                if (d.searchable_key_id and d.searchable_key_id != target_key_id
                        and d.searchable_wrapped_key and d.searchable_object_name):
                    w = rewrap(WrappedKey(d.searchable_wrapped_key, d.searchable_key_id),
                               d.searchable_object_name)
                    d.searchable_wrapped_key, d.searchable_key_id = w.blob, w.key_id
                if (d.thumbs_key_id and d.thumbs_key_id != target_key_id
                        and d.thumbs_wrapped_key and d.thumbs_object_name):
                    w = rewrap(WrappedKey(d.thumbs_wrapped_key, d.thumbs_key_id),
                               d.thumbs_object_name)
                    d.thumbs_wrapped_key, d.thumbs_key_id = w.blob, w.key_id
                s.add(d)
            done += len(docs)
        if progress is not None:
            progress(len(docs))
