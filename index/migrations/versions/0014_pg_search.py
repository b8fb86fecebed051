"""pg_search: CJK bigram lexemes in PostgreSQL's search tsvectors, GIN without pending list

PostgreSQL's GIN index keeps no positions: a phrase over single-Hanzi lexemes (``保 <-> 单``)
was a re-check of every row holding both characters, which in an insurer's archive is nearly
every row (350-1,100 ms at 100k documents). Each chunk's tsvector now also holds every pair
of adjacent CJK tokens as one lexeme at the first one's position (``index.search.indexer``
writes them from now on; this revision rewrites the rows already there, in SQL, from their
own positions). The GIN index drops its pending list (each search would scan it until a
vacuum merges it).

The tsvector (~3.5 kB a chunk with its bigrams) stays in the row, uncompressed
(``STORAGE MAIN``, a tuple target of a whole page; lz4 for the rare chunk over a page):
stored out of line, every row the server checks (a phrase's re-check, a scan that stops
after the hits it counts) was a fetch from the TOAST table — 318 ms to count 10,001 chunks
of ``claim`` at 100k documents.

SQLite is unchanged: FTS5 stores positions in its index and matches phrases there.

Revision ID: 0014_pg_search
Revises: 0013_disposal
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_pg_search'
down_revision = '0013_disposal'
branch_labels = None
depends_on = None

# index.text.CJK_LETTERS as of this revision (copied: a migration must not change later).
CJK_LETTERS = (
    "\u2e80-\u2fdf\u3005\u3007\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
# One chunk's lexemes with their positions, single CJK characters marked.
_POSITIONS = ("SELECT u.lexeme, p.pos, u.lexeme ~ :cjk AS cjk "
              "FROM unnest(c.tsv) u, unnest(u.positions) AS p(pos)")
REWRITE = f"""
UPDATE search_chunk c SET tsv = coalesce((
  SELECT string_agg(format('''%s'':%s', e.lexeme, e.pos), ' ')::tsvector FROM (
    SELECT lexeme, pos FROM unnest(c.tsv) u, unnest(u.positions) AS p(pos)
    UNION ALL
    SELECT a.lexeme || b.lexeme, a.pos FROM ({_POSITIONS}) a
      JOIN ({_POSITIONS}) b ON b.pos = a.pos + 1 AND a.cjk AND b.cjk
  ) e), ''::tsvector)
"""
UNIGRAMS = """
UPDATE search_chunk c SET tsv = coalesce((
  SELECT string_agg(format('''%s'':%s', u.lexeme, array_to_string(u.positions, ',')), ' ')
         ::tsvector
  FROM unnest(c.tsv) u WHERE NOT u.lexeme ~ :bigram), ''::tsvector)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER TABLE search_chunk ALTER COLUMN tsv SET COMPRESSION lz4")
    op.execute("ALTER TABLE search_chunk ALTER COLUMN tsv SET STORAGE MAIN")
    op.execute("ALTER TABLE search_chunk SET (toast_tuple_target = 8160)")
    op.get_bind().execute(sa.text(REWRITE), {"cjk": f"^[{CJK_LETTERS}]$"})
    op.execute("ALTER INDEX ix_search_chunk_tsv SET (fastupdate = off)")
    op.execute("SELECT gin_clean_pending_list('ix_search_chunk_tsv')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER INDEX ix_search_chunk_tsv RESET (fastupdate)")
    op.execute("ALTER TABLE search_chunk RESET (toast_tuple_target)")
    op.execute("ALTER TABLE search_chunk ALTER COLUMN tsv SET STORAGE EXTENDED")
    op.get_bind().execute(sa.text(UNIGRAMS), {"bigram": f"^[{CJK_LETTERS}]{{2}}$"})
    op.execute("ALTER TABLE search_chunk ALTER COLUMN tsv SET COMPRESSION default")
