"""Migration 0011_records fills 部门, 文件类型 and 文件日期 on documents linked before it (B2),
and recomputes every record's coverage code, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from papervault.index.catalog.db import upgrade
from tests.conftest import engine_at


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with engine_at(request.param, tmp_path, "0010_worker_beat") as eng:
        yield eng


_DOC = ("INSERT INTO document (sha256, size, original_name, source_folder, media_type,"
        " object_name, object_size, wrapped_key, key_id, state, link_state, client_id,"
        " record_no, doc_type, ingested_at, verify_state, text, candidates, warnings)"
        " VALUES (:sha, 1, :name, '', 'png', :obj, 1, :key, 'k', 'indexed', 'linked', :client,"
        " :rec, :type, CURRENT_TIMESTAMP, 'verified', :text, '', '[]')")


def test_documents_linked_before_get_their_register_metadata(old_engine: Engine) -> None:
    with old_engine.begin() as c:
        c.execute(text("INSERT INTO client (client_id, name, department, policy_numbers,"
                       " updated_at) VALUES ('KH-2024-000123', '张伟', '销售部', '',"
                       " CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO paperrecord (record_no, client_id, title, department, year,"
                       " updated_at) VALUES ('DA-2021-LP-00012', 'KH-2024-000123', '投保单',"
                       " '理赔部', 2021, CURRENT_TIMESTAMP)"))
        rows = [("a", "KH-2024-000123", "DA-2021-LP-00012", None, "出险日期：2024年3月15日"),
                ("b", "KH-2024-000123", None, None, "无日期"),
                ("c", "KH-2024-000123", "DA-2021-LP-00012", "批单", "无日期")]
        for name, client, rec, typ, body in rows:
            c.execute(text(_DOC), {"sha": name * 64, "name": name, "obj": "o-" + name,
                                   "key": b"k", "client": client, "rec": rec, "type": typ,
                                   "text": body})
    upgrade(old_engine)
    with old_engine.connect() as c:
        got = {r.original_name: (r.department, r.doc_type, r.doc_type_source,
                                 None if r.doc_date is None else str(r.doc_date)[:10])
               for r in c.execute(text("SELECT original_name, department, doc_type,"
                                       " doc_type_source, doc_date FROM document"))}
        code = c.execute(text("SELECT code FROM record_state")).scalar_one()
    assert got == {"a": ("理赔部", "投保单", "record", str(date(2024, 3, 15))),
                   "b": ("销售部", None, None, None),
                   "c": ("理赔部", "批单", "manual", "2021-01-01")}
    assert code == 1  # verified
