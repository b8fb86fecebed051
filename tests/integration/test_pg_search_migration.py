"""Migration 0014_pg_search rewrites PostgreSQL's indexed chunks with CJK bigrams in SQL
(the same lexemes and positions the indexer now writes), so an archive indexed before it
is found by the new queries without re-indexing; downgrading takes the bigrams out again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from papervault.index.accounts.scope import EVERYTHING
from papervault.index.catalog.db import alembic_config, session_scope, upgrade
from papervault.index.search.indexer import CHUNK_SHIFT, tokens, tsvector_literal
from papervault.index.search.query import SearchQuery, search
from tests.conftest import engine_at

TEXTS = ["理赔申请书 KH-2024-000123 被保险人", "事故认 定书\n保单号BD123号 カタカナ 한국어",
         "保 保 保险 claim 𠀀𠀁"]


@pytest.fixture
def old_pg(tmp_path: Path) -> Iterator[Engine]:
    with engine_at("postgres", tmp_path, "0013_disposal") as eng:
        yield eng


def _unigrams(toks: list[str]) -> str:
    """What the indexer wrote before 0014: every token at its positions, nothing else."""
    positions: dict[str, list[str]] = {}
    for i, t in enumerate(toks, start=1):
        positions.setdefault(t, []).append(str(i))
    return " ".join(f"'{t}':{','.join(p)}" for t, p in positions.items())


@pytest.mark.postgres
def test_chunks_indexed_before_get_their_bigrams(old_pg: Engine) -> None:
    with old_pg.begin() as c:
        for n, body in enumerate(TEXTS, start=1):
            c.execute(text(
                "INSERT INTO document (id, sha256, size, original_name, source_folder, "
                "media_type, object_name, object_size, wrapped_key, key_id, state, link_state, "
                "ingested_at, verify_state, text, candidates, warnings) VALUES (:n, :sha, 1, "
                "'x', '', 'png', :obj, 1, '\\x6b', 'k', 'indexed', 'linked', "
                "CURRENT_TIMESTAMP, 'verified', :text, '', '[]')"),
                {"n": n, "sha": f"{n:064x}", "obj": f"o-{n}", "text": body})
            c.execute(text("INSERT INTO search_chunk (rid, document_id, tsv) VALUES "
                           "(:rid, :n, CAST(:tsv AS tsvector))"),
                      {"rid": n << CHUNK_SHIFT, "n": n, "tsv": _unigrams(tokens(body))})
        c.execute(text("DELETE FROM search_dirty"))  # indexed already: nothing to catch up
    upgrade(old_pg)
    with old_pg.connect() as c:
        for n, body in enumerate(TEXTS, start=1):
            same = c.execute(text("SELECT tsv = CAST(:want AS tsvector) FROM search_chunk "
                                  "WHERE document_id = :n"),
                             {"n": n, "want": tsvector_literal(tokens(body))}).scalar_one()
            assert same, body
        assert c.execute(text("SELECT count(*) FROM search_dirty")).scalar_one() == 0
    with session_scope(old_pg) as s:
        for q, want in (("理赔申请书", {1}), ("事故认定书", {2}), ("单号BD123号", {2}),
                        ("保险", {1, 3}), ("保", {1, 2, 3}), ("カタカナ", {2}), ("𠀀𠀁", {3}),
                        ("险保", set())):
            got = {h.document_id for h in search(s, SearchQuery(q=q), EVERYTHING).hits}
            assert got == want, q
    command.downgrade(alembic_config(old_pg), "0013_disposal")
    with old_pg.connect() as c:
        for n, body in enumerate(TEXTS, start=1):
            assert c.execute(text("SELECT tsv = CAST(:want AS tsvector) FROM search_chunk "
                                  "WHERE document_id = :n"),
                             {"n": n, "want": _unigrams(tokens(body))}).scalar_one(), body
