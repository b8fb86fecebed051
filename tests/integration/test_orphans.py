"""Objects left in S3 by a crash between upload and index commit are found and removed; a
document's own objects never are."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.catalog.models import Document
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import open_runtime
from papervault.storage.crypto import WrappedKey
from tests.conftest import write_config
from tests.factories import form_lines, write_form


def test_orphans_are_listed_and_deleted_documents_untouched(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    s = instance()
    rt = open_runtime(s)
    stored = capture(write_form(s.inbox / "claim.png", form_lines(), dpi=100),
                     rt.capture_context())
    assert isinstance(stored, Stored)
    # What a kill -9 between upload and commit leaves behind: a sealed object, no row.
    stray = rt.store.put_file(io.BytesIO(b"%PDF-1.4 half-captured scan"))
    cfg = write_config(s, tmp_path / "pv.toml")
    runner = CliRunner()

    fresh = runner.invoke(app, ["-c", str(cfg), "orphans", "list", "--json"])
    assert fresh.exit_code == 0 and fresh.output.strip() == ""  # within the 24 h grace
    res = runner.invoke(app, ["-c", str(cfg), "orphans", "list", "--json",
                              "--older-than-hours", "0"])
    assert res.exit_code == 0, res.output
    assert [json.loads(line)["name"] for line in res.output.splitlines()] == [stray.name]

    res = runner.invoke(app, ["-c", str(cfg), "orphans", "delete", "--older-than-hours", "0"])
    assert res.exit_code == 0, res.output
    names = {n for n, _, _ in rt.store.list_objects()}
    assert stray.name not in names
    with Session(rt.engine) as db:
        doc = db.exec(select(Document)).one()
    assert doc.object_name in names
    rt.store.verify(doc.object_name, WrappedKey(doc.wrapped_key, doc.key_id), doc.sha256)
