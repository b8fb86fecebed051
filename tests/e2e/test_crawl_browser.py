"""Every page each role can reach, at 1366×768 and 390×844, in both UI languages: signed in
as the scanner, the officer, the auditor and the administrator, Chromium walks every
same-origin GET link from the nav and from the pages it finds (bounded; downloads, images,
the language switch and logout skipped) and checks each page: a screenshot, no sideways
scrolling, nothing blocked by the CSP.

The archive is seeded so that the pages have their full content (a linked and a held
document, clients, paper records with gaps, a spot-check sample, a quarantined file,
users with departments and a clearance): an empty page cannot overflow.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from rich.progress import Progress
from sqlmodel import Session

from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.access import Role
from papervault.index.catalog.db import make_engine
from papervault.index.catalog.models import Document, PaperRecord
from papervault.index.coverage import qa
from papervault.index.registers.tables import import_paper_records
from tests.e2e.browser import check_page, chromium, free_port, new_page, serve, sign_in
from tests.integration.test_access import set_password
from tests.integration.test_officer_web import ingest_pair

PASSWORD = "correct horse battery"
ROLES = {"scanner": Role.SCANNER, "officer": Role.OFFICER, "auditor": Role.AUDITOR,
         "admin": Role.ADMIN}
MAX_PAGES = 40  # per role and language: far more than the distinct pages any role has
# Not pages: files, page images, machine endpoints, and links that change state or language.
SKIP = re.compile(r"\.(csv|pdf|jpg|jpeg|png|tif|tiff|xlsx|json)$|/original$|/searchable$"
                  r"|^/(api|static|logout|healthz|readyz|docs|redoc|openapi)\b"
                  r"|^/intake/list|^/review/matches|^/admin/settings/test")


def _seed(s: Settings, folder: Path) -> None:
    from papervault.ingest.service import ingest_paths

    linked, _held = ingest_pair(s, folder)
    broken = folder / "损坏的扫描件_第二批_理赔部_2024年12月.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj<<>>\nthis is not a PDF at all")
    with Progress(disable=True) as p:
        assert ingest_paths(s, [broken], p)[0]["outcome"] == "quarantined"
    engine = make_engine(s.db_url)
    with Session(engine) as db:
        import_paper_records(db, [
            *[PaperRecord(record_no=f"DA-2024-LP-00{i:02d}", department="理赔部", year=2024,
                          title=f"机动车辆保险理赔案卷第{i}卷（含查勘报告、定损单、发票）",
                          room="3号库房", shelf=f"A-{i}", box="12") for i in range(2, 9)],
            *[PaperRecord(record_no=f"DA-2023-HB-00{i:02d}", department="核保部", year=2023,
                          title=f"核保卷{i}", shelf=f"B-{i}") for i in range(1, 4)],
        ])
        for name, role in ROLES.items():
            users.add_user(db, f"{name}-user", frozenset({role}), by="test",
                           display_name=f"测试{name}")
        users.add_user(db, "a-very-long-login-name-for-the-claims-department",
                       frozenset(Role), by="test", display_name="欧阳慕容·长名字的同事")
        # A long row in the users table: departments and a clearance (the officer keeps
        # every department, or the unfiled test documents would be out of their sight).
        users.set_scope(db, "a-very-long-login-name-for-the-claims-department",
                        ["理赔部", "核保部", "个人业务部"], None, s.access)
        qa.draw(db, fraction=0.5, seed=1)
        # Two documents waiting in the review queue: its bulk-link form shows.
        doc = db.get(Document, linked)
        assert doc is not None
        doc.link_state = "unlinked"
        db.add(doc)
        db.commit()
    engine.dispose()
    for name in ROLES:
        set_password(s, f"{name}-user", PASSWORD)


def _key(url: str) -> str:
    """Pages that differ only in ids or query values are one page to check."""
    parts = urlsplit(url)
    # Segments that are ids, client IDs, 档号 or user names (a digit, a dash, not ASCII).
    path = "/".join("X" if re.search(r"[\d\-_.]|[^\x00-\x7f]", seg) else seg
                    for seg in parts.path.split("/"))
    return path + "?" + ",".join(sorted({k for k, _ in parse_qsl(parts.query)}))


def _links(page: Any, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.href)")
    out = []
    for href in hrefs:
        url, _ = urldefrag(href)
        parts = urlsplit(url)
        if not url.startswith(base) or SKIP.search(parts.path):
            continue
        if any(k == "lang" for k, _ in parse_qsl(parts.query)):
            continue
        out.append(url)
    return out


def crawl(browser: Any, base: str, username: str, lang: str,
          failures: list[str]) -> list[str]:
    """Walk and check every page ``username`` reaches; returns the paths checked and adds
    every page that fails its check to ``failures`` (all of them, not only the first)."""
    pages = {}
    for viewport in ("desktop", "phone"):
        w = new_page(browser, viewport)
        sign_in(w.page, base, username, PASSWORD)
        w.page.goto(base + f"/account?lang={lang}")  # the language cookie for the walk
        pages[viewport] = w
    start = pages["desktop"].page.url
    seen, queue, checked = {_key(start)}, deque(
        [base + "/", base + "/account", base + "/?q=理赔"]), []
    while queue and len(checked) < MAX_PAGES:
        url = queue.popleft()
        for viewport, w in pages.items():
            w.problems.clear()
            response = w.page.goto(url)
            assert response is not None
            if viewport == "desktop":
                seen.add(_key(w.page.url))  # where a redirect landed
                checked.append(urlsplit(w.page.url).path)
                for link in _links(w.page, base):
                    if _key(link) not in seen:
                        seen.add(_key(link))
                        queue.append(link)
            landed = urlsplit(w.page.url)
            name = re.sub(r"[^\w-]+", "_", landed.path.strip("/") or "home") + "".join(
                sorted({f"-{k}" for k, _ in parse_qsl(landed.query) if k != "lang"}))
            try:
                check_page(w, f"crawl-{username}-{lang}-{name}-{viewport}")
            except AssertionError as e:
                failures.append(f"{username} {lang} {url}: {str(e).splitlines()[0]}")
    for w in pages.values():
        w.page.context.close()
    return checked


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_page_any_role_reaches_overflows(instance: Callable[..., Settings],
                                            tmp_path: Path) -> None:
    s = instance(web={"host": "127.0.0.1", "port": free_port()}, access={"login": True})
    _seed(s, tmp_path / "scans")
    reached: dict[str, list[str]] = {}
    failures: list[str] = []
    with serve(s) as base, chromium() as browser:
        for lang in ("zh", "en"):
            for name in ROLES:
                reached[f"{name}-{lang}"] = crawl(browser, base, f"{name}-user", lang,
                                                 failures)
    print(reached)
    assert failures == [], "\n".join(failures)
    # The walk really walked: each role reached its own area's pages.
    assert "/intake" in reached["scanner-zh"] and "/review" in reached["officer-zh"]
    assert "/qa" in reached["auditor-zh"] and "/admin/users" in reached["admin-zh"]
    assert any(p.startswith("/documents/") for p in reached["officer-en"])
