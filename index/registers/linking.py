"""Find client IDs and 档号 in file names, folder names, barcodes and OCR text, and decide
the link. Pure functions: the register look-ups are passed in.

Chinese text has no word boundaries, so patterns are matched anywhere (``保单号ABC123号``)
after folding full-width forms; then only IDs that exist in the registers count.
One registered 档号 decides the link (record first); without one a document is linked only
when exactly one client results; otherwise it waits for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from papervault.index.text import fold_id


@dataclass(frozen=True)
class Found:
    value: str
    source: str  # barcode | filename | folder | text


@dataclass(frozen=True)
class LinkDecision:
    state: str  # linked | unlinked | ambiguous
    client_id: str | None
    record_no: str | None
    source: str | None
    candidates: tuple[str, ...]
    # Registered clients named on the document besides the one it is linked to (投保人,
    # 被保险人, 受益人 …): kept as mentioned parties, so the client filter finds them too.
    parties: tuple[str, ...] = ()
    # Registered 档号 found on a document left for review: its scan exists, unconfirmed.
    records_seen: tuple[str, ...] = ()

    def apply_to(self, doc: Any) -> None:
        """Set a document's link to this decision."""
        doc.link_state, doc.client_id = self.state, self.client_id
        doc.record_no, doc.link_source = self.record_no, self.source

    @property
    def candidate_text(self) -> str:
        """The candidates as the document keeps them (for review)."""
        return " ".join(self.candidates)[:2048]


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


def find_ids(sources: dict[str, str], patterns: list[re.Pattern[str]]) -> list[Found]:
    """Every pattern match in every source text, folded, in source order, de-duplicated."""
    seen: set[tuple[str, str]] = set()
    found: list[Found] = []
    for source, raw in sources.items():
        text = fold_id(raw)
        # OCR often splits an ID across a space or a line break; also try without them.
        for candidate_text in (text, re.sub(r"\s+", "", text)):
            for pat in patterns:
                for m in pat.finditer(candidate_text):
                    key = (m.group(0), source)
                    if key not in seen:
                        seen.add(key)
                        found.append(Found(m.group(0), source))
    return found


def decide_document(
    original_name: str, source_folder: str, text: str,
    client_patterns: list[re.Pattern[str]], record_patterns: list[re.Pattern[str]],
    client_exists: Callable[[str], str | None],
    record_client: Callable[[str], str | None | bool],
) -> LinkDecision:
    """The decision for one document from its file name, folder name and text."""
    sources = {"filename": original_name, "folder": source_folder, "text": text}
    return decide(find_ids(sources, client_patterns), find_ids(sources, record_patterns),
                  client_exists, record_client)


def decide(
    client_hits: list[Found],
    record_hits: list[Found],
    client_exists: Callable[[str], str | None],
    record_client: Callable[[str], str | None | bool],
) -> LinkDecision:
    """Record first: one registered 档号 links its record and the record's client; never guess.

    An insurance form names several parties, all of whom may be registered clients, but a
    paper file has one 档号 and the register says whose file it is. So one registered 档号
    decides, and the other registered clients become mentioned parties. Without one, the
    document links only when the IDs found point at exactly one client; two different
    registered 档号 go to review.

    ``client_exists`` maps an ID or policy number to its client ID (None if unknown);
    ``record_client`` maps a 档号 to its client ID, ``True`` for a known record with no
    client, or None if the 档号 is not registered.
    """
    clients: dict[str, str] = {}
    records: dict[str, str] = {}
    owners: dict[str, str | None] = {}
    for hit in client_hits:
        cid = client_exists(hit.value)
        if cid is not None:
            clients.setdefault(cid, hit.source)
    for hit in record_hits:
        owner = record_client(hit.value)
        if owner is None:
            continue
        records.setdefault(hit.value, hit.source)
        owners.setdefault(hit.value, owner if isinstance(owner, str) else None)
    every = tuple(sorted(set(clients) | {o for o in owners.values() if o}))
    candidates = every + tuple(sorted(records))
    if len(records) == 1:
        rec, source = next(iter(records.items()))
        owner = owners[rec]
        if owner is None and len(clients) == 1:  # a record the register gives no client
            owner = next(iter(clients))
        parties = tuple(c for c in every if c != owner)
        return LinkDecision("linked", owner, rec, source, candidates, parties)
    if not records and len(clients) == 1:
        cid, source = next(iter(clients.items()))
        return LinkDecision("linked", cid, None, source, candidates)
    state = "unlinked" if not clients and not records else "ambiguous"
    return LinkDecision(state, None, None, None, candidates, every, tuple(sorted(records)))
