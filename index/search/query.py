"""Full-text search over OCR text and metadata, Chinese as a Chinese reader expects.

The same on SQLite and PostgreSQL, so a query finds the same documents on both; how text
becomes tokens and how the index follows the documents is :mod:`index.search_index`.

* A query word of n tokens must match as a phrase of n adjacent tokens; words are ANDed.
  ``保单`` is the phrase ``保 单``: two-character words hit (FTS5's trigram tokenizer cannot),
  and tesseract's habit of putting spaces between Hanzi does not matter.
* Ranked by bm25 (SQLite FTS5) or ``ts_rank`` (PostgreSQL). bm25 weighs a phrase by reading
  every chunk it occurs in, so a query with an ID-like phrase (≥ 5 digits) and common words
  is ranked by the ID alone (SQLite).
* Filters that name few documents make SQLite start from them; a common word under a broad
  filter is counted over its newest chunks only (:data:`COUNT_SCAN`, :data:`PG_COUNT_SCAN`).
* Filters are a list of SQL clauses over ``document AS d`` built in :func:`_where`; every
  plan (text first, documents first, the scanned count) applies the whole list, so one more
  predicate (a user's visibility scope) is one more entry there.
* PostgreSQL: each search runs with JIT off and a larger ``work_mem`` (:func:`_pg_tuning`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

from sqlalchemy import text
from sqlmodel import Session, col, select

from papervault.config.errors import BadInput
from papervault.index.accounts.scope import Scope
from papervault.index.search.indexer import (
    CHUNK_SHIFT,
    catch_up,
    is_sqlite,
    query_lexemes,
    tokens,
)
from papervault.index.text import fold_search

PER_PAGE_MAX = 100
COUNT_CAP = 10_000  # beyond this the count shows "10000+": counting every hit costs time
# PostgreSQL reads a row of the table for every hit it counts (GIN holds no document ids),
# 3-10 µs each on a loaded machine where FTS5 reads its doclist at well under 1 µs: counting
# to 10,001 took 50-300 ms at 100k documents. It stops where ranking does (RANK_LIMIT) and
# shows "2000+"; the hits are the same and every one is still reachable page by page.
PG_COUNT_CAP = 2_000
# Chunks a PostgreSQL count reads newest first before it asks the index, ~1 µs a chunk
# when cached. The window is sized from the planner's estimate of the words' share of the
# chunks: twice the chunks in which the cap's worth of hits is expected, at least
# PG_PROBE and at most PG_PROBE_MAX; the scan stops at the cap, so a word denser than
# estimated reads fewer. A fixed 8,000 found 1,577 documents for 申请书 (~20 % of the
# chunks), short of the cap, and the index then counted them in 80-110 ms.
PG_PROBE = 8_000
PG_PROBE_MAX = 24_000
# ... when the planner expects the words in at least this share of the chunks (it
# underestimates phrases; a rare word would pay the probe for nothing: 155 ms for 邓).
PG_PROBE_SHARE = 0.05
RANK_LIMIT = 2_000  # more hits than this are listed newest first (bm25 costs ~3 µs a hit)
# Filters naming at most this many documents make SQLite start from them: ~40 µs a document
# against ~0.7 µs for every chunk holding the words (crossover ~1,500 documents at 100k).
DOC_FIRST_LIMIT = 1_000
# A common word under a broader filter (被保险人 in one month, ~0.8% of 1M documents): SQLite
# counts by reading at most this many of the word's chunks, newest first (~25 ms), and shows
# the count as "N+" when it stopped early; every hit is still reachable page by page.
COUNT_SCAN = 30_000
# PostgreSQL pays 2-10 µs a chunk for the same scan (idle / loaded machine): the tsvector
# is read from the heap and checked there, where FTS5 reads positions from its index. A
# smaller scan (as many as it counts, PG_COUNT_CAP) keeps its count within the time.
PG_COUNT_SCAN = 2_000
# ... fewer for a rarer word, so that the scan reads about this many chunks (at least
# PG_SCAN_MIN of the word's: a page's worth of hits under a department filter).
PG_SCAN_BUDGET = 20_000
PG_SCAN_MIN = 300
# Planner settings for a search's transaction on PostgreSQL. JIT compiles any plan costed
# over jit_above_cost (100,000): 120-170 ms of compiling per statement, measured with JIT
# forced on at 20k documents, for statements that run in 3-20 ms. Search plans stay under
# that cost at 100k, but a scan of every chunk costs more than that at 1M. A bitmap of a
# common word's chunks outgrows the default 4 MB work_mem and turns lossy, and every lossy
# page is then re-checked row by row. Parallel workers: each search plan that used one
# (Gather over a bitmap of 2,000 documents) spent 5-15 ms starting it, on a 2-core machine
# where the worker then competes with the OCR processes for the same cores.
PG_SETTINGS = {"jit": "off", "work_mem": "64MB", "max_parallel_workers_per_gather": "0"}
LinkState = Literal["pending", "linked", "unlinked", "ambiguous"]
LINK_STATES: tuple[str, ...] = get_args(LinkState)
# relevance: ranked (newest first without words); newest: by capture; date: by document date.
SORTS = ("relevance", "newest", "date")


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
    sort: str = "relevance"
    # Batch originals whose parts are in the index are left out (the parts are found).
    parts_only: bool = False

    def filters(self) -> dict[str, object]:
        """The filters that are set, for the audit trail and for links."""
        return {k: v for k, v in self.__dict__.items()
                if k not in ("q", "page", "per_page", "doc_ids", "sort", "parts_only")
                and v not in (None, "")}


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
    folded = fold_search(q).replace("\u201c", '"').replace("\u201d", '"')
    groups: list[list[str]] = []
    for i, part in enumerate(folded.split('"')):
        words = [part] if i % 2 else part.split()
        groups.extend(t for t in (tokens(w) for w in words) if t)
    return groups


def fts5_match(groups: list[list[str]]) -> str:
    """FTS5 MATCH string: each group a quoted phrase, implicitly ANDed."""
    return " ".join('"' + " ".join(g) + '"' for g in groups)


def tsquery_literal(groups: list[list[str]]) -> str:
    """PostgreSQL tsquery literal: each phrase as its lexemes (:func:`query_lexemes`: CJK
    bigrams and other tokens) at their distances (``<N>``), phrases joined by ``&``. A
    phrase of one lexeme (``保单``, ``claim``) needs no re-check of positions in the rows."""
    parts = []
    for g in groups:
        lex = query_lexemes(g)
        phrase = f"'{lex[0][1]}'"
        for (prev, _), (off, t) in zip(lex, lex[1:], strict=False):
            phrase += f" <{off - prev}> '{t}'"
        parts.append(f"({phrase})")
    return " & ".join(parts)


def _where(query: SearchQuery, scope: Scope, sqlite: bool
           ) -> tuple[list[str], dict[str, object]]:
    # The user's scope is one more filter: hits, counts and snippets all come from it.
    clauses, params = scope.document_sql("d", unindexed=sqlite,
                                         doc_type=(query.doc_type or "").strip() or None)
    for name in ("client_id", "record_no", "department", "doc_type", "link_state"):
        value = getattr(query, name)
        if value:
            clauses.append(f"d.{name} = :{name}")
            params[name] = value.strip()
    if query.client_id:  # a form names several parties: each one's filter finds it
        # (replacing the plain client clause, never the scope's clauses before it)
        at = clauses.index("d.client_id = :client_id")
        clauses[at] = ("(d.client_id = :client_id OR d.id IN (SELECT dm.document_id FROM "
                       "document_mention dm WHERE dm.kind = 'client' AND dm.value = :client_id))")
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
    if query.parts_only:  # parent_id is indexed: one probe per candidate document
        clauses.append("NOT EXISTS (SELECT 1 FROM document part WHERE part.parent_id = d.id)")
    return clauses, params


def validate(query: SearchQuery) -> None:
    if query.page < 1 or not 1 <= query.per_page <= PER_PAGE_MAX:
        raise BadInput(detail=f"page ≥ 1, 1 ≤ per_page ≤ {PER_PAGE_MAX}")
    if query.link_state and query.link_state not in LINK_STATES:
        raise BadInput(detail=f"link_state: {' | '.join(LINK_STATES)}")
    if query.sort not in SORTS:
        raise BadInput(detail=f"sort: {' | '.join(SORTS)}")
    for lo, hi in ((query.doc_from, query.doc_to), (query.ingested_from, query.ingested_to)):
        if lo and hi and lo > hi:
            raise BadInput(detail=f"{lo} > {hi}")


def search(session: Session, query: SearchQuery, scope: Scope) -> SearchResult:
    """Run ``query`` over what ``scope`` sees: filtered, paginated, with snippets.

    A limited scope is a filter like any other, so on SQLite a common word's count under
    it may be the scanned estimate ("N+", :data:`COUNT_SCAN`) where an unscoped user's
    count is exact; paging still reaches every hit.

    Ranked by relevance (bm25 / ts_rank) when at most :data:`RANK_LIMIT` documents match;
    beyond that (``保`` in an insurer's archive) newest first, because ranking every one of a
    million hits costs seconds and tells the reader little.
    """
    validate(query)
    sqlite = is_sqlite(session)
    _ready(session)
    groups = parse_query(query.q)
    if not groups and query.q.strip():
        # Review L9: signs alone ("*", "-", "(", a quote) hold no word to look for; read as
        # an empty query they listed every document, which no one who typed them meant.
        return SearchResult(hits=[], total=0, total_capped=False, page=query.page,
                            per_page=query.per_page)
    filters, params = _where(query, scope, is_sqlite(session))
    # A client ID or 档号 filter names a few documents, and so may a department, type or
    # date: SQLite must start from them, not from every chunk holding the words (348 ms for
    # 理赔 + a client, 373 ms for 被保险人 + a department and type, at 100k documents).
    # PostgreSQL's planner starts from them by itself (its statistics see the filters).
    few = bool(groups) and bool(filters) and (
        bool(query.client_id or query.record_no) or _few_documents(session, filters, params))
    by_doc = few and sqlite
    body = _body(session, groups, filters, params, by_doc=by_doc)
    scanned: list[int] | None = None  # PostgreSQL: the scan's hits, newest first
    few_hits = None
    if few and not sqlite and query.sort == "relevance":
        few_hits = _few_ranked(session, body, params)
    if few_hits is not None:
        total, exact = len(few_hits), True
    elif groups and filters and not few:
        total, exact, scanned = _count_scanned(session, filters, params)
    else:
        total, exact = _count(session, body, bool(groups) and not filters, params), True
    # Those few hits are listed newest first: bm25 would read every chunk in the archive
    # holding the words to weigh them.
    ranked = query.sort == "relevance" and exact and total <= RANK_LIMIT and not by_doc
    rank_by = rank_groups(groups) if ranked and sqlite else groups
    if rank_by != groups:
        # bm25 weighs each phrase by reading every chunk it occurs in: 150 ms for 理赔 in
        # 1M documents, for a query whose hits all hold one rare ID. The ID drives the
        # match; the whole query only filters its few chunks; bm25 sees the ID alone.
        params["rank_match"] = fts5_match(rank_by)
        body = _body(session, groups, filters, params, rank_match=True)
    order, score = _order(session, groups, ranked=ranked, sort=query.sort,
                          filtered=bool(filters))
    want = query.page * query.per_page
    best: dict[int, float] = {}
    if few_hits is not None:
        best = few_hits if ranked else dict.fromkeys(
            sorted(few_hits, reverse=True), 0.0)  # newest first: ids grow with rid
        more = len(best) > want
    elif (scanned is not None and not ranked and query.sort == "relevance"
            and (len(scanned) > want or exact)):
        # The scan read the newest chunks holding the words, in this very order (rid
        # DESC): its hits are the page. Asked again, the planner walked the filter's
        # documents newest first, 0.7 s when few of them hold the words.
        best = dict.fromkeys(scanned, 0.0)
        more = len(scanned) > want
    else:
        fetch = want * 2 + 20
        while True:  # a long document has several chunks: fetch until enough documents
            rows = session.execute(text(f"SELECT d.id AS id, {score} AS score {body} "
                                        f"ORDER BY {order} LIMIT {fetch}"), params).all()
            best = {}
            for r in rows:
                best.setdefault(r.id, float(r.score))
            if len(best) >= want or len(rows) < fetch:
                break
            fetch *= 4
        more = len(best) > want or len(rows) == fetch
    page = list(best.items())[want - query.per_page: want]
    cap = count_cap(session)
    if exact:
        shown, capped = min(total, cap), total > cap
    else:  # at least what the scan counted, and at least one more than this page if any
        upto = want - query.per_page + len(page)
        shown, capped = max(total, upto + int(more)), more
    return SearchResult(hits=_hits(session, page, groups), total=shown, total_capped=capped,
                        page=query.page, per_page=query.per_page)


def documents_with(session: Session, phrase: str, limit: int = COUNT_CAP) -> list[int]:
    """Documents whose indexed text or metadata holds ``phrase`` (as a search would find it)."""
    _ready(session)
    groups = parse_query(f'"{phrase}"')
    if not groups:
        return []
    params: dict[str, object] = {}
    _match_clause(session, groups, params)
    sql = f"SELECT DISTINCT id FROM ({_matching_ids(session)}) m LIMIT {limit}"
    return [int(r[0]) for r in session.execute(text(sql), params)]


def _ready(session: Session) -> None:
    """Catch the index up and, on PostgreSQL, set :data:`PG_SETTINGS` for the search."""
    if is_sqlite(session):
        catch_up(session)
    elif _pg_tuning(session):  # documents wait: catch up (it commits), then set them again
        catch_up(session)
        _pg_tuning(session)


def _pg_tuning(session: Session) -> bool:
    """:data:`PG_SETTINGS` for the rest of this transaction (``set_config(…, true)`` is SET
    LOCAL: a pooled connection goes back to the server's defaults at commit or rollback);
    returns whether documents wait in ``search_dirty``. One statement: on a loaded machine
    each round trip to the server costs 10-20 ms."""
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(PG_SETTINGS)))
    params: dict[str, object] = {}
    for i, (name, value) in enumerate(PG_SETTINGS.items()):
        params[f"n{i}"], params[f"v{i}"] = name, value
    row = session.execute(text(
        f"SELECT EXISTS (SELECT 1 FROM search_dirty) AS dirty, {calls}"), params).one()
    return bool(row.dirty)


def _match_share(session: Session, params: dict[str, object]) -> float:
    """The share of the chunks the planner expects ``:tsq`` in (the match and the whole
    table estimated in one EXPLAIN, nothing read)."""
    plan = session.execute(text(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM search_chunk c WHERE c.tsv @@ CAST(:tsq AS "
        "tsquery) UNION ALL SELECT 1 FROM search_chunk"), params).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    match, every = (float(p["Plan Rows"]) for p in plan[0]["Plan"]["Plans"])
    return match / max(every, 1.0)


def _probe_window(session: Session, params: dict[str, object]) -> int:
    """How many of the newest chunks to probe for ``:tsq`` (:data:`PG_PROBE`); 0 when the
    planner expects it in under :data:`PG_PROBE_SHARE` of the chunks."""
    share = _match_share(session, params)
    if share < PG_PROBE_SHARE:
        return 0
    return min(PG_PROBE_MAX, max(PG_PROBE, int(2 * (PG_COUNT_CAP + 1) / share)))


def _few_documents(session: Session, filters: list[str], params: dict[str, object]) -> bool:
    """Whether the filters alone name at most :data:`DOC_FIRST_LIMIT` documents (read
    through the filter columns' indexes, stopping one past the limit). PostgreSQL: at most
    :data:`PG_COUNT_SCAN` by the planner's estimate, because its planner then counts
    exactly from those documents in about the time the scanned count takes."""
    sql = f"SELECT 1 FROM document d WHERE {' AND '.join(filters)}"
    if not is_sqlite(session):
        # The planner's estimate, not a count: its statistics on department, type and
        # dates are close, and reading 2,001 documents of one department and type
        # through a bitmap of both indexes cost 72-156 ms at 1M documents.
        plan = session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params).scalar_one()
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return float(plan[0]["Plan"]["Plan Rows"]) <= PG_COUNT_SCAN
    n = session.execute(text(
        f"SELECT count(*) FROM ({sql} LIMIT {DOC_FIRST_LIMIT + 1}) m"), params).scalar_one()
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


def count_cap(session: Session) -> int:
    """Counts stop one past this (:data:`COUNT_CAP`, :data:`PG_COUNT_CAP`)."""
    return COUNT_CAP if is_sqlite(session) else PG_COUNT_CAP


def _count(session: Session, body: str, match_only: bool, params: dict[str, object]) -> int:
    """Matching documents, counted up to the cap + 1 (stops reading there)."""
    window = _probe_window(session, params) if match_only and not is_sqlite(session) else 0
    if window:
        # A common word first among the newest chunks: 2,001 hits there answer "2000+".
        # The planner's estimate for a phrase multiplies its bigrams' frequencies as if
        # independent (受益 <1> 益人: 164k estimated, 398k actual at 1M documents), so it
        # built a bitmap of 400k rows (500-650 ms) to read 2,001 of them.
        probe = int(session.execute(text(
            "SELECT count(DISTINCT id) FROM (SELECT n.document_id AS id FROM (SELECT "
            f"document_id, tsv FROM search_chunk ORDER BY rid DESC LIMIT {window}) n "
            f"WHERE n.tsv @@ CAST(:tsq AS tsquery) LIMIT {PG_COUNT_CAP + 1}) m"),
            params).scalar_one())
        if probe > PG_COUNT_CAP:
            return probe
    # No filters: the text index alone answers, without touching documents.
    inner = _matching_ids(session) if match_only else f"SELECT d.id AS id {body}"
    return int(session.execute(text(
        f"SELECT count(DISTINCT id) FROM ({inner} LIMIT {count_cap(session) + 1}) m"),
        params).scalar_one())


def _count_scanned(session: Session, filters: list[str], params: dict[str, object]
                   ) -> tuple[int, bool, list[int] | None]:
    """Filtered matches among the newest :data:`COUNT_SCAN` (:data:`PG_COUNT_SCAN`) chunks
    holding the words, and whether that is the whole count (the scan did not stop early, or
    the cap was reached); on PostgreSQL also those documents, newest first."""
    if is_sqlite(session):
        n, scanned = session.execute(text(
            f"SELECT count(DISTINCT CASE WHEN {' AND '.join(filters)} THEN d.id END), "
            "count(*) FROM (SELECT rowid AS rid FROM search_chunk WHERE search_chunk MATCH "
            f":match ORDER BY rowid DESC LIMIT {COUNT_SCAN + 1}) s JOIN document d ON d.id = "
            f"(s.rid >> {CHUNK_SHIFT})"), params).one()
        return int(n), int(scanned) <= COUNT_SCAN or int(n) > COUNT_CAP, None
    # Newest first, the scan reads 1/share chunks for every one it keeps, 2-8 µs each on
    # a table this wide: a word in 3 % of them (邓) read 77,000 for 2,000 (165 ms).
    scan = min(PG_COUNT_SCAN, max(PG_SCAN_MIN, int(_match_share(session, params)
                                                   * PG_SCAN_BUDGET)))
    rows = session.execute(text(
        f"SELECT d.id, {' AND '.join(filters)} AS ok FROM (SELECT c.rid, c.document_id FROM "
        "search_chunk c WHERE c.tsv @@ CAST(:tsq AS tsquery) ORDER BY c.rid DESC LIMIT "
        f"{scan + 1}) s JOIN document d ON d.id = s.document_id ORDER BY s.rid DESC"),
        params).all()
    hits = list(dict.fromkeys(r.id for r in rows if r.ok))
    return (len(hits), len(rows) <= scan or len(hits) > PG_COUNT_CAP, hits)


def _few_ranked(session: Session, body: str, params: dict[str, object]
                ) -> dict[int, float] | None:
    """PostgreSQL, filters naming few documents: every hit's best ts_rank, best first
    (ties newest first), read in one pass; None when there are more rows than a few
    documents hold (the planner's estimate was wrong), and the count and page ask again.
    Counting and then ranking read the same rows twice (30 + 25 ms for a word in one
    month of one department at 1M documents)."""
    limit = 4 * (PG_COUNT_CAP + 1)
    rows = session.execute(text(
        f"SELECT d.id AS id, c.rid AS rid, ts_rank(c.tsv, CAST(:tsq AS tsquery)) AS score "
        f"{body} LIMIT {limit + 1}"), params).all()
    if len(rows) > limit:
        return None
    best: dict[int, float] = {}
    for r in sorted(rows, key=lambda r: (-float(r.score), -int(r.rid))):
        best.setdefault(int(r.id), float(r.score))
    return best


def _matching_ids(session: Session) -> str:
    """SELECT of the document id of every chunk matching ``:match`` / ``:tsq`` (set by
    :func:`_match_clause`)."""
    if is_sqlite(session):
        return (f"SELECT rowid >> {CHUNK_SHIFT} AS id FROM search_chunk "
                "WHERE search_chunk MATCH :match")
    return "SELECT document_id AS id FROM search_chunk c WHERE c.tsv @@ CAST(:tsq AS tsquery)"


def _match_clause(session: Session, groups: list[list[str]], params: dict[str, object]) -> str:
    if is_sqlite(session):
        params["match"] = fts5_match(groups)
        return "search_chunk MATCH :match"
    params["tsq"] = tsquery_literal(groups)
    return "c.tsv @@ CAST(:tsq AS tsquery)"


def _order(session: Session, groups: list[list[str]], ranked: bool,
           sort: str = "relevance", filtered: bool = False) -> tuple[str, str]:
    """ORDER BY and score expressions; ties and unranked results go newest first.

    PostgreSQL, unranked under filters: ``d.id DESC, c.rid DESC`` is the same order as
    ``c.rid DESC`` (rid = id << 12 | chunk), but the planner can read it from the
    documents' indexes, newest first, checking each one's chunk and stopping at the page
    (53 ms against 259 ms for 理赔 in one department and type, at 100k documents)."""
    if sort == "newest":
        return "d.ingested_at DESC, d.id DESC", "0.0"
    if sort == "date":  # undated documents last, on both databases
        return ("CASE WHEN d.doc_date IS NULL THEN 1 ELSE 0 END, d.doc_date DESC, "
                "d.ingested_at DESC, d.id DESC"), "0.0"
    if not groups:
        return "d.ingested_at DESC, d.id DESC", "0.0"  # filters only: newest first
    sqlite = is_sqlite(session)
    rid = "c.rowid" if sqlite else "c.rid"
    if not ranked:
        return ("d.id DESC, c.rid DESC" if filtered and not sqlite else f"{rid} DESC"), "0.0"
    if sqlite:
        # bm25 is lower-is-better; negated, "score" reads the same way as ts_rank.
        return f"c.rank, {rid} DESC", "-c.rank"
    return f"score DESC, {rid} DESC", "ts_rank(c.tsv, CAST(:tsq AS tsquery))"


def _hits(session: Session, ranked: list[tuple[int, float]],
          groups: list[list[str]]) -> list[Hit]:
    from papervault.index.catalog.models import Document

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
