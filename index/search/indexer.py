"""The search index: how text becomes tokens and chunks, and how the index follows the
documents (the query side is :mod:`index.search`).

* Text is NFKC-folded (full-width ``ＫＨ－２０２４`` = ``KH-2024``) and lower-cased, then cut into
  tokens: every CJK character is a token of its own (unigram), every run of other letters and
  digits is one token. Hyphens, spaces and punctuation separate tokens, so ``KH-2024-000123``
  is the three adjacent tokens ``kh 2024 000123`` whether OCR read it with a space or not.
* SQLite: an FTS5 table (``unicode61``) over the space-joined tokens. PostgreSQL: a
  ``tsvector`` built here as a literal (no parser in between), GIN-indexed, holding beside
  each token every pair of adjacent CJK tokens (a bigram, at the position of its first
  character; migration 0014). GIN keeps no positions, so a phrase ``保单`` over unigrams
  is a re-check of every row holding both 保 and 单 (nearly all of an insurer's archive);
  the bigram ``保单`` is one exact posting list (:func:`query_lexemes`).
* Documents are indexed in chunks of at most :data:`CHUNK_TOKENS` tokens, cut early before any
  token repeats :data:`MAX_REPEATS` times, overlapping by :data:`OVERLAP` tokens: PostgreSQL
  keeps at most 256 positions per lexeme and none past 16383, and chunks keep both limits far
  away, so long files behave on PostgreSQL exactly as on SQLite.
* Triggers (migrations 0002, 0007) queue every changed document in ``search_dirty``;
  :func:`catch_up` re-indexes the queue before each search. Writers need not know about search.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from papervault.index.text import CJK_LETTERS, fold_search

TOKEN = re.compile(f"[{CJK_LETTERS}]|[^\\W_{CJK_LETTERS}]+")
CJK_TOKEN = re.compile(f"[{CJK_LETTERS}]")
CHUNK_TOKENS = 1000
MAX_REPEATS = 200
OVERLAP = 24
CHUNK_SHIFT = 12  # rowid = document_id << 12 | chunk_no
MAX_CHUNKS = 1 << CHUNK_SHIFT
CATCH_UP_BATCH = 500
# PostgreSQL refuses a lexeme over 2046 bytes, and one such row failed every later search
# (H3). Longer runs are cut into pieces of this many characters (at most 4 bytes each), on
# both back-ends and in queries alike, so such a word is still found as a phrase.
MAX_TOKEN_CHARS = 500


def tokens(s: str) -> list[str]:
    """Index tokens of ``s``: single CJK characters and runs of other letters/digits, runs
    longer than :data:`MAX_TOKEN_CHARS` cut into adjacent pieces."""
    out: list[str] = []
    for t in TOKEN.findall(fold_search(s)):
        if len(t) <= MAX_TOKEN_CHARS:
            out.append(t)
        else:
            out.extend(t[i:i + MAX_TOKEN_CHARS] for i in range(0, len(t), MAX_TOKEN_CHARS))
    return out


# -- building the index ---------------------------------------------------------------------


def chunks(toks: Sequence[str]) -> list[list[str]]:
    """Cut a token stream into overlapping chunks within PostgreSQL's tsvector limits."""
    if len(toks) <= CHUNK_TOKENS and (not toks or max(Counter(toks).values()) <= MAX_REPEATS):
        return [list(toks)] if toks else []  # most documents: one chunk, found in one pass
    out: list[list[str]] = []
    start = 0
    while start < len(toks) and len(out) < MAX_CHUNKS:
        seen: dict[str, int] = {}
        end = start
        while end < len(toks) and end - start < CHUNK_TOKENS:
            n = seen.get(toks[end], 0) + 1
            if n > MAX_REPEATS:
                break
            seen[toks[end]] = n
            end += 1
        out.append(list(toks[start:end]))
        if end >= len(toks):
            break
        start = max(end - OVERLAP, start + 1)
    return out


def document_tokens(row: Any) -> list[str]:
    """Tokens a document is found by: metadata first, then its OCR text. A batch split at
    its cover sheets has none: its parts are what is found."""
    if getattr(row, "link_state", None) == "split":
        return []
    meta = " ".join(
        str(v) for v in (row.client_id, row.record_no, row.department, row.doc_type,
                         row.original_name) if v
    )
    return tokens(meta) + tokens(row.text)


_CJK_SEEN: dict[str, bool] = {}  # token -> is_cjk: indexing asks this for every token


def is_cjk(token: str) -> bool:
    """A CJK character token (every other token is a run of letters or digits, never CJK)."""
    known = _CJK_SEEN.get(token)
    if known is None:
        known = CJK_TOKEN.fullmatch(token) is not None
        if len(_CJK_SEEN) < 100_000:
            _CJK_SEEN[token] = known
    return known


