"""Sealed objects in S3 that no document refers to.

Capture uploads before it commits the index row, so a crash (or a database outage) between
the two leaves an encrypted object nobody points at; the file itself is captured again, so
nothing is lost, but the stray copy costs space and, unlisted, would never be verified.
Only objects older than a grace period count: a capture in flight has not committed yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select

from papervault.index.catalog.models import Document, utcnow

BATCH = 500


@dataclass(frozen=True)
class Orphan:
    name: str
    modified: datetime | None
    size: int

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "modified": self.modified, "size": self.size}


def referenced(session: Session, names: list[str]) -> set[str]:
    rows = session.exec(select(Document.object_name, Document.searchable_object_name,
                               Document.thumbs_object_name).where(
        or_(col(Document.object_name).in_(names),
            col(Document.searchable_object_name).in_(names),
            col(Document.thumbs_object_name).in_(names)))).all()
    return {n for row in rows for n in row if n}


def find(session: Session, objects: Iterable[tuple[str, datetime | None, int]],
         grace: timedelta, now: datetime | None = None) -> Iterator[Orphan]:
    """The objects (from ``ObjectStore.list_objects``) older than ``grace`` with no document."""
    cutoff = (now or utcnow()) - grace
    batch: list[tuple[str, datetime | None, int]] = []

    def flush() -> Iterator[Orphan]:
        known = referenced(session, [n for n, _, _ in batch])
        for name, modified, size in batch:
            if name not in known and (modified is None or modified <= cutoff):
                yield Orphan(name, modified, size)
        batch.clear()

    for obj in objects:
        batch.append(obj)
        if len(batch) >= BATCH:
            yield from flush()
    yield from flush()
