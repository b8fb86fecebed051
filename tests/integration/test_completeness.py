"""Completeness of client files (issue 18) on a hand-counted fixture, both databases: every
missing document type of every client and paper record is named, a 机密 copy counts as
present, stale register rows and old files are flagged, and scope limits the report."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.accounts.scope import EVERYTHING, make_scope
from papervault.index.catalog import doctypes
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import Client, Document, PaperRecord
from papervault.index.coverage import completeness
from papervault.ingest.cli import app as cli_app
from tests.conftest import write_config

NOW = datetime(2026, 12, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=800)
CLAIM_LIST = ["理赔申请书", "身份证复印件", "医疗费用清单", "银行账户信息"]
UW_LIST = ["投保单", "保单", "身份证复印件"]


def _doc(n: int, client: str, doc_type: str, verified: bool = True, record: str | None = None,
         at: datetime = NOW, level: str | None = None) -> Document:
    return Document(sha256=f"{n:064x}", size=1, original_name=f"d{n}.pdf", media_type="pdf",
                    object_name=f"o/{n}", object_size=1, wrapped_key=b"k", key_id="k1",
                    state="indexed", link_state="linked", client_id=client, record_no=record,
                    doc_type=doc_type, doc_type_source="keywords", sensitivity=level,
                    verify_state="verified" if verified else "unverified", ingested_at=at)


def fixture(s: Settings) -> None:
    """GIVEN, counted by hand:
    K1 理赔部: 理赔申请书 ✓, 身份证复印件 ✓ (机密), 医疗费用清单 unverified
       → missing 银行账户信息
    K2 理赔部: nothing → missing all four
    K3 承保部: 投保单, 保单, 身份证复印件 ✓, register row 800 days old → complete, stale
    K4 综合部: no checklist → not listed
    R1 (K1, 车险理赔卷, no type in its title → 理赔部's list): 理赔申请书 ✓ → three missing
    R2 (K3, 投保单及保单 → type 投保单 → record_types): 投保单 ✓ 800 days old
       → 保单 missing, stale
    """
    engine = make_engine(s.db_url)
    with session_scope(engine) as session:
        session.add(Client(client_id="K1", department="理赔部", updated_at=NOW))
        session.add(Client(client_id="K2", department="理赔部", updated_at=NOW))
        session.add(Client(client_id="K3", department="承保部", updated_at=OLD))
        session.add(Client(client_id="K4", department="综合部", updated_at=NOW))
        session.add(PaperRecord(record_no="R1", client_id="K1", title="车险理赔卷",
                                updated_at=NOW))
        session.add(PaperRecord(record_no="R2", client_id="K3", title="投保单及保单",
                                department="承保部", updated_at=NOW))
        for d in (_doc(1, "K1", "理赔申请书", record="R1"),
                  _doc(2, "K1", "身份证复印件", level="机密"),
                  _doc(3, "K1", "医疗费用清单", verified=False),
                  _doc(4, "K3", "投保单", record="R2", at=OLD), _doc(5, "K3", "保单"),
                  _doc(6, "K3", "身份证复印件"), _doc(7, "K4", "保单")):
            session.add(d)
    engine.dispose()


def test_completeness_names_every_missing_type(instance: Callable[..., Settings],
                                               tmp_path: Path) -> None:
    s = instance(completeness={"record_types": {"投保单": ["投保单", "保单"]},
                               "stale_days": 365})
    fixture(s)
    rules = doctypes.rules_from(s.classify)
    engine = make_engine(s.db_url)
    with session_scope(engine) as session:
        rep = completeness.check(session, s.completeness, rules, EVERYTHING, now=NOW)
        by_key = {(f.kind, f.key): f for f in rep.files}
        assert set(by_key) == {("client", "K1"), ("client", "K2"), ("client", "K3"),
                               ("record", "R1"), ("record", "R2")}
        k1 = by_key["client", "K1"]
        assert (k1.present, k1.unverified, k1.missing) == (
            ("理赔申请书", "身份证复印件"), ("医疗费用清单",), ("银行账户信息",))
        assert by_key["client", "K2"].missing == tuple(CLAIM_LIST)
        k3 = by_key["client", "K3"]
        assert k3.present == tuple(UW_LIST) and k3.complete and k3.stale == ("register",)
        r1 = by_key["record", "R1"]
        assert (r1.department, r1.present, r1.missing) == (
            "理赔部", ("理赔申请书",), ("身份证复印件", "医疗费用清单", "银行账户信息"))
        r2 = by_key["record", "R2"]
        assert (r2.present, r2.missing, r2.stale) == (("投保单",), ("保单",), ("documents",))
        tally = rep.by_department()
        assert {d: (t.files, t.complete, t.missing) for d, t in tally.items()} == {
            "理赔部": (2, 0, 5), "承保部": (1, 1, 0)}

        # A 承保部 officer (内部: the 机密 ID copy of K1 is none of theirs anyway) sees only
        # 承保部's files; a 理赔部 officer below 机密 still sees K1's ID copy as present.
        uw = make_scope(["承保部"], "内部", s.access.levels, s.access.default_level,
                        s.access.type_levels)
        assert {f.key for f in completeness.check(session, s.completeness, rules, uw,
                                                  now=NOW).files} == {"K3", "R2"}
        claims = make_scope(["理赔部"], "内部", s.access.levels, s.access.default_level,
                            s.access.type_levels)
        mine = {f.key: f for f in completeness.check(session, s.completeness, rules, claims,
                                                     now=NOW).files}
        assert set(mine) == {"K1", "K2", "R1"} and "身份证复印件" in mine["K1"].present
        only = completeness.check(session, s.completeness, rules, EVERYTHING,
                                  department="承保部", now=NOW)
        assert {f.key for f in only.files} == {"K3", "R2"}
    engine.dispose()

    # The command, as JSON and CSV (today is later than NOW: K3's register is stale still).
    cfg = write_config(s, tmp_path / "p.toml")
    with cfg.open("a", encoding="utf-8") as f:
        f.write('[completeness]\nstale_days = 365\n[completeness.record_types]\n'
                '"投保单" = ["投保单", "保单"]\n')
    runner = CliRunner()
    res = runner.invoke(cli_app, ["-c", str(cfg), "completeness", "--json"])
    assert res.exit_code == 0, res.output
    files = {f["key"]: f for f in json.loads(res.stdout)["files"]}
    assert files["K2"]["missing"] == CLAIM_LIST and files["R2"]["missing"] == ["保单"]
    res = runner.invoke(cli_app, ["-c", str(cfg), "completeness", "--csv",
                                  "--department", "理赔部", "-o", str(tmp_path / "c.csv")])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text("utf-8-sig"))))
    assert {r["key"]: r["missing"] for r in rows} == {
        "K1": "银行账户信息", "K2": " ".join(CLAIM_LIST),
        "R1": "身份证复印件 医疗费用清单 银行账户信息"}

    # A scoped auditor's coverage lists their departments' records only.
    res = runner.invoke(cli_app, ["-c", str(cfg), "users", "add", "sun.uw", "-r", "auditor",
                                  "-d", "承保部", "--no-password"])
    assert res.exit_code == 0, res.output
    auditor_cfg = write_config(s.model_copy(update={"actor": "sun.uw"}), tmp_path / "a.toml")
    res = runner.invoke(cli_app, ["-c", str(auditor_cfg), "coverage", "--json"])
    assert res.exit_code == 0, res.output
    cov = json.loads(res.stdout)
    assert list(cov["by_department"]) == ["承保部"] and cov["totals"]["total"] == 1
    res = runner.invoke(cli_app, ["-c", str(cfg), "coverage", "--json"])
    assert json.loads(res.stdout)["totals"]["total"] == 2  # unscoped: R1 (no department) too
