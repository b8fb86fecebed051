"""Records that add up (issue 15), with real OCR of generated forms and their registers
imported first: a form naming several registered clients gets its 档号 (record first), the
other clients are mentioned parties, hand links can set a 档号, department/type/date come
from the register, and coverage tells "scanned, awaiting review" from "no scan"."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session
from typer.testing import CliRunner

from papervault.config.errors import LinkMismatch
from papervault.config.settings import Settings
from papervault.index.accounts.scope import EVERYTHING
from papervault.index.archive import client_dict, client_view
from papervault.index.catalog.models import Document
from papervault.index.coverage import report as coverage
from papervault.ingest.cli import app
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import open_runtime
from tests.conftest import write_config
from tests.factories import write_form

A, B, C = "KH-2016-011490", "KH-2025-503311", "KH-2019-000777"
REGISTER = (
    "档号,客户编号,题名,部门,年度,存放位置\n"
    f"DA-2024-LP-00101,{B},投保单,理赔部,2024,3号库房/A-1/001\n"
    f"DA-2023-LP-00102,{C},理赔申请书,理赔部,2023,3号库房/A-1/002\n"
    f"DA-2022-XS-00103,{A},保全申请书,销售部,2022,3号库房/A-1/003\n"
    f"DA-2022-XS-00104,{A},保全申请书,销售部,2022,3号库房/A-1/004\n"
    f"DA-2021-XS-00105,{A},保单,销售部,2021,3号库房/A-2/005\n"
)


def _form(*lines: str) -> list[str]:
    return ["华夏安康人寿保险 投保单", *lines, "出险时间：2024年3月15日  出险地点：上海市浦东新区"]


def test_record_first_links_parties_hand_links_and_honest_coverage(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    s = instance()
    cfg = write_config(s, tmp_path / "pv.toml")
    runner = CliRunner()

    def cli(*args: str) -> Any:
        res = runner.invoke(app, ["-c", str(cfg), *args])
        assert res.exit_code == 0, res.output
        return res

    clients = tmp_path / "clients.csv"
    clients.write_text(f"客户编号,姓名,部门\n{A},张伟,销售部\n{B},李娜,理赔部\n{C},王芳,理赔部\n",
                       encoding="utf-8")
    cli("clients", "import", str(clients))
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    cli("paper", "import", str(register))

    ctx = open_runtime(s).capture_context()
    forms = {  # each names two registered clients; what decides is the 档号 printed on it
        "one_record": write_form(s.inbox / "scan_005.png", _form(
            f"投保人客户号：{A}", f"被保险人客户号：{B}", "档号：DA-2024-LP-00101"), dpi=200),
        "no_record": write_form(s.inbox / "scan_011.png", _form(
            f"投保人客户号：{A}", f"被保险人客户号：{C}"), dpi=200),
        "two_records": write_form(s.inbox / "scan_012.png", _form(
            f"客户号：{A}", "档号：DA-2022-XS-00103", "附 DA-2022-XS-00104"), dpi=200),
    }
    ids = {}
    for key, path in forms.items():
        out = capture(path, ctx)
        assert isinstance(out, Stored)
        ids[key] = out.document_id
    cli("worker", "--drain")
    engine = open_runtime(s).engine

    def doc(key: str) -> Document:
        with Session(engine) as db:
            found = db.get(Document, ids[key])
            assert found is not None
            return found

    one = doc("one_record")
    assert (one.link_state, one.client_id, one.record_no) == ("linked", B, "DA-2024-LP-00101")
    assert (one.department, one.doc_type, one.doc_date) == ("理赔部", "投保单", date(2024, 3, 15))
    assert (doc("no_record").link_state, doc("two_records").link_state) == ("ambiguous",) * 2

    def search(*args: str) -> set[int]:
        res = cli("search", *args, "--json")
        return {h["id"] for h in json.loads(res.stdout)["hits"]}

    # Both clients on the form find it; the other party's client page lists it.
    assert ids["one_record"] in search("--client", A) & search("--client", B)
    shown = json.loads(cli("show", str(ids["one_record"]), "--json").stdout)
    assert shown["parties"] == [A]
    with Session(engine) as db:
        page = client_dict(client_view(db, A, EVERYTHING))
    assert ids["one_record"] in [d["id"] for d in page["mentioned_in"]]
    # The register's department, type and the form's own date are search filters now.
    assert ids["one_record"] in search("--department", "理赔部")
    # Its type is the record's 题名; the other forms may get 投保单 from the keyword rules
    # (tiers), which never outrank a record's.
    assert ids["one_record"] in search("--type", "投保单")
    assert shown["doc_type_source"] == "record"
    assert ids["one_record"] in search("--from", "2024-03-15", "--to", "2024-03-15")

    rep = json.loads(cli("coverage", "--json").stdout)
    states = {f["record_no"]: f["state"] for f in rep["flagged"]}
    # 00103/00104 are scanned (one form names both): awaiting review, not "no scan".
    assert states == {"DA-2023-LP-00102": "none", "DA-2022-XS-00103": "review",
                      "DA-2022-XS-00104": "review", "DA-2021-XS-00105": "none"}
    assert (rep["totals"]["verified"], rep["totals"]["review"], rep["totals"]["none"]) == (1, 2, 2)
    assert rep["catalogue"] == {"rows_without_images": 2, "images_without_row": 2,
                                "page_mismatch": 0, "ok": False}
    with Session(engine) as db:
        sheets = [r.record_no for r in coverage.sheet_records(db, every=False)]
    assert sheets == ["DA-2021-XS-00105", "DA-2023-LP-00102"]  # none for scanned files

    # A hand link with a 档号: the register's client comes with it; a mismatch is refused.
    bad = runner.invoke(app, ["-c", str(cfg), "review", "--link", str(ids["no_record"]),
                              "--client", A, "--record", "DA-2023-LP-00102"])
    assert isinstance(bad.exception, LinkMismatch) and bad.exception.exit_code == 2
    said = bad.exception.message("zh")
    assert "DA-2023-LP-00102" in said and C in said and A in said
    assert doc("no_record").link_state == "ambiguous"  # nothing half-stored
    cli("review", "--link", str(ids["no_record"]), "--record", "DA-2023-LP-00102")
    hand = doc("no_record")
    assert (hand.link_state, hand.link_source, hand.client_id, hand.record_no) == (
        "linked", "manual", C, "DA-2023-LP-00102")
    assert (hand.department, hand.doc_type) == ("理赔部", "理赔申请书")
    cli("paper", "import", str(register))  # relinking keeps the hand link
    assert (doc("no_record").client_id, doc("no_record").record_no) == (C, "DA-2023-LP-00102")

    rep = json.loads(cli("coverage", "--json").stdout)
    assert (rep["totals"]["verified"], rep["totals"]["review"], rep["totals"]["none"]) == (2, 2, 1)
    assert rep["catalogue"]["rows_without_images"] == 1
    table = cli("coverage").stdout
    assert "DA/T 31" in table and "待核实 review: 2" in table