def tsvector_literal(toks: Sequence[str]) -> str:
    """A PostgreSQL tsvector literal with 1-based positions (tokens never contain quotes):
    every token, and every two adjacent CJK tokens as one bigram lexeme at the first one's
    position. A bigram cannot equal a token: tokens are one CJK character or hold none."""
    positions: dict[str, list[int]] = {}
    for i, t in enumerate(toks, start=1):
        positions.setdefault(t, []).append(i)
    cjk = [is_cjk(t) for t in toks]
    for i in range(1, len(toks)):
        if cjk[i] and cjk[i - 1]:
            positions.setdefault(toks[i - 1] + toks[i], []).append(i)
    return " ".join(f"'{t}':{','.join(map(str, p))}" for t, p in positions.items())


def query_lexemes(group: Sequence[str]) -> list[tuple[int, str]]:
    """The lexemes a token phrase is looked up by on PostgreSQL, with their offsets in the
    phrase: each run of ≥ 2 CJK tokens covered by bigrams (at offsets 0, 2, 4…, the last
    one overlapping when the run is odd), any other token as itself. The bigrams at their
    offsets hold every character at its own, so the match is exactly the token phrase."""
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(group):
        j = i
        while j < len(group) and is_cjk(group[j]):
            j += 1
        if j - i < 2:
            out.append((i, group[i]))
            i += 1
            continue
        starts = list(range(i, j - 1, 2))
        if starts[-1] != j - 2:
            starts.append(j - 2)
        out.extend((k, group[k] + group[k + 1]) for k in starts)
        i = j
    return out


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def catch_up(session: Session, limit: int | None = None) -> int:
    """Re-index documents queued by the triggers; returns how many were processed."""
    done = 0
    while limit is None or done < limit:
        # A cheap read first: taking SQLite's write lock on every search would queue
        # searches behind the OCR worker's writes.
        if session.execute(text("SELECT 1 FROM search_dirty LIMIT 1")).first() is None:
            break
        ids = _claim_dirty(session, CATCH_UP_BATCH)
        if not ids:
            break
        _reindex(session, ids)
        session.commit()
        done += len(ids)
    return done


def _claim_dirty(session: Session, n: int) -> list[int]:
    # Deleting first takes the write lock (SQLite) or row locks (PostgreSQL) before the
    # documents are read, so an update racing with us re-queues its document.
    lock = "" if is_sqlite(session) else " FOR UPDATE SKIP LOCKED"
    rows = session.execute(text(
        "DELETE FROM search_dirty WHERE document_id IN (SELECT document_id FROM search_dirty "
        f"ORDER BY document_id LIMIT :n{lock}) RETURNING document_id"), {"n": n})
    return [r[0] for r in rows]


def _reindex(session: Session, ids: list[int]) -> None:
    params = {f"i{k}": v for k, v in enumerate(ids)}
    in_list = ", ".join(f":i{k}" for k in range(len(ids)))
    docs = session.execute(text(
        "SELECT id, text, original_name, client_id, record_no, department, doc_type, "
        "link_state "
        f"FROM document WHERE id IN ({in_list})"), params).all()
    sqlite = is_sqlite(session)
    for doc_id in ids:
        lo, hi = doc_id << CHUNK_SHIFT, (doc_id + 1) << CHUNK_SHIFT
        table_key = "rowid" if sqlite else "rid"
        session.execute(text(
            f"DELETE FROM search_chunk WHERE {table_key} >= :lo AND {table_key} < :hi"),
            {"lo": lo, "hi": hi})
    write_chunks(session, ((d.id, document_tokens(d)) for d in docs), sqlite)


def write_chunks(session: Session, docs: Iterable[tuple[int, list[str]]], sqlite: bool) -> None:
    """Insert the chunk rows of already-tokenised documents (bulk, used by catch-up and bench)."""
    rows: list[dict[str, object]] = []
    for doc_id, toks in docs:
        for n, chunk in enumerate(chunks(toks)):
            rid = (doc_id << CHUNK_SHIFT) | n
            if sqlite:
                rows.append({"rid": rid, "body": " ".join(chunk)})
            else:
                rows.append({"rid": rid, "doc": doc_id, "tsv": tsvector_literal(chunk)})
    if not rows:
        return
    if sqlite:
        stmt = "INSERT INTO search_chunk (rowid, body) VALUES (:rid, :body)"
    else:
        stmt = ("INSERT INTO search_chunk (rid, document_id, tsv) "
                "VALUES (:rid, :doc, CAST(:tsv AS tsvector))")
    session.execute(text(stmt), rows)
