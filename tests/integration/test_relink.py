"""Scans stored before their client or paper record was registered are linked when the
register is imported (real OCR), so their records count as backed up; hand links stay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, col, select
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.catalog.models import AuditEntry, Client, Document
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import open_runtime
from tests.conftest import write_config
from tests.factories import form_lines, write_form


def test_scans_stored_before_their_register_are_linked_when_it_is_imported(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    s = instance()
    rt = open_runtime(s)
    ctx = rt.capture_context()
    scans = {
        "claim": write_form(s.inbox / "claim.png", form_lines(
            client_id="KH-2024-000123", extra="档号 DA-2024-LP-00012"), dpi=200),
        "folder": write_form(s.inbox / "DA-2024-LP-00013" / "scan.png",
                             ["附件 第二页 Attachment"], dpi=200),
        "by_hand": write_form(s.inbox / "hand.png", form_lines(
            client_id="KH-2024-000124", extra="档号 DA-2024-LP-00014"), dpi=200),
    }
    ids = {}
    for key, path in scans.items():
        out = capture(path, ctx)
        assert isinstance(out, Stored)
        ids[key] = out.document_id
    cfg = write_config(s, tmp_path / "pv.toml")
    runner = CliRunner()
    res = runner.invoke(app, ["-c", str(cfg), "worker", "--drain"])
    assert res.exit_code == 0, res.output

    def docs() -> dict[str, tuple[str, str | None, str | None, str | None]]:
        with Session(rt.engine) as db:
            rows = {d.id: d for d in db.exec(select(Document))}
        return {k: (rows[i].link_state, rows[i].client_id, rows[i].record_no,
                     rows[i].link_source) for k, i in ids.items()}

    before = docs()
    assert {k: v[0] for k, v in before.items()} == {k: "unlinked" for k in ids}  # no registers
    with Session(rt.engine) as db:  # a records officer linked this one by hand
        hand = db.get(Document, ids["by_hand"])
        assert hand is not None
        hand.link_state, hand.client_id, hand.link_source = "linked", "KH-2024-000999", "manual"
        db.add(hand)
        db.commit()

    clients = tmp_path / "clients.csv"
    clients.write_text("客户编号,姓名\nKH-2024-000123,张伟\n", encoding="utf-8")
    res = runner.invoke(app, ["-c", str(cfg), "clients", "import", str(clients)])
    assert res.exit_code == 0, res.output
    assert docs()["claim"][:3] == ("linked", "KH-2024-000123", None)

    register = tmp_path / "register.csv"
    register.write_bytes(("档号,客户编号,题名,部门,年度,存放位置\n"
                          "DA-2024-LP-00012,KH-2024-000123,张伟理赔,理赔部,2024,3号库房/A-1/001\n"
                          "DA-2024-LP-00013,KH-2024-000123,张伟附件,理赔部,2024,3号库房/A-1/002\n"
                          "DA-2024-LP-00014,KH-2024-000124,李娜理赔,理赔部,2024,3号库房/A-1/003\n"
                          ).encode("gbk"))
    res = runner.invoke(app, ["-c", str(cfg), "paper", "import", str(register)])
    assert res.exit_code == 0, res.output
    after = docs()
    assert after["claim"][:3] == ("linked", "KH-2024-000123", "DA-2024-LP-00012")
    assert after["folder"] == ("linked", "KH-2024-000123", "DA-2024-LP-00013", "folder")
    assert after["by_hand"] == ("linked", "KH-2024-000999", None, "manual")  # untouched

    res = runner.invoke(app, ["-c", str(cfg), "coverage", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert (report["totals"]["verified"], report["totals"]["none"]) == (2, 1)
    with Session(rt.engine) as db:
        # The register's client IDs join the clients register (so they can be linked by hand).
        assert {c.client_id for c in db.exec(select(Client))} == {"KH-2024-000123",
                                                                  "KH-2024-000124"}
        trail = db.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    entries = [(e.action, json.loads(e.detail)) for e in trail
               if e.action in ("clients.import", "paper.import", "register.relink")]
    assert [(a, d.get("changed")) for a, d in entries] == [
        ("clients.import", None), ("register.relink", 1),
        ("paper.import", None), ("register.relink", 2)]
