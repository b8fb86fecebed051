"""Full-text search over OCR text and metadata, Chinese as a Chinese reader expects.

Design (the same on SQLite and PostgreSQL, so a query finds the same documents on both):

* Text is NFKC-folded (full-width ``ＫＨ－２０２４`` = ``KH-2024``) and lower-cased, then cut into
  tokens: every CJK character is a token of its own (unigram), every run of other letters and
  digits is one token. Hyphens, spaces and punctuation separate tokens, so ``KH-2024-000123``
  is the three adjacent tokens ``kh 2024 000123`` whether OCR read it with a space or not.
* A query word of n tokens must match as a phrase of n adjacent tokens; words are ANDed.
  ``保单`` is the phrase ``保 单``: two-character words hit (FTS5's trigram tokenizer cannot),
  and tesseract's habit of putting spaces between Hanzi does not matter.
* SQLite: an FTS5 table (``unicode61``) over the space-joined tokens, ranked by bm25.
  PostgreSQL: a ``tsvector`` built here as a literal (no parser in between), GIN-indexed,
  ranked by ``ts_rank``. bm25 weighs a phrase by reading every chunk it occurs in, so a query
  with an ID-like phrase (≥ 5 digits) and common words is ranked by the ID alone (SQLite).
* Documents are indexed in chunks of at most :data:`CHUNK_TOKENS` tokens, cut early before any
  token repeats :data:`MAX_REPEATS` times, overlapping by :data:`OVERLAP` tokens: PostgreSQL
  keeps at most 256 positions per lexeme and none past 16383, and chunks keep both limits far
  away, so long files behave on PostgreSQL exactly as on SQLite.
* Triggers (migration 0002) queue every changed document in ``search_dirty``;
  :func:`catch_up` re-indexes the queue before each search. Writers need not know about search.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from config.errors import BadInput

CJK = (
    "\u2e80-\u2fdf\u3005\u3007\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
TOKEN = re.compile(f"[{CJK}]|[^\\W_{CJK}]+")
CHUNK_TOKENS = 1000
MAX_REPEATS = 200
OVERLAP = 24
CHUNK_SHIFT = 12  # rowid = document_id << 12 | chunk_no
MAX_CHUNKS = 1 << CHUNK_SHIFT
PER_PAGE_MAX = 100
COUNT_CAP = 10_000  # beyond this the count shows "10000+": counting every hit costs time
RANK_LIMIT = 2_000  # more hits than this are listed newest first (bm25 costs ~3 µs a hit)
# Filters naming at most this many documents make SQLite start from them: ~40 µs a document
# against ~0.7 µs for every chunk holding the words (crossover ~1,500 documents at 100k).
DOC_FIRST_LIMIT = 1_000
# A common word under a broader filter (被保险人 in one month, ~0.8% of 1M documents): SQLite
# counts by reading at most this many of the word's chunks, newest first (~25 ms), and shows
# the count as "N+" when it stopped early; every hit is still reachable page by page.
COUNT_SCAN = 30_000
CATCH_UP_BATCH = 500
LINK_STATES = ("pending", "linked", "unlinked", "ambiguous")


def fold(s: str) -> str:
    """NFKC and lower case: the form both the index and queries are compared in."""
    return unicodedata.normalize("NFKC", s).lower()


def tokens(s: str) -> list[str]:
    """Index tokens of ``s``: single CJK characters and runs of other letters/digits."""
    return TOKEN.findall(fold(s))


# -- building the index ---------------------------------------------------------------------


def chunks(toks: Sequence[str]) -> list[list[str]]:
    """Cut a token stream into overlapping chunks within PostgreSQL's tsvector limits."""
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


def tsvector_literal(toks: Sequence[str]) -> str:
    """A PostgreSQL tsvector literal with 1-based positions (tokens never contain quotes)."""
    positions: dict[str, list[str]] = {}
    for i, t in enumerate(toks, start=1):
        positions.setdefault(t, []).append(str(i))
    return " ".join(f"'{t}':{','.join(p)}" for t, p in positions.items())


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


# -- queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """What a records officer asked for. Empty ``q`` lists by filters alone, newest first."""

    q: str = ""
    client_id: str | None = None
    record_no: str | None = None
    department: str | None = None
    doc_type: str | None = None
    link_state: str | None = None
    doc_from: date | None = None
    doc_to: date | None = None
    ingested_from: date | None = None
    ingested_to: date | None = None
    page: int = 1
    per_page: int = 20
    # Only these documents (a masked ID/card number found through its hash); None: any.
    doc_ids: tuple[int, ...] | None = None

    def filters(self) -> dict[str, object]:
        """The filters that are set, for the audit trail and for links."""
        return {k: v for k, v in self.__dict__.items()
                if k not in ("q", "page", "per_page", "doc_ids") and v not in (None, "")}


