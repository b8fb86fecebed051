"""The auditors' dashboard on both databases: figures, chart, filters, CSV and cover sheets."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import AuditEntry, Document, PaperRecord
from papervault.index.registers.tables import import_paper_records
from papervault.index.web.app import create_app


def _seed(s: Settings) -> TestClient:
    app = create_app(s)
    with session_scope(app.state.engine) as db:
        import_paper_records(db, [
            PaperRecord(record_no="DA-2024-LP-000001", department="理赔部", year=2024,
                        client_id="KH-2024-000001", title="张伟", room="3号库房", shelf="A-1"),
            PaperRecord(record_no="DA-2024-LP-000002", department="理赔部", year=2024,
                        title="李娜", shelf="A-2"),
            PaperRecord(record_no="DA-2023-HB-000003", department="核保部", year=2023,
                        title="王芳", shelf="B-1"),
        ])
        db.add(Document(sha256="0" * 64, size=1, original_name="a.pdf", media_type="pdf",
                        object_name="o/1", object_size=1, wrapped_key=b"k", key_id="k",
                        record_no="DA-2024-LP-000001", verify_state="verified"))
        db.add(Document(sha256="1" * 64, size=1, original_name="b.pdf", media_type="pdf",
                        object_name="o/2", object_size=1, wrapped_key=b"k", key_id="k",
                        record_no="DA-2023-HB-000003", verify_state="failed"))
    return TestClient(app)


def test_dashboard_figures_filters_export_and_sheets(instance: Callable[..., Settings]) -> None:
    s = instance()
    client = _seed(s)
    page = client.get("/coverage")
    assert page.status_code == 200
    html = page.text
    assert 'id="fig-total">3<' in html and 'id="fig-percent">33.33%<' in html
    assert "DA-2024-LP-000002" in html and "DA-2023-HB-000003" in html
    assert "A-2" in html and "理赔部" in html and 'class="pv-bar ' in html

    # Each bar part links to exactly its records: 理赔部 2024 "not scanned" is record 2 only.
    import re

    links = dict((state, href.replace("&amp;", "&")) for href, state in re.findall(
        r'<a class="s-\w+ w-pct-\d+" href="([^"]+)"[^>]*data-state="(\w+)"', html))
    assert set(links) == {"verified", "none", "failed"}
    none_2024 = client.get(links["none"].split("#")[0]).text
    assert "DA-2024-LP-000002" in none_2024 and "DA-2023-HB-000003" not in none_2024
    assert 'id="cov-filtered"' in none_2024
    failed_2023 = client.get(links["failed"].split("#")[0]).text
    assert "DA-2023-HB-000003" in failed_2023 and "DA-2024-LP-000002" not in failed_2023

    only_failed = client.get("/coverage", params={"state": "failed"}).text
    assert "DA-2023-HB-000003" in only_failed and "DA-2024-LP-000002" not in only_failed
    assert client.get("/coverage", params={"state": "bogus"}).status_code == 400
    english = client.get("/coverage", params={"lang": "en"}).text
    assert "Backup coverage audit" in english

    csv = client.get("/coverage/flagged.csv", params={"department": "理赔部"})
    assert csv.content.startswith(b"\xef\xbb\xbf")
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and rows[1].startswith("DA-2024-LP-000002,none")

    pdf = client.get("/coverage/coversheets.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf.content)) as doc:
        assert len(doc.pages) == 2  # the two flagged records

    api = client.get("/api/coverage").json()
    assert api["totals"]["verified"] == 1 and api["flagged_total"] == 2
    with Session(client.app.state.engine) as db:  # type: ignore[attr-defined]
        actions = {a.action for a in db.exec(select(AuditEntry))}
    assert {"coverage.view", "coverage.export", "coversheets.print"} <= actions


def test_an_empty_register_says_so_instead_of_full_coverage(
    instance: Callable[..., Settings],
) -> None:
    with TestClient(create_app(instance())) as client:
        page = client.get("/coverage").text
    assert 'id="register-empty"' in page and 'href="/registers"' in page
    assert 'id="fig-percent">–</b>' in page and "100.0%" not in page
    assert 'id="none-flagged"' not in page  # not "every record is backed up" (B10)
