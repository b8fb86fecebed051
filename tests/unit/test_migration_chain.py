"""The migrations are one chain: two branches merged without a rebase of their revision
ids leave two heads, which ``upgrade heads`` applies in either order."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from papervault.index.catalog.db import alembic_config, make_engine


def test_the_migrations_have_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert len(script.get_heads()) == 1, script.get_heads()