Segment = tuple[str, bool]  # (text, is_hit)


@dataclass(frozen=True)
class Hit:
    """One found document, with a highlighted snippet of where it matched."""

    document_id: int
    score: float
    original_name: str
    client_id: str | None
    record_no: str | None
    department: str | None
    doc_type: str | None
    doc_date: date | None
    ingested_at: datetime
    link_state: str
    page_count: int | None
    page_no: int | None
    snippet: tuple[Segment, ...] = field(default=())

    def snippet_text(self, mark: tuple[str, str] = ("[", "]")) -> str:
        return "".join(f"{mark[0]}{s}{mark[1]}" if hit else s for s, hit in self.snippet)


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    total_capped: bool
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def parse_query(q: str) -> list[list[str]]:
    """Query words as token phrases: whitespace separates words, "quotes" keep a phrase."""
    folded = fold(q).replace("\u201c", '"').replace("\u201d", '"')
    groups: list[list[str]] = []
    for i, part in enumerate(folded.split('"')):
        words = [part] if i % 2 else part.split()
        groups.extend(t for t in (tokens(w) for w in words) if t)
    return groups


def fts5_match(groups: list[list[str]]) -> str:
    """FTS5 MATCH string: each group a quoted phrase, implicitly ANDed."""
    return " ".join('"' + " ".join(g) + '"' for g in groups)


def tsquery_literal(groups: list[list[str]]) -> str:
    """PostgreSQL tsquery literal: adjacent-token phrases (``<->``) joined by ``&``."""
    return " & ".join("(" + " <-> ".join(f"'{t}'" for t in g) + ")" for g in groups)


def _where(query: SearchQuery) -> tuple[list[str], dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    for name in ("client_id", "record_no", "department", "doc_type", "link_state"):
        value = getattr(query, name)
        if value:
            clauses.append(f"d.{name} = :{name}")
            params[name] = value.strip()
    for name, column, op in (("doc_from", "doc_date", ">="), ("doc_to", "doc_date", "<="),
                             ("ingested_from", "ingested_at", ">="),
                             ("ingested_to", "ingested_at", "<")):
        value = getattr(query, name)
        if value is None:
            continue
        if name == "ingested_to":  # the whole last day counts
            value = date.fromordinal(value.toordinal() + 1)
        clauses.append(f"d.{column} {op} :{name}")
        params[name] = value
    if query.doc_ids is not None:  # ints only: safe to inline
        ids = ",".join(str(int(i)) for i in query.doc_ids)
        clauses.append(f"d.id IN ({ids})" if ids else "1 = 0")
    return clauses, params


def validate(query: SearchQuery) -> None:
    if query.page < 1 or not 1 <= query.per_page <= PER_PAGE_MAX:
        raise BadInput(detail=f"page ≥ 1, 1 ≤ per_page ≤ {PER_PAGE_MAX}")
    if query.link_state and query.link_state not in LINK_STATES:
        raise BadInput(detail=f"link_state: {' | '.join(LINK_STATES)}")
    for lo, hi in ((query.doc_from, query.doc_to), (query.ingested_from, query.ingested_to)):
        if lo and hi and lo > hi:
            raise BadInput(detail=f"{lo} > {hi}")


def search(session: Session, query: SearchQuery) -> SearchResult:
    """Run ``query``: filtered, paginated, with snippets.

    Ranked by relevance (bm25 / ts_rank) when at most :data:`RANK_LIMIT` documents match;
    beyond that (``保`` in an insurer's archive) newest first, because ranking every one of a
    million hits costs seconds and tells the reader little.
    """
    validate(query)
    catch_up(session)
    groups = parse_query(query.q)
    filters, params = _where(query)
    # A client ID or 档号 filter names a few documents, and so may a department, type or
    # date: SQLite must start from them, not from every chunk holding the words (348 ms for
    # 理赔 + a client, 373 ms for 被保险人 + a department and type, at 100k documents).
    by_doc = bool(groups) and is_sqlite(session) and bool(filters) and (
        bool(query.client_id or query.record_no) or _few_documents(session, filters, params))
    body = _body(session, groups, filters, params, by_doc=by_doc)
    if groups and filters and not by_doc and is_sqlite(session):
        total, exact = _count_scanned(session, filters, params)
    else:
        total, exact = _count(session, body, bool(groups) and not filters, params), True
    # Those few hits are listed newest first: bm25 would read every chunk in the archive
    # holding the words to weigh them.
    ranked = exact and total <= RANK_LIMIT and not by_doc
    rank_by = rank_groups(groups) if ranked and is_sqlite(session) else groups
    if rank_by != groups:
        # bm25 weighs each phrase by reading every chunk it occurs in: 150 ms for 理赔 in
        # 1M documents, for a query whose hits all hold one rare ID. The ID drives the
        # match; the whole query only filters its few chunks; bm25 sees the ID alone.
        params["rank_match"] = fts5_match(rank_by)
        body = _body(session, groups, filters, params, rank_match=True)
    order, score = _order(session, groups, ranked=ranked)
    want = query.page * query.per_page
    fetch = want * 2 + 20
    while True:  # a long document has several chunks: fetch until enough distinct documents
        rows = session.execute(text(f"SELECT d.id AS id, {score} AS score {body} "
                                    f"ORDER BY {order} LIMIT {fetch}"), params).all()
        best: dict[int, float] = {}
        for r in rows:
            best.setdefault(r.id, float(r.score))
        if len(best) >= want or len(rows) < fetch:
            break
        fetch *= 4
    page = list(best.items())[want - query.per_page: want]
    if exact:
        shown, capped = min(total, COUNT_CAP), total > COUNT_CAP
    else:  # at least what the scan counted, and at least one more than this page if any
        more = len(best) > want or len(rows) == fetch
        upto = want - query.per_page + len(page)
        shown, capped = max(total, upto + int(more)), more
    return SearchResult(hits=_hits(session, page, groups), total=shown, total_capped=capped,
                        page=query.page, per_page=query.per_page)


def documents_with(session: Session, phrase: str, limit: int = COUNT_CAP) -> list[int]:
    """Documents whose indexed text or metadata holds ``phrase`` (as a search would find it)."""
    catch_up(session)
    groups = parse_query(f'"{phrase}"')
    if not groups:
        return []
    if is_sqlite(session):
        sql = (f"SELECT DISTINCT rowid >> {CHUNK_SHIFT} FROM search_chunk "
               f"WHERE search_chunk MATCH :m LIMIT {limit}")
        params = {"m": fts5_match(groups)}
    else:
        sql = ("SELECT DISTINCT document_id FROM search_chunk c "
               f"WHERE c.tsv @@ CAST(:m AS tsquery) LIMIT {limit}")
        params = {"m": tsquery_literal(groups)}
    return [int(r[0]) for r in session.execute(text(sql), params)]


def _few_documents(session: Session, filters: list[str], params: dict[str, object]) -> bool:
    """Whether the filters alone name at most :data:`DOC_FIRST_LIMIT` documents (read
    through the filter columns' indexes, stopping one past the limit)."""
    n = session.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM document d WHERE {' AND '.join(filters)} "
        f"LIMIT {DOC_FIRST_LIMIT + 1}) m"), params).scalar_one()
    return int(n) <= DOC_FIRST_LIMIT


