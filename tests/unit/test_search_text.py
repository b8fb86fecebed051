"""Tokens, chunks, query parsing and snippets: the pure part of search."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from papervault.index.search.indexer import (
    CHUNK_TOKENS,
    MAX_REPEATS,
    OVERLAP,
    chunks,
    query_lexemes,
    tokens,
    tsvector_literal,
)
from papervault.index.search.query import (
    fts5_match,
    parse_query,
    rank_groups,
    snippet,
    tsquery_literal,
)
from papervault.index.web.app import is_loopback


def test_hanzi_are_unigrams_and_ids_split_at_hyphens() -> None:
    assert tokens("理赔申请书 KH-2024-000123") == ["理", "赔", "申", "请", "书", "kh", "2024",
                                               "000123"]
    assert tokens("保单号：BD2024000123") == ["保", "单", "号", "bd2024000123"]


def test_full_width_and_half_width_fold_alike() -> None:
    assert tokens("ＫＨ－２０２４－０００１２３　理赔") == tokens("kh-2024-000123 理赔")


def test_ocr_spaces_between_hanzi_do_not_matter() -> None:
    assert tokens("理 赔 申 请") == tokens("理赔申请")


def test_query_words_are_phrases_and_quotes_keep_spaces() -> None:
    assert parse_query('KH-2024-000123  理赔 "保险 合同"') == [
        ["kh", "2024", "000123"], ["理", "赔"], ["保", "险", "合", "同"]]
    assert parse_query("  ") == []
    assert parse_query("“保单”") == [["保", "单"]]


def test_backend_query_strings() -> None:
    groups = [["保", "单"], ["kh", "2024"]]
    assert fts5_match(groups) == '"保 单" "kh 2024"'
    assert tsquery_literal(groups) == "('保单') & ('kh' <1> '2024')"
    assert tsvector_literal(["保", "单", "保"]) == "'保':1,3 '单':2 '保单':1 '单保':2"
    assert tsvector_literal(["保", "kh", "单"]) == "'保':1 'kh':2 '单':3"  # no bigram across kh


def test_phrases_are_looked_up_by_bigrams() -> None:
    """Runs of CJK tokens become bigrams at even offsets (the last one overlapping when the
    run is odd); one CJK token alone, and every other token, is itself."""
    assert query_lexemes(["保"]) == [(0, "保")]
    assert query_lexemes(["被", "保", "险", "人"]) == [(0, "被保"), (2, "险人")]
    assert query_lexemes(["事", "故", "认", "定", "书"]) == [(0, "事故"), (2, "认定"), (3, "定书")]
    assert query_lexemes(["保", "单", "bd123", "号"]) == [(0, "保单"), (2, "bd123"), (3, "号")]
    assert query_lexemes(["kh", "2024", "000123"]) == [(0, "kh"), (1, "2024"), (2, "000123")]
    assert tsquery_literal([["事", "故", "认", "定", "书"]]) == "('事故' <2> '认定' <1> '定书')"


def _tsv_matches(toks: list[str], group: list[str]) -> bool:
    """PostgreSQL's phrase match, re-done over the literal: every query lexeme at its
    offset from one start position."""
    positions: dict[str, set[int]] = {}
    for entry in tsvector_literal(toks).split(" ") if toks else []:
        lex, pos = entry.rsplit(":", 1)
        positions[lex.strip("'")] = {int(p) for p in pos.split(",")}
    lex = query_lexemes(group)
    first_off, first = lex[0]
    return any(all(p - first_off + off in positions.get(t, set()) for off, t in lex)
               for p in positions.get(first, set()))


@given(st.lists(st.sampled_from(["保", "单", "险", "kh", "1"]), max_size=40),
       st.lists(st.sampled_from(["保", "单", "险", "kh", "1"]), min_size=1, max_size=6))
def test_bigram_lookup_is_exactly_the_token_phrase(toks: list[str], group: list[str]) -> None:
    want = any(toks[i:i + len(group)] == group for i in range(len(toks) - len(group) + 1))
    assert _tsv_matches(toks, group) == want


@given(st.lists(st.sampled_from(["保", "单", "的", "kh", "1"]), max_size=3000))
def test_chunks_cover_every_phrase_within_postgres_limits(toks: list[str]) -> None:
    parts = chunks(toks)
    for c in parts:
        assert len(c) <= CHUNK_TOKENS
        assert max((c.count(t) for t in set(c)), default=0) <= MAX_REPEATS
    # Every window of OVERLAP tokens lies wholly inside some chunk: phrases up to that
    # length are never cut by a chunk boundary.
    joined = [" ".join(c) for c in parts]
    for i in range(0, max(0, len(toks) - OVERLAP), 97):
        window = " ".join(toks[i:i + OVERLAP])
        assert any(window in j for j in joined)


def test_ids_rank_a_mixed_query_alone() -> None:
    """bm25 reads every chunk a phrase is in to weigh it: common words must not be ranked
    when an ID-like phrase (a run of ≥ 5 digits) already picks the few hits."""
    assert rank_groups(parse_query("KH-2024-000123 理赔")) == [["kh", "2024", "000123"]]
    assert rank_groups(parse_query("保单 BD2024000123 DA-2024-LP-00012")) == [
        ["bd2024000123"], ["da", "2024", "lp", "00012"]]
    for q in ("理赔 保单", "KH-2024-000123", "2024 理赔", "12,500 元"):
        assert rank_groups(parse_query(q)) == parse_query(q)


def test_snippet_marks_hits_and_names_the_page() -> None:
    page_no, segs = snippet("封面\n\f\n客户 张伟 申请理赔，金额 12,500 元", [["理", "赔"]], width=6)
    assert page_no == 2
    assert [s for s, hit in segs if hit] == ["理赔"]
    assert segs[0] == ("…", False)


def test_snippet_without_a_text_hit_shows_the_start() -> None:
    page_no, segs = snippet("第一行\n第二行", [["kh"]])
    assert page_no is None and segs == (("第一行 第二行", False),)


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
