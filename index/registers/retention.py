"""保管期限 → how long an original must stay under retention.

The register's 保管期限 column says 永久 (permanent), 长期/短期 (the older scheme) or a number
of years (10年, 30年 …, DA/T 22). Permanent records go under a legal hold (no date);
otherwise the term runs from the end of the record's year (or a contract end, when the
register gives one). With no usable term, the default for the record's kind applies:
Insurance Law art. 87 keeps policy files at least 5 years after a contract of one year or
less ends, at least 10 years after a longer one; both are settings for the office to raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from papervault.config.settings import RetentionSettings
from papervault.index.catalog.models import Document, PaperRecord
from papervault.index.text import fold_cell

PERMANENT = ("永久",)
OLD_TERMS = {"长期": 30, "短期": 10}  # the scheme before DA/T 22-2015


@dataclass(frozen=True)
class Defaults:
    """Years after the start when the register gives no term (or a shorter one)."""

    short_term_years: int = 5  # contracts of one year or less (art. 87)
    long_term_years: int = 10  # longer contracts (art. 87)
    short_types: frozenset[str] = frozenset()
    type_years: tuple[tuple[str, int], ...] = ()

    def years_for(self, kind: str | None) -> int:
        """The default for a document type; an unknown type gets the long term."""
        named = dict(self.type_years).get(kind or "")
        if named is not None:
            return named
        return self.short_term_years if kind in self.short_types else self.long_term_years


def defaults_from(cfg: RetentionSettings) -> Defaults:
    return Defaults(cfg.short_term_years, cfg.long_term_years, frozenset(cfg.short_types),
                    tuple(sorted(cfg.type_years.items())))


@dataclass(frozen=True)
class Retain:
    until: datetime | None  # None with hold=True: 永久
    hold: bool
    why: str


def years_of(term: str | None) -> int | None | bool:
    """Years in a 保管期限 cell, True for 永久, None when it says nothing usable."""
    if not term:
        return None
    t = fold_cell(term).strip()
    if any(p in t for p in PERMANENT):
        return True
    if t in OLD_TERMS:
        return OLD_TERMS[t]
    m = re.fullmatch(r"(\d{1,3})\s*(?:年|years?|y)?", t, re.IGNORECASE)
    return int(m.group(1)) if m else None


def retain_until(term: str | None, year: int | None, contract_end: date | None = None,
                 kind: str | None = None, defaults: Defaults = Defaults(),
                 today: date | None = None) -> Retain:
    """When an original of this record may be disposed of: its 保管期限 or its type's
    default, whichever is longer, from the contract end (else the end of the record's
    year, else ``today``)."""
    n = years_of(term)
    if n is True:
        return Retain(None, True, "永久 / permanent: legal hold")
    start = contract_end or (date(year, 12, 31) if year else (today or date.today()))
    floor = defaults.years_for(kind)
    if isinstance(n, int) and n >= floor:
        why = f"保管期限 {term}"
    else:
        shorter = f"保管期限 {term} < " if isinstance(n, int) else ""
        n = floor
        why = f"{shorter}default {n} years for {kind or 'any type'} (Insurance Law art. 87)"
    why += f", from {'contract end ' if contract_end else ''}{start.isoformat()}"
    try:
        end = start.replace(year=start.year + n)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + n, day=28)
    return Retain(datetime(end.year, end.month, end.day, tzinfo=UTC), False, why)


def for_document(session: Session, doc: Document, defaults: Defaults,
                 lock_default: datetime | None = None) -> Retain:
    """What a stored original must be kept for: its record's term (or the default for its
    type), and never less than the lock it was stored under (``lock_default``)."""
    rec = session.get(PaperRecord, doc.record_no) if doc.record_no else None
    kind = doc.doc_type
    if rec is None and lock_default is not None:
        # Not linked to a record: its term is unknown, and it may be a mis-scan (removable
        # under GOVERNANCE, under COMPLIANCE not before the date): the lock it was stored
        # under stands until a link names its record.
        return Retain(lock_default, False, "not linked to a paper record: its first lock")
    if rec is not None:
        got = retain_until(rec.retention, rec.year, rec.contract_end, kind, defaults)
    else:  # no lock to go by: the default for its type, from the day it was scanned
        got = retain_until(None, None, None, kind, defaults, today=doc.ingested_at.date())
    if got.until is not None and lock_default is not None and lock_default > got.until:
        return Retain(lock_default, False, got.why + "; the lock it was stored under is later")
    return got