def is_selective(group: list[str]) -> bool:
    """A phrase with a run of ≥ 5 digits: a client ID, 档号, policy or phone number."""
    return any(sum(ch.isdigit() for ch in t) >= 5 for t in group)


def rank_groups(groups: list[list[str]]) -> list[list[str]]:
    """The phrases to rank by: the ID-like ones when the query also has common words."""
    rare = [g for g in groups if is_selective(g)]
    return rare if rare and len(rare) < len(groups) else groups


def _body(session: Session, groups: list[list[str]], filters: list[str],
          params: dict[str, object], rank_match: bool = False, by_doc: bool = False) -> str:
    """FROM … WHERE … of the query (SQLite options: ``rank_match``: MATCH ``:rank_match``,
    the whole query only filters the chunks it finds; ``by_doc``: documents first, then
    each one's chunks by rowid range)."""
    clauses = list(filters)
    if groups:
        clauses.insert(0, _match_clause(session, groups, params))
        if rank_match:
            clauses[0] = ("search_chunk MATCH :rank_match AND c.rowid IN (SELECT rowid "
                          "FROM search_chunk WHERE search_chunk MATCH :match)")
        if by_doc:  # CROSS JOIN: SQLite keeps this join order
            from_sql = (f"document d CROSS JOIN search_chunk c ON c.rowid >= (d.id << "
                        f"{CHUNK_SHIFT}) AND c.rowid < ((d.id + 1) << {CHUNK_SHIFT})")
        else:
            from_sql = ("search_chunk c JOIN document d ON d.id = "
                        + (f"(c.rowid >> {CHUNK_SHIFT})" if is_sqlite(session)
                           else "c.document_id"))
    else:
        from_sql = "document d"
    return f"FROM {from_sql}" + ((" WHERE " + " AND ".join(clauses)) if clauses else "")


