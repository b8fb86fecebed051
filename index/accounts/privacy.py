"""PI minimisation (PIPL): national ID and bank card numbers in the stored search text keep
only their last 4 digits; a keyed hash of each full number stays findable.

A number counts only when its check digit holds (ID: ISO 7064 MOD 11-2; card: Luhn), so
policy numbers, dates and amounts are left alone. The key lives in a file beside the master
key, never in the database; without it the hashes cannot be tested against guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlalchemy import delete
from sqlmodel import Session, col, select

from papervault.index.catalog.models import Document, Page, PiDigest

P = TypeVar("P")
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_ID = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
                 r"(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])")
# UnionPay, Visa, Mastercard, Amex, JCB: 13–19 digits, optionally grouped by spaces/hyphens.
_CARD = re.compile(r"(?<![0-9A-Za-z])[3-6](?:[ -]?\d){12,18}(?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_ok(number: str) -> bool:
    """A mainland resident ID: 18 characters and a valid MOD 11-2 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    number: str  # digits only (an ID may end in X)
    kind: str    # "id" | "card"


def find_numbers(text: str) -> list[Found]:
    """Every valid ID and card number in ``text`` (full-width digits count too)."""
    ascii_text = text.translate(_FULLWIDTH)
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for m in _ID.finditer(ascii_text):
        if id_ok(m.group()):
            found.append(Found(m.start(), m.end(), m.group().upper(), "id"))
            taken.append(m.span())
    for m in _CARD.finditer(ascii_text):
        digits = re.sub(r"[ -]", "", m.group())
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(Found(m.start(), m.end(), digits, "card"))
    return sorted(found, key=lambda f: f.start)


def masked(number: str) -> str:
    return "*" * (len(number) - 4) + number[-4:]


def mask_text(text: str) -> tuple[str, list[str]]:
    """``text`` with each number masked to its last 4 digits, and the full numbers."""
    out: list[str] = []
    numbers: list[str] = []
    pos = 0
    for f in find_numbers(text):
        out.append(text[pos:f.start])
        out.append(masked(f.number))
        numbers.append(f.number)
        pos = f.end
    out.append(text[pos:])
    return "".join(out), numbers


def digest(key: bytes, number: str) -> str:
    return hmac.new(key, b"pi|" + number.upper().encode(), hashlib.sha256).hexdigest()


def mask_pages(pages: Iterable[P], key: bytes) -> tuple[list[P], set[str]]:
    """Pages (any dataclass with ``text``) masked, and the digests of what was masked."""
    out: list[P] = []
    digests: set[str] = set()
    for p in pages:
        text, numbers = mask_text(p.text)  # type: ignore[attr-defined]
        digests |= {digest(key, n) for n in numbers}
        out.append(replace(p, text=text) if numbers else p)  # type: ignore[type-var]
    return out, digests


def store_digests(session: Session, document_id: int, digests: Iterable[str]) -> None:
    """Replace the document's digests (OCR may run again)."""
    session.execute(delete(PiDigest).where(col(PiDigest.document_id) == document_id))
    for d in sorted(set(digests)):
        session.add(PiDigest(document_id=document_id, digest=d))


@dataclass(frozen=True)
class Rewritten:
    q: str                          # what the full-text search looks for
    audit_q: str                    # what the audit trail records: numbers masked
    doc_ids: tuple[int, ...] | None  # documents holding every full number asked, if any


def rewrite_query(session: Session, q: str, key: bytes | None) -> Rewritten:
    """Take full ID/card numbers out of ``q``: they are found through their hashes."""
    if key is None:
        return Rewritten(q, q, None)
    numbers = find_numbers(q)
    if not numbers:
        return Rewritten(q, q, None)
    ids: set[int] | None = None
    for f in numbers:
        rows = session.exec(select(PiDigest.document_id)
                            .where(PiDigest.digest == digest(key, f.number))).all()
        ids = set(rows) if ids is None else ids & set(rows)
    masked_q, _ = mask_text(q)
    rest = masked_q
    for f in numbers:
        rest = rest.replace(masked(f.number), " ")
    return Rewritten(" ".join(rest.split()), masked_q, tuple(sorted(ids or ())))


def mask_existing(session: Session, key: bytes, batch: int = 500) -> int:
    """Mask documents stored before masking was turned on; returns how many changed."""
    changed = 0
    last = 0
    while True:
        docs = session.exec(select(Document).where(col(Document.id) > last)
                            .order_by(col(Document.id)).limit(batch)).all()
        if not docs:
            return changed
        for doc in docs:
            assert doc.id is not None
            last = doc.id
            pages = list(session.exec(select(Page).where(Page.document_id == doc.id)))
            digests: set[str] = set()
            for page in pages:
                text, numbers = mask_text(page.text or "")
                if numbers:
                    page.text = text
                    session.add(page)
                    digests |= {digest(key, n) for n in numbers}
            text, numbers = mask_text(doc.text or "")
            digests |= {digest(key, n) for n in numbers}
            if numbers:
                doc.text = text
                session.add(doc)
            if digests:
                store_digests(session, doc.id, digests)
                changed += 1
        session.flush()
