"""Records officers' pages on real OCR'd forms, on SQLite and PostgreSQL: results with a
title, client name and thumbnail in three orders, the viewer's page with the query marked
and back/next through the results, and the review queue from candidates to a hand link."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.progress import Progress
from sqlmodel import Session, col, select

from papervault.config.settings import Settings
from papervault.index.accounts.scope import EVERYTHING
from papervault.index.catalog.db import make_engine, upgrade
from papervault.index.catalog.models import Client, Document, PaperRecord
from papervault.index.registers import review_queue as review
from papervault.index.web.app import create_app
from tests.factories import form_lines, write_form
from tests.integration.test_search_access import audit_actions

CLIENT, OTHER, RECORD = "KH-2024-000123", "KH-2023-000456", "DA-2024-LP-0001"


def ingest_pair(s: Settings, folder: Path) -> tuple[int, int]:
    """GIVEN both clients and one paper record registered, a claim form naming one client
    and its 档号 (linked), then a form naming two clients (held for review)."""
    from papervault.ingest.service import ingest_paths

    engine = make_engine(s.db_url)
    upgrade(engine)
    with Session(engine) as session:
        session.add(Client(client_id=CLIENT, name="张伟", policy_numbers="BD2024000123"))
        session.add(Client(client_id=OTHER, name="李娜", policy_numbers="BD2023000456"))
        session.add(PaperRecord(record_no=RECORD, client_id=CLIENT, title="车险理赔卷"))
        session.commit()
    write_form(folder / "a" / "批次01" / "scan-0001.png",
               form_lines(client_id=CLIENT, extra=f"档号：{RECORD}"))
    write_form(folder / "b" / "批次01" / "scan-0002.png",
               form_lines(client_id=CLIENT, extra=f"关联客户号：{OTHER}"))
    with Progress(disable=True) as p:
        for batch in ("a", "b"):  # one at a time: the second is the newer
            out = ingest_paths(s, [folder / batch], p, drain_ocr=True)
            assert out[0]["outcome"] == "stored"
    with Session(engine) as session:
        docs = session.exec(select(Document).order_by(col(Document.id))).all()
        assert [d.link_state for d in docs] == ["linked", "ambiguous"], \
            [(d.link_state, d.candidates) for d in docs]
        ids = (int(docs[0].id or 0), int(docs[1].id or 0))
    engine.dispose()
    return ids


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def hit_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a class="title[^"]*" href="/documents/(\d+)', html)]


@pytest.mark.slow
def test_results_viewer_and_review_queue(instance: Callable[..., Settings],
                                         tmp_path: Path) -> None:
    s = instance(actor="li.officer")
    linked, held = ingest_pair(s, tmp_path / "scans")
    with TestClient(create_app(s), client=("127.0.0.1", 5000)) as web:
        # WHEN the officer searches a word both forms hold
        page = web.get("/", params={"q": "理赔"})
        assert page.status_code == 200
        # THEN the linked form is titled by its paper record's 题名, with the client's name,
        # and a thumbnail from the worker's pages
        assert ">车险理赔卷</a>" in page.text and "张伟" in page.text
        assert f'src="/documents/{linked}/pages/1.jpg?w=200"' in page.text
        assert web.get(f"/documents/{linked}/pages/1.jpg", params={"w": 200}
                       ).content[:2] == b"\xff\xd8"
        newest = web.get("/", params={"q": "理赔", "sort": "newest"})
        assert hit_ids(newest.text) == [held, linked]
        assert 'id="sort-newest" aria-current="true"' in newest.text
        assert web.get("/", params={"q": "理赔", "sort": "date"}).status_code == 200
        assert web.get("/", params={"q": "理赔", "sort": "sideways"}).status_code == 400

        # WHEN they open the first result, on the viewer's first page
        doc = web.get(f"/documents/{held}", params={"q": "理赔", "sort": "newest",
                                                    "page": 1, "i": 0})
        # THEN the page image is offered at several widths, the page's text has the query
        # marked, and next leads to the second result with the query carried
        assert f"/documents/{held}/pages/1.jpg?w=1600 1600w" in doc.text
        text = re.search(r'<pre class="ocr pv-ocr" id="page-text">(.*?)</pre>', doc.text, re.S)
        assert text and "<mark>理赔</mark>" in text.group(1).replace(" ", "")
        nxt = re.search(r'id="next-doc" href="([^"]+)"', doc.text)
        assert nxt and nxt.group(1).startswith(f"/documents/{linked}?")
        assert "q=%E7%90%86%E8%B5%94" in nxt.group(1) and "i=1" in nxt.group(1)
        assert 'id="prev-doc"' not in doc.text
        back = web.get(nxt.group(1).replace("&amp;", "&"))
        assert re.search(rf'id="prev-doc" href="/documents/{held}\?', back.text)
        assert 'id="back-to-results" href="/?q=' in back.text
        assert "DA-2024-LP-0001" in back.text and "车险理赔卷" in back.text

        # WHEN they open the review queue
        queue = web.get("/review")
        # THEN the held form is there with both clients and the OCR line each came from
        assert f'id="doc-{held}"' in queue.text and f'id="doc-{linked}"' not in queue.text
        assert "关联客户号" in queue.text and "李娜" in queue.text
        assert f"/documents/{held}/pages/1.jpg?w=400" in queue.text
        # search-as-you-type finds clients by name and records by 档号
        found = web.get("/review/matches", params={"doc": held, "typed": "李娜"})
        assert f'data-client="{OTHER}"' in found.text
        by_record = web.get("/review/matches", params={"doc": held, "typed": "LP-0001"})
        assert f'data-record="{RECORD}"' in by_record.text
        assert "没有" in web.get("/review/matches", params={"doc": held, "typed": "王五"}).text

        # a post without the page's token is refused; an unknown client is sent back
        assert web.post(f"/review/{held}/link", data={"client_id": OTHER},
                        follow_redirects=False).status_code == 403
        token = csrf_of(queue.text)
        wrong = web.post(f"/review/{held}/link", data={"client_id": "KH-2099-000000",
                                                       "csrf": token})
        assert "KH-2099-000000" in wrong.text and f'id="doc-{held}"' in wrong.text
        # WHEN they link the held form to the second client
        done = web.post(f"/review/{held}/link", data={"client_id": OTHER.lower(),
                                                      "csrf": token}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/review"
        after = web.get("/review")
        # THEN it leaves the queue, with a message, and the client page lists it
        assert f'id="doc-{held}"' not in after.text and OTHER in after.text
        assert f'href="/documents/{held}"' in web.get(f"/clients/{OTHER}").text
    assert ("link", f"document:{held}", "web 127.0.0.1") in audit_actions(s)
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        d = session.get(Document, held)
        assert d is not None and (d.client_id, d.link_state, d.link_source) == (
            OTHER, "linked", "manual")
    engine.dispose()


def test_register_matches_and_where_found(engine: object) -> None:
    """The service the page calls: matches by ID, name, policy and 档号; the OCR line."""
    with Session(engine) as session:  # type: ignore[arg-type]
        session.add(Client(client_id=CLIENT, name="张伟", policy_numbers="BD2024000123"))
        session.add(PaperRecord(record_no=RECORD, client_id=CLIENT, title="车险理赔卷"))
        session.commit()
        assert [m.value for m in review.matches(session, "kh-2024")] == [CLIENT]
        assert [m.value for m in review.matches(session, "BD2024")] == [CLIENT]
        assert [(m.kind, m.client_id) for m in review.matches(session, "理赔卷")] == [
            ("record", CLIENT)]
        assert review.matches(session, "张") == []  # one character: too broad to list
        doc = Document(sha256="0" * 64, size=1, original_name="a.png", media_type="png",
                       object_name="o1", object_size=1, wrapped_key=b"k", key_id="k",
                       text="理赔申请书\n被保险人：张伟 保单号：BD 2024 000123\n",
                       candidates=f"{CLIENT} {RECORD}", link_state="ambiguous")
        session.add(doc)
        session.commit()
        got = {c.value: c for c in review.candidates_of(session, doc)}
        assert got[CLIENT].line == "被保险人：张伟 保单号：BD 2024 000123"
        assert got[CLIENT].source == "text" and got[RECORD].line is None
        assert got[RECORD].kind == "record" and got[RECORD].client_id == CLIENT


def test_sort_orders_and_batch_originals(engine: object) -> None:
    """Newest and document-date orders (undated last), and a 档号 filter finding a split
    batch's part, not the batch original it was cut from (B14)."""
    from datetime import UTC, date, datetime

    from papervault.index.catalog.db import session_scope
    from papervault.index.search.query import SearchQuery, search
    from tests.integration.test_search import make_doc

    with session_scope(engine) as s:  # type: ignore[arg-type]
        s.add(make_doc(1, "保单 理赔", ingested_at=datetime(2024, 1, 1, tzinfo=UTC),
                       doc_date=date(2023, 6, 1), record_no=RECORD))
        s.add(make_doc(2, "保单", ingested_at=datetime(2024, 3, 1, tzinfo=UTC)))
        s.add(make_doc(3, "保单", ingested_at=datetime(2024, 2, 1, tzinfo=UTC),
                       doc_date=date(2023, 9, 1)))
    with session_scope(engine) as s:  # type: ignore[arg-type]
        s.add(make_doc(4, "保单 理赔", ingested_at=datetime(2024, 4, 1, tzinfo=UTC),
                       record_no=RECORD, parent_id=1))

    def ids(**kw: object) -> list[int]:
        with session_scope(engine) as s:  # type: ignore[arg-type]
            return [h.document_id for h in search(s, SearchQuery(**kw), EVERYTHING).hits]  # type: ignore[arg-type]

    assert ids(q="保单", sort="newest") == [4, 2, 3, 1]
    assert ids(q="保单", sort="date") == [3, 1, 4, 2]  # undated: newest first, after dated
    assert ids(sort="date") == [3, 1, 4, 2]
    assert sorted(ids(q="理赔", record_no=RECORD)) == [1, 4]
    assert ids(q="理赔", record_no=RECORD, parts_only=True) == [4]
    assert ids(record_no=RECORD, parts_only=True) == [4]


def test_cli_review_link_uses_the_same_hand_link(instance: Callable[..., Settings],
                                                 tmp_path: Path) -> None:
    """``papervault review --link`` goes through the service the review page calls."""
    from typer.testing import CliRunner

    from papervault.ingest.cli import app as cli_app
    from tests.conftest import write_config
    from tests.integration.test_search import make_doc

    s = instance(actor="li.officer")
    engine = make_engine(s.db_url)
    upgrade(engine)
    with Session(engine) as session:
        session.add(Client(client_id=OTHER, name="李娜"))
        session.add(make_doc(7, "理赔", id=7, link_state="ambiguous",
                             candidates=f"{CLIENT} {OTHER}"))
        session.commit()
    cfg = write_config(s, tmp_path / "papervault.toml")
    out = CliRunner().invoke(cli_app, ["--config", str(cfg), "review", "--link", "7",
                                       "--client", OTHER.lower()])
    assert out.exit_code == 0, out.output
    with Session(engine) as session:
        d = session.get(Document, 7)
        assert d is not None and (d.client_id, d.link_source) == (OTHER, "manual")
        assert review.queue(session)[1] == 0
    engine.dispose()
    assert ("link", "document:7") in [(a, t) for a, t, _ in audit_actions(s)]