def _count(session: Session, body: str, match_only: bool, params: dict[str, object]) -> int:
    """Matching documents, counted up to COUNT_CAP + 1 (stops reading there)."""
    if match_only:  # no filters: the text index alone answers, without touching documents
        if is_sqlite(session):
            inner = (f"SELECT rowid >> {CHUNK_SHIFT} AS id FROM search_chunk "
                     "WHERE search_chunk MATCH :match")
        else:
            inner = ("SELECT document_id AS id FROM search_chunk c "
                     "WHERE c.tsv @@ CAST(:tsq AS tsquery)")
    else:
        inner = f"SELECT d.id AS id {body}"
    return int(session.execute(text(
        f"SELECT count(DISTINCT id) FROM ({inner} LIMIT {COUNT_CAP + 1}) m"), params).scalar_one())


def _count_scanned(session: Session, filters: list[str],
                   params: dict[str, object]) -> tuple[int, bool]:
    """Filtered matches among the newest :data:`COUNT_SCAN` chunks holding the words, and
    whether that is the whole count (the scan did not stop early, or the cap was reached)."""
    n, scanned = session.execute(text(
        f"SELECT count(DISTINCT CASE WHEN {' AND '.join(filters)} THEN d.id END), count(*) "
        "FROM (SELECT rowid AS rid FROM search_chunk WHERE search_chunk MATCH :match "
        f"ORDER BY rowid DESC LIMIT {COUNT_SCAN + 1}) s "
        f"JOIN document d ON d.id = (s.rid >> {CHUNK_SHIFT})"), params).one()
    return int(n), int(scanned) <= COUNT_SCAN or int(n) > COUNT_CAP


def _match_clause(session: Session, groups: list[list[str]], params: dict[str, object]) -> str:
    if is_sqlite(session):
        params["match"] = fts5_match(groups)
        return "search_chunk MATCH :match"
    params["tsq"] = tsquery_literal(groups)
    return "c.tsv @@ CAST(:tsq AS tsquery)"


def _order(session: Session, groups: list[list[str]], ranked: bool) -> tuple[str, str]:
    """ORDER BY and score expressions; ties and unranked results go newest first."""
    if not groups:
        return "d.ingested_at DESC, d.id DESC", "0.0"  # filters only: newest first
    sqlite = is_sqlite(session)
    rid = "c.rowid" if sqlite else "c.rid"
    if not ranked:
        return f"{rid} DESC", "0.0"
    if sqlite:
        # bm25 is lower-is-better; negated, "score" reads the same way as ts_rank.
        return f"c.rank, {rid} DESC", "-c.rank"
    return f"score DESC, {rid} DESC", "ts_rank(c.tsv, CAST(:tsq AS tsquery))"


def _hits(session: Session, ranked: list[tuple[int, float]],
          groups: list[list[str]]) -> list[Hit]:
    from index.models import Document

    # One query for the page, not one per hit: 20 ORM gets cost ~10 ms, most of a search.
    ids = [doc_id for doc_id, _ in ranked]
    docs = {d.id: d for d in session.exec(select(Document).where(col(Document.id).in_(ids)))}
    out: list[Hit] = []
    for doc_id, score in ranked:
        d = docs.get(doc_id)
        if d is None:
            continue
        page_no, snip = snippet(d.text, groups)
        out.append(Hit(
            document_id=doc_id, score=round(score, 6), original_name=d.original_name,
            client_id=d.client_id, record_no=d.record_no, department=d.department,
            doc_type=d.doc_type, doc_date=d.doc_date, ingested_at=d.ingested_at,
            link_state=d.link_state, page_count=d.page_count, page_no=page_no, snippet=snip))
    return out


# -- snippets -------------------------------------------------------------------------------


def phrase_pattern(group: list[str]) -> re.Pattern[str]:
    """A regex finding a token phrase in NFKC text, across OCR's spaces and hyphens."""
    return re.compile(r"[\W_]*".join(re.escape(t) for t in group), re.IGNORECASE)


def snippet(body: str, groups: list[list[str]], width: int = 60) -> tuple[int | None,
                                                                           tuple[Segment, ...]]:
    """The page number and a window of text around the first hit, hits marked."""
    shown = unicodedata.normalize("NFKC", body)
    spans = sorted(
        (m.start(), m.end()) for g in groups for m in phrase_pattern(g).finditer(shown)
    )
    if not spans:
        flat = " ".join(shown.split())
        return None, ((flat[: width * 2] + ("…" if len(flat) > width * 2 else ""), False),)
    first = spans[0][0]
    lo, hi = max(0, first - width), min(len(shown), first + width)
    page_no = shown.count("\f", 0, first) + 1
    segments: list[Segment] = [("…", False)] if lo > 0 else []
    pos = lo
    for s, e in spans:
        if s < pos or s >= hi:
            continue
        segments.append((_flat(shown[pos:s]), False))
        segments.append((_flat(shown[s:e]), True))
        pos = e
    segments.append((_flat(shown[pos:hi]), False))
    if hi < len(shown):
        segments.append(("…", False))
    return page_no, tuple(s for s in segments if s[0])


def _flat(s: str) -> str:
    return re.sub(r"\s+", " ", s)
