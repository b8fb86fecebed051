"""Security review H5: deleting the newest audit entries, or all of them, no longer
verifies as intact: the chain must reach its signed anchors (a local file rewritten after
every commit, a checkpoint in the versioned object store)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.accounts import anchor, audit
from papervault.index.accounts.audit import AuditBroken
from papervault.index.catalog.db import session_scope
from papervault.ingest.cli import app
from papervault.ingest.runtime import audit_key, open_runtime
from tests.conftest import write_config


def _trail(s: Settings, n: int) -> None:
    rt = open_runtime(s)
    key = audit_key(s)
    for i in range(n):  # one commit each, as downloads are
        with session_scope(rt.engine) as db:
            audit.record(db, key, "off1", "download", f"document:{i}", {"n": i})


@pytest.mark.parametrize("tamper", ["tail", "all", "middle"])
def test_shortened_chain_fails_verify(
    instance: Callable[..., Settings], tmp_path: Path, tamper: str,
) -> None:
    """GIVEN a verified trail and more downloads after it WHEN the newest rows, every row
    or a middle row are deleted THEN ``audit verify`` exits 6 and says what is missing."""
    s = instance()
    runner = CliRunner()
    cfg = write_config(s, tmp_path / "pv.toml")
    _trail(s, 5)
    assert runner.invoke(app, ["-c", str(cfg), "audit", "verify"]).exit_code == 0
    _trail(s, 3)  # ids 7..9 after the verify (6): only the local anchor knows them
    rt = open_runtime(s)
    with rt.engine.begin() as c:
        where = {"tail": "id > 7", "all": "1 = 1", "middle": "id = 4"}[tamper]
        c.execute(text(f"DELETE FROM auditentry WHERE {where}"))  # noqa: S608 - fixed text
    res = runner.invoke(app, ["-c", str(cfg), "audit", "verify"])
    assert isinstance(res.exception, AuditBroken) and res.exception.exit_code == 6, res.output
    expected = {"tail": "entries after 7 up to 9 are missing",
                "all": "up to 9 are missing", "middle": "entries 4..4 are missing"}[tamper]
    assert expected in res.output


def test_whole_table_and_local_anchor_gone_the_object_store_checkpoint_holds(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    """Someone with the database and the instance folder, but not the S3 keys' history:
    the versioned checkpoint written by the last verify still names the head."""
    s = instance()
    runner = CliRunner()
    cfg = write_config(s, tmp_path / "pv.toml")
    _trail(s, 4)
    assert runner.invoke(app, ["-c", str(cfg), "audit", "verify"]).exit_code == 0
    rt = open_runtime(s)
    with rt.engine.begin() as c:
        c.execute(text("DELETE FROM auditentry"))
    s.path(s.crypto.audit_anchor_file).unlink()
    res = runner.invoke(app, ["-c", str(cfg), "audit", "verify"])
    assert isinstance(res.exception, AuditBroken) and "object store anchor" in res.output


def test_forged_anchor_is_named(instance: Callable[..., Settings], tmp_path: Path) -> None:
    s = instance()
    _trail(s, 2)
    path = s.path(s.crypto.audit_anchor_file)
    cp = anchor.read_local(path, audit_key(s))
    assert cp is not None and cp.last_id == 2
    path.write_bytes(anchor.to_bytes(anchor.sign(b"not the key", 1, cp.last_hash, 1)))
    res = CliRunner().invoke(app, ["-c", str(write_config(s, tmp_path / "pv.toml")),
                                   "audit", "verify"])
    assert isinstance(res.exception, AuditBroken) and "forged" in res.output, res.output
