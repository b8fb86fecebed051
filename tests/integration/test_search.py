"""Search on both databases: generated Chinese/English text against an independent oracle,
filters, pagination, index upkeep by triggers, and real OCR output of scans."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.progress import Progress
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.accounts.scope import EVERYTHING
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import Document
from papervault.index.search import query as search_module
from papervault.index.search.indexer import tokens
from papervault.index.search.query import SearchQuery, parse_query, search
from tests.factories import form_lines, write_form

WORDS = ["保险", "保单", "理赔", "申请书", "被保险人", "投保人", "受益人", "账户", "合同", "条款",
         "身故", "医疗", "意外", "住院", "发票", "银行", "Policy", "claim", "invoice", "hospital",
         "的", "和", "在", "为", "已", "保", "赔", "报案", "出险", "金额"]


def make_doc(n: int, text: str, **meta: object) -> Document:
    fields: dict[str, object] = {
        "sha256": f"{n:064x}", "size": 1, "original_name": f"scan{n}.pdf",
        "media_type": "application/pdf", "object_name": f"obj-{n}", "object_size": 1,
        "wrapped_key": b"k", "key_id": "k", "text": text, "state": "indexed",
    }
    fields.update(meta)
    return Document(**fields)  # type: ignore[arg-type]


def phrase_in(group: list[str], toks: list[str]) -> bool:
    n = len(group)
    return any(toks[i:i + n] == group for i in range(len(toks) - n + 1))


def oracle(docs: dict[int, str], q: str) -> set[int]:
    """What must match, computed without the database: every query phrase in the text."""
    groups = parse_query(q)
    return {i for i, t in docs.items() if all(phrase_in(g, tokens(t)) for g in groups)}


def found(engine: Engine, q: str = "", per_page: int = 100,
          totals: list[tuple[int, bool]] | None = None, **filters: object) -> set[int]:
    """Every hit, page by page as a reader would go (each page's count into ``totals``)."""
    ids: set[int] = set()
    page = 1
    while True:
        with session_scope(engine) as s:
            r = search(s, SearchQuery(q=q, page=page, per_page=per_page, **filters),  # type: ignore[arg-type]
                       EVERYTHING)
        ids |= {h.document_id for h in r.hits}
        if totals is not None:
            totals.append((r.total, r.total_capped))
        if page >= r.pages:
            return ids
        page += 1


@pytest.fixture
def corpus(engine: Engine) -> Iterator[dict[int, str]]:
    """GIVEN 60 documents of random insurance words (with OCR's stray spaces), one of 3000
    tokens, and full-width IDs."""
    rng = random.Random(7)
    texts: dict[int, str] = {}
    with session_scope(engine) as s:
        for n in range(1, 61):
            words = rng.choices(WORDS, k=rng.randint(5, 40))
            sep = rng.choice(["", " ", "\n"])
            text = sep.join(words) + f" 客户编号 KH-2024-{n:06d}"
            if n % 5 == 0:
                text += " 保险 合同条款"
            if n % 7 == 0:
                text = "ＫＨ－２０２４－９９９９９９ " + text  # full-width, as some scanners emit
            if n == 60:
                text = "".join(rng.choices(WORDS, k=2000)) + "理赔申请书确认" + text
            s.add(make_doc(n, text, client_id=f"KH-2024-{n:06d}",
                           doc_date=date(2024, 1 + n % 12, 1), link_state="linked",
                           department=f"D{n % 3}", doc_type=f"T{n % 2}"))
            texts[n] = text
    yield texts


QUERIES = ["保", "保单", "理赔", "申请书", "被保险人", "保 单", "账户 银行", "policy", "CLAIM",
           "Policy claim", "KH-2024-000007", "ＫＨ－２０２４－９９９９９９", "KH-2024-000012 理赔",
           "理赔 kh-2024-000012 保", "ＫＨ－２０２４－９９９９９９ 保险 合同",
           "KH-2024-000015 不存在的词",
           "\"保险 合同\"", "理赔申请书确认", "不存在的词", "的"]


@pytest.mark.parametrize("q", QUERIES)
def test_queries_match_the_oracle(engine: Engine, corpus: dict[int, str], q: str) -> None:
    want = oracle(corpus, q)
    assert found(engine, q) == want
    if q not in ("不存在的词", "KH-2024-000015 不存在的词"):
        assert want, f"corpus should contain {q!r}"


BIGRAM_TEXTS = {
    1: "理\n赔申请书",  # OCR broke the line inside the word
    2: "理 赔 申 请 书",  # and put spaces between Hanzi
    3: "赔理 申请",  # the same characters, not the phrase
    4: "保单号BD123号 客户 KH-2024-000123",
    5: "ＫＨ－２０２４－０００１２３ 事故认定书",  # full-width ID
    6: "事故认 定书 保",
    7: "事故书认定 事故",  # every bigram of 事故认定书 but 故认, and not in order
    8: "カタカナ 한국어 保險",
    9: "kh 2024-000123",
}
BIGRAM_QUERIES = ["理赔", "理赔申请书", "赔申", "申请", "理", "书", "保", "事故认定书", "事故认定",
                  "认定书", "故认", "保单号bd123号", "单号BD123", "BD123号", "KH-2024-000123",
                  "ｋｈ－２０２４－０００１２３", "kh 2024 000123", "\"kh 2024\" 000123",
                  "カタカナ", "タカ", "한국", "保險", "事故 认定", "赔理申", "号 客户"]


@pytest.mark.parametrize("q", BIGRAM_QUERIES)
def test_bigram_edge_cases_match_the_oracle(engine: Engine, q: str) -> None:
    """GIVEN words split by OCR's line breaks and spaces, IDs with hyphens and full-width
    forms, kana and hangul, and texts holding a phrase's characters but not the phrase
    WHEN anyone searches a 1-character, 2-character or longer (odd and even) phrase
    THEN both databases find exactly what the oracle finds (PostgreSQL by bigram lexemes)."""
    with session_scope(engine) as s:
        for n, t in BIGRAM_TEXTS.items():
            s.add(make_doc(n, t))
    assert found(engine, q) == oracle(BIGRAM_TEXTS, q)


def test_phrase_beyond_the_first_chunk_is_found(engine: Engine, corpus: dict[int, str]) -> None:
    """A 7-character phrase ~3000 tokens into a long file (several chunks) still hits."""
    assert 60 in found(engine, "理赔申请书确认")
    assert len(tokens(corpus[60])) > 3000


def test_filters_and_pagination(engine: Engine, corpus: dict[int, str]) -> None:
    assert found(engine, "", client_id="KH-2024-000005") == {5}
    march = {n for n in corpus if (1 + n % 12) == 3}
    assert found(engine, "", doc_from=date(2024, 3, 1), doc_to=date(2024, 3, 31)) == march
    assert found(engine, "保", link_state="unlinked") == set()
    with session_scope(engine) as s:
        first = search(s, SearchQuery(q="保", per_page=5, page=1), EVERYTHING)
        second = search(s, SearchQuery(q="保", per_page=5, page=2), EVERYTHING)
    assert first.total == len(oracle(corpus, "保")) > 10
    assert len(first.hits) == len(second.hits) == 5
    assert not {h.document_id for h in first.hits} & {h.document_id for h in second.hits}
    scores = [h.score for h in first.hits] + [h.score for h in second.hits]
    assert scores == sorted(scores, reverse=True)


def test_words_within_one_client(engine: Engine, corpus: dict[int, str]) -> None:
    """A client filter with words (SQLite starts from the client's documents, then their
    chunks; the long file 60 has several) finds what the oracle finds in that client."""
    for n in (5, 7, 14, 60):
        for q in ("保", "保险 合同", "理赔申请书确认", "KH-2024-999999 保", "不存在的词"):
            assert found(engine, q, client_id=f"KH-2024-{n:06d}") == oracle(corpus, q) & {n}
    assert found(engine, "保险 合同", client_id="KH-2024-000005") == {5}


@pytest.mark.parametrize(("doc_first_limit", "count_scan"), [(0, 30_000), (10_000, 30_000),
                                                             (0, 3)],
                         ids=["text-first", "documents-first", "text-first-count-stops-early"])
def test_words_within_a_department_type_or_date(engine: Engine, corpus: dict[int, str],
                                                doc_first_limit: int, count_scan: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Filters that name few documents make SQLite start from them; either plan finds what
    the oracle finds among the filtered documents, on both databases. When the count stops
    early (either database), it reads "N+" and paging still reaches every hit."""
    monkeypatch.setattr(search_module, "DOC_FIRST_LIMIT", doc_first_limit)
    monkeypatch.setattr(search_module, "COUNT_SCAN", count_scan)
    monkeypatch.setattr(search_module, "PG_COUNT_SCAN", count_scan)
    per_page = 3 if count_scan < 10 else 100
    lower_bounds = 0
    if engine.dialect.name != "sqlite":  # PostgreSQL judges "few" by the planner's statistics
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE document"))
    cases: list[tuple[dict[str, object], set[int]]] = [
        ({"department": "D1", "doc_type": "T0"}, {n for n in corpus if n % 3 == 1 and n % 2 == 0}),
        ({"department": "D2"}, {n for n in corpus if n % 3 == 2}),
        ({"doc_type": "T1", "doc_from": date(2024, 3, 1), "doc_to": date(2024, 4, 1)},
         {n for n in corpus if n % 2 == 1 and 1 + n % 12 in (3, 4)}),
    ]
    for filters, docs in cases:
        assert docs
        for q in ("保", "保险 合同", "理赔申请书确认", "KH-2024-999999 保", "不存在的词"):
            totals: list[tuple[int, bool]] = []
            want = oracle(corpus, q) & docs
            assert found(engine, q, per_page, totals, **filters) == want, (q, filters)
            assert totals[-1] == (len(want), False)  # the last page knows the whole count
            assert all(t <= len(want) and (capped or t == len(want)) for t, capped in totals)
            lower_bounds += sum(1 for t, capped in totals if capped and t < len(want))
    # The early stop was taken, on both databases, and only when the scan was cut short.
    assert (lower_bounds > 0) == (count_scan < 10), lower_bounds


def test_ingest_date_filter_counts_the_whole_last_day(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(make_doc(1, "保单", ingested_at=datetime(2024, 5, 2, 23, 59, tzinfo=UTC)))
        s.add(make_doc(2, "保单", ingested_at=datetime(2024, 5, 3, 0, 1, tzinfo=UTC)))
    assert found(engine, "保单", ingested_from=date(2024, 5, 2),
                 ingested_to=date(2024, 5, 2)) == {1}


def test_index_follows_updates_and_deletes(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(make_doc(1, "旧的文字"))
    assert found(engine, "旧的") == {1}
    with session_scope(engine) as s:
        doc = s.exec(select(Document)).one()
        doc.text, doc.client_id = "新的理赔申请", "KH-2023-000001"
        s.add(doc)
    assert found(engine, "旧的") == set()
    assert found(engine, "理赔") == {1}
    assert found(engine, "KH-2023-000001") == {1}
    with session_scope(engine) as s:
        s.delete(s.exec(select(Document)).one())
    assert found(engine, "理赔") == set()


def test_snippet_marks_the_hit_across_ocr_spaces(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(make_doc(1, "第一页\n\f\n第二页：被保险人 张伟 申请 理 赔 金额 12,500 元"))
    with session_scope(engine) as s:
        hit = search(s, SearchQuery(q="理赔"), EVERYTHING).hits[0]
    assert hit.page_no == 2
    assert [seg for seg, is_hit in hit.snippet if is_hit] == ["理 赔"]
    assert "[理 赔]" in hit.snippet_text()


# -- real OCR -----------------------------------------------------------------------------


@pytest.mark.slow
def test_search_real_ocr_output(instance: Callable[..., Settings],
                                copy_sample: Callable[[str, Path], Path], tmp_path: Path) -> None:
    """GIVEN a real Chinese scan from testdata and a generated claim form, OCR'd by tesseract
    WHEN officers search by 1-, 2-, 4-character words, an ID and mixed queries
    THEN the right file comes back, on SQLite and PostgreSQL alike."""
    from papervault.ingest.service import ingest_paths

    s = instance()
    form = write_form(tmp_path / "scans" / "claim.png",
                      form_lines(client_id="KH-2024-000123", extra="保单服务部 Claim form"))
    # A copy: capture deletes what it has stored (watch.after_store = delete).
    cnocr = copy_sample("cnocr/examples/multi-line_cn1.png", tmp_path / "scans")
    with Progress(disable=True) as p:
        outcomes = ingest_paths(s, [form, cnocr], p, drain_ocr=True)
    assert [o["outcome"] for o in outcomes] == ["stored", "stored"], outcomes
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        docs = {d.original_name: d.id for d in session.exec(select(Document))}
    claim, net = docs["claim.png"], docs["multi-line_cn1.png"]
    assert found(engine, "账户") == {net}           # 2 Hanzi, from the real scan
    assert found(engine, "网络支付") == {net}
    assert found(engine, "理赔申请") == {claim}     # 4 Hanzi
    assert found(engine, "保单") == {claim}
    assert found(engine, "KH-2024-000123") == {claim}
    assert found(engine, "ｋｈ－２０２４－０００１２３ 理赔") == {claim}
    assert found(engine, "claim") == {claim}
    assert found(engine, "", client_id="KH-2024-000123") <= {claim}
    assert {claim, net} <= found(engine, "保") | found(engine, "卡") | {claim}
    assert net in found(engine, "卡")
    engine.dispose()


def test_a_word_longer_than_postgresql_allows_breaks_no_search(engine: Engine) -> None:
    """GIVEN a document with a 3000-letter word (over PostgreSQL's 2046-byte lexeme limit,
    in a 3-byte script too) beside a normal one
    WHEN anyone searches, for normal words or for the long word itself
    THEN every search answers, the same on SQLite and PostgreSQL (H3)."""
    long_word = "a" * 3000
    cyrillic = "ж" * 1500  # 2 bytes a letter: 3000 bytes
    with session_scope(engine) as s:
        s.add(make_doc(1, "理赔 Claim normal words"))
        s.add(make_doc(2, f"Claim {long_word} and {cyrillic}"))
    assert found(engine, "理赔") == {1}
    assert found(engine, "Claim") == {1, 2}
    assert found(engine, long_word) == {2}
    assert found(engine, cyrillic) == {2}
    assert found(engine, "a" * 2999) == set()  # a different word, not a prefix match


def test_a_clearance_in_sql_is_the_rule_a_fetch_applies(engine: Engine) -> None:
    """The search's clearance clause (spelt out over the plain columns for the planner, and
    folded when the query names a type) hides exactly the documents :meth:`Scope.sees_document`
    hides, for every combination of department, hand-set level and type, with and without a
    type filter, at every clearance."""
    from papervault.index.accounts.scope import make_scope

    levels = ["公开", "内部", "机密"]
    type_levels = {"身份证复印件": "机密", "投保单": "公开"}
    docs: dict[int, Document] = {}
    n = 0
    with session_scope(engine) as s:
        for dep in ("理赔部", "核保部", None):
            for level in (None, *levels):
                for doc_type in (None, "身份证复印件", "投保单", "委托书"):
                    n += 1
                    doc = make_doc(n, f"理赔 记录 {n}", department=dep, sensitivity=level,
                                   doc_type=doc_type)
                    s.add(doc)
                    docs[n] = doc
    for clearance in levels:
        for default in ("公开", "内部"):
            scope = make_scope(["理赔部"], clearance, levels, default, type_levels)
            for doc_type in (None, "身份证复印件", "投保单", "委托书"):
                want = {i for i, d in docs.items() if scope.sees_document(d)
                        and (doc_type is None or d.doc_type == doc_type)}
                with session_scope(engine) as s:
                    r = search(s, SearchQuery(q="理赔", doc_type=doc_type, per_page=100), scope)
                    got = {h.document_id for h in r.hits}
                assert got == want, (clearance, default, doc_type)
                assert r.total == len(want)
