"""Several documents of one client linked at once from the review queue (all or none)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import AuditEntry, Client, Document, PaperRecord
from papervault.index.web.app import create_app

CLIENT, OTHER = "KH-2024-000123", "KH-2023-000456"


def _doc(n: int) -> Document:
    return Document(sha256=f"{n:064x}", size=1, original_name=f"scan{n}.pdf", media_type="pdf",
                    object_name=f"o/{n}", object_size=1, wrapped_key=b"k", key_id="k",
                    link_state="unlinked", verify_state="verified", page_count=1)


def test_ticked_documents_are_linked_to_one_client_or_none_are(
    instance: Callable[..., Settings],
) -> None:
    s = instance()
    with TestClient(create_app(s)) as web:
        engine = web.app.state.engine  # type: ignore[attr-defined]
        with session_scope(engine) as db:
            db.add(Client(client_id=CLIENT, name="张伟"))
            db.add(Client(client_id=OTHER, name="李娜"))
            db.add(PaperRecord(record_no="DA-2023-HB-0001", client_id=OTHER, title="核保卷"))
            for n in (1, 2, 3):
                db.add(_doc(n))
        page = web.get("/review").text
        assert 'id="bulk"' in page and page.count('name="doc_ids"') == 3
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        token = csrf.group(1)

        # A 档号 of another client: refused for the second, so none is linked.
        r = web.post("/review/bulk", data={"csrf": token, "doc_ids": ["1", "2"],
                                           "client_id": CLIENT,
                                           "record_no": "DA-2023-HB-0001"})
        assert "均未关联" in r.text and r.url.path == "/review"
        with Session(engine) as db:
            assert [d.client_id for d in db.exec(select(Document))] == [None] * 3

        r = web.post("/review/bulk", data={"csrf": token, "doc_ids": ["1", "3"]})
        assert "请先选择或输入要关联的客户号" in r.text
        r = web.post("/review/bulk", data={"csrf": token, "client_id": CLIENT})
        assert "请先勾选要关联的文档" in r.text

        r = web.post("/review/bulk", data={"csrf": token, "doc_ids": ["1", "3"],
                                           "client_id": CLIENT})
        assert f"已将 2 份文档关联到 {CLIENT}。" in r.text
        assert 'id="doc-2"' in r.text and 'id="doc-1"' not in r.text  # still waiting
        assert 'id="bulk"' not in r.text  # one left: nothing to link in bulk
        with Session(engine) as db:
            linked = {d.id: (d.client_id, d.link_state) for d in db.exec(select(Document))}
            actions = [a.action for a in db.exec(select(AuditEntry))]
        assert linked[1] == (CLIENT, "linked") and linked[3] == (CLIENT, "linked")
        assert linked[2][0] is None
        assert actions.count("link") + actions.count("review.link") >= 2, actions
