"""An auditor in Chromium at both screen sizes: the coverage dashboard, a bar clicked to its
records, a spot-check sample drawn and read page by page, a fail without a reason refused
with the form kept, then a pass; the audit chain verified now; a register uploaded through
its preview. No page scrolls sideways, nothing is blocked by the CSP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from rich.progress import Progress
from sqlmodel import Session, delete, select

from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.access import Role
from papervault.index.catalog.db import make_engine, session_scope, upgrade
from papervault.index.catalog.models import Client, Document, PaperRecord
from papervault.index.coverage.tables import QaCheck
from papervault.index.registers.tables import import_paper_records
from tests.e2e.browser import check_page, chromium, free_port, new_page, serve, sign_in
from tests.factories import form_lines, write_form
from tests.integration.test_access import set_password

AUDITOR, PASSWORD = "wangfang", "correct horse battery"
CLIENT = "KH-2024-000123"


def _seed(s: Settings, folder: Path) -> int:
    """A real two-page scan, captured and OCR'd, and a register with gaps in it."""
    from papervault.ingest.service import ingest_paths

    engine = make_engine(s.db_url)
    upgrade(engine)
    with session_scope(engine) as db:
        db.add(Client(client_id=CLIENT, name="张伟"))
        user, _ = users.add_user(db, AUDITOR, frozenset({Role.AUDITOR}), by="test")
    set_password(s, AUDITOR, PASSWORD)
    pages = [Image.open(write_form(folder / f"p{i}.png", form_lines(client_id=CLIENT)))
             for i in (1, 2)]
    scan = folder / "投保单-0001.tif"
    pages[0].save(scan, save_all=True, append_images=pages[1:], compression="tiff_deflate",
                  dpi=(300, 300))
    with Progress(disable=True) as p:
        assert ingest_paths(s, [scan], p, drain_ocr=True)[0]["outcome"] == "stored"
    with session_scope(engine) as db:
        doc = db.exec(select(Document)).one()
        doc.record_no = "DA-2024-LP-0001"
        db.add(doc)
        import_paper_records(db, [
            PaperRecord(record_no="DA-2024-LP-0001", client_id=CLIENT, title="车险理赔卷",
                        department="理赔部", year=2024, expected_pages=2, shelf="A2"),
            *[PaperRecord(record_no=f"DA-2024-LP-00{i:02d}", department="理赔部", year=2024,
                          title=f"理赔卷{i}", room="3号库房", shelf=f"A-{i}", box="12")
              for i in range(2, 6)],
            *[PaperRecord(record_no=f"DA-2023-HB-00{i:02d}", department="核保部", year=2023,
                          title=f"核保卷{i}", shelf=f"B-{i}") for i in range(1, 4)],
        ])
        assert doc.id is not None and doc.page_count == 2
        doc_id = doc.id
    engine.dispose()
    return doc_id


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_auditors_day_at_both_sizes(instance: Callable[..., Settings],
                                       tmp_path: Path) -> None:
    s = instance(web={"host": "127.0.0.1", "port": free_port()}, access={"login": True})
    (tmp_path / "scans").mkdir()
    doc_id = _seed(s, tmp_path / "scans")
    register = tmp_path / "纸质档案.csv"
    register.write_text("档号,年度,部门,题名\nDA-2022-HB-0009,2022,核保部,核保卷9\n",
                        encoding="utf-8-sig")
    with serve(s) as base, chromium() as browser:
        for viewport in ("desktop", "phone"):
            engine = make_engine(s.db_url)
            with Session(engine) as db:  # each size starts from an archive never sampled
                db.exec(delete(QaCheck))  # type: ignore[call-overload]
                db.commit()
            engine.dispose()
            w = new_page(browser, viewport)
            page = w.page
            sign_in(page, base, AUDITOR, PASSWORD)
            page.goto(base + "/coverage")
            check_page(w, f"auditor-coverage-{viewport}")

            # 核保部 2023 is three unscanned records: its grey part lists exactly those.
            seg = page.locator("#chart li", has_text="核保部 · 2023").locator("a[data-state=none]")
            seg.click()
            page.wait_for_url("**state=none**")
            assert page.is_visible("#cov-filtered")
            rows = page.locator("#flagged tr.state-none")
            assert rows.count() == 3
            assert all("HB" in t for t in rows.all_inner_texts())
            check_page(w, f"auditor-coverage-filtered-{viewport}")

            page.goto(base + "/qa")
            assert page.is_visible("#qa-empty")
            page.select_option("#qa-fraction", "0.5")
            page.click("#qa-draw-button")
            page.wait_for_selector("#flash")
            assert "已抽取 1 份" in page.inner_text("#flash")
            check_page(w, f"auditor-qa-list-{viewport}")

            page.click(f"#qa-open-{doc_id}")
            page.wait_for_selector("#qa-page-of")
            assert page.inner_text("#qa-page-of") == "第 1 / 2 页"
            page.click("#qa-next")
            page.wait_for_url("**page=2")
            page.wait_for_function(
                "() => document.querySelector('#qa-page-image').naturalWidth >= 1000")
            assert page.inner_text("#qa-page-of") == "第 2 / 2 页"
            box = page.locator("#qa-page-image").bounding_box()
            assert box is not None and box["width"] >= min(700, page.viewport_size["width"] - 40)
            check_page(w, f"auditor-qa-page-{viewport}")

            page.click("#qa-fail")  # no reason given
            page.wait_for_selector("#qa-reason-error")
            assert "请写明原因" in page.inner_text("#qa-reason-error")
            assert page.inner_text("#qa-page-of") == "第 2 / 2 页"  # still on the same page
            check_page(w, f"auditor-qa-refused-{viewport}")
            page.click("#qa-pass")
            page.wait_for_url(base + "/qa")
            assert "合格" in page.inner_text("#flash")

            page.goto(base + "/audit")
            page.click("#audit-verify")
            page.wait_for_selector("#flash")
            assert "审计链完整" in page.inner_text("#flash")
            assert "完整" in page.inner_text("#chain-badge")
            assert "抽检合格" in page.inner_text("#audit-entries")
            check_page(w, f"auditor-audit-{viewport}")

            page.goto(base + "/registers")
            page.set_input_files("#reg-file", str(register))
            page.click("#reg-preview")
            page.wait_for_selector("#reg-rows")
            check_page(w, f"auditor-register-preview-{viewport}")
            page.click("#reg-confirm")
            page.wait_for_selector("#flash")
            assert "纸质档案" in page.inner_text("#flash")
            page.context.close()
