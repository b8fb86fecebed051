"""Key rotation on a populated store (interrupted and resumed) and audit-chain tampering."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.accounts import audit
from papervault.index.accounts.audit import AuditBroken
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document
from papervault.index.integrity.keys import rewrap_all
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import audit_key, open_runtime
from papervault.storage import crypto
from papervault.storage.crypto import WrappedKey
from papervault.storage.keyring import add_primary_key
from tests.conftest import write_config
from tests.factories import form_lines, write_form


def test_rotation_interrupted_and_resumed_every_object_decrypts(
    instance: Callable[..., Settings], tmp_path: Path
) -> None:
    s = instance()
    rt = open_runtime(s)
    ids = []
    for i in range(6):
        out = capture(write_form(s.inbox / f"f{i}.png", form_lines(name=f"客户{i}"), dpi=60),
                      rt.capture_context())
        assert isinstance(out, Stored)
        ids.append(out.document_id)
    old_id = rt.store.master.key_id
    key_file = s.path(s.crypto.master_key_file)  # type: ignore[arg-type]
    master = add_primary_key(key_file)
    assert master.key_id != old_id and set(master.key_ids()) == {old_id, master.key_id}

    class Interrupted(Exception):
        pass

    calls = 0

    def flaky(w: WrappedKey, name: str) -> WrappedKey:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise Interrupted
        return crypto.rewrap(master, master, w, name)

    with pytest.raises(Interrupted):
        rewrap_all(rt.engine, master.key_id, flaky, batch=2)
    with Session(rt.engine) as db:
        states = {d.key_id for d in db.exec(select(Document))}
    assert states == {old_id, master.key_id}  # half-way
    runner = CliRunner()
    cfg = write_config(s, tmp_path / "pv.toml")
    res = runner.invoke(app, ["-c", str(cfg), "keys", "rotate", "--resume"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-c", str(cfg), "keys", "status", "--json"])
    status = json.loads(res.stdout.strip().splitlines()[-1])
    assert status["keys"] == {old_id: 0, master.key_id: 6}
    res = runner.invoke(app, ["-c", str(cfg), "keys", "retire", old_id])
    assert res.exit_code == 0, res.output
    fresh = open_runtime(s, migrate=False).store  # the keyset file without the old key
    assert fresh.master.key_ids() == [master.key_id]
    with Session(rt.engine) as db:
        for d in db.exec(select(Document)):
            fresh.verify(d.object_name, WrappedKey(d.wrapped_key, d.key_id), d.sha256)


@pytest.mark.parametrize("tamper", ["edit", "delete", "insert"])
def test_audit_verify_names_the_tampered_row(
    instance: Callable[..., Settings], tmp_path: Path, tamper: str
) -> None:
    s = instance()
    rt = open_runtime(s)
    key = audit_key(s)
    with session_scope(rt.engine) as db:
        for i in range(5):
            audit.record(db, key, "li.officer", "document.view", f"document:{i}", {"n": i})
    runner = CliRunner()
    cfg = write_config(s, tmp_path / "pv.toml")
    assert runner.invoke(app, ["-c", str(cfg), "audit", "verify"]).exit_code == 0
    with rt.engine.begin() as c:
        if tamper == "edit":
            c.execute(text("UPDATE auditentry SET actor = 'someone.else' WHERE id = 3"))
        elif tamper == "delete":
            c.execute(text("DELETE FROM auditentry WHERE id = 3"))
        else:
            c.execute(text(
                "INSERT INTO auditentry (id, at, actor, action, target, detail, origin, "
                "prev_hash, hash) SELECT 100, at, actor, action, target, detail, origin, "
                "prev_hash, hash FROM auditentry WHERE id = 2"))
    res = runner.invoke(app, ["-c", str(cfg), "audit", "verify"])
    assert isinstance(res.exception, AuditBroken) and res.exception.exit_code == 6
    expected = {"edit": "entry 3: content was changed", "delete": "entries 3..3 are missing",
                "insert": "entry 100: does not follow entry 6"}[tamper]  # 6: the first verify
    assert expected in res.output
