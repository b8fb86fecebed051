"""Security review L1 (integer overflow 500s) and L5 (types and headers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from papervault.config.settings import Settings
from papervault.index.web.app import create_app
from tests.integration.test_search_access import ingest_claim

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [
    f"/api/documents/{HUGE}", f"/documents/{HUGE}", f"/documents/{HUGE}/original",
    "/api/search?q=x&page=9223372036854775807", f"/api/audit?offset={HUGE}",
])
def test_numbers_past_the_integer_range_are_a_client_error(
    instance: Callable[..., Settings], path: str,
) -> None:
    with TestClient(create_app(instance())) as web:
        r = web.get(path, follow_redirects=False)
    assert 400 <= r.status_code < 500, (path, r.status_code)


def test_originals_have_their_type_and_pages_the_security_headers(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    s = instance(actor="li.officer")
    doc_id, _ = ingest_claim(s, tmp_path / "scans")
    with TestClient(create_app(s)) as web:
        original = web.get(f"/api/documents/{doc_id}/original")
        page = web.get(f"/documents/{doc_id}")
    assert original.headers["content-type"] == "image/png"
    for r in (original, page):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"  # OCR text on a shared PC


def test_unknown_sign_in_names_are_kept_as_hashes_and_throttling_writes_little(
    instance: Callable[..., Settings],
) -> None:
    """L8: a password typed into the name box is not kept; L2: a throttled address adds
    one row a minute, not one per request."""
    import re

    from sqlmodel import Session, select

    from papervault.index.catalog.db import make_engine
    from papervault.index.catalog.models import AuditEntry

    s = instance(access={"login": True, "max_failed_logins_per_address": 3})
    with TestClient(create_app(s), client=("10.77.0.1", 5000)) as web:
        m = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text)
        assert m is not None
        for _ in range(40):
            web.post("/login", data={"username": "Secret-Passw0rd!", "password": "x",
                                     "csrf": m.group(1)})
    engine = make_engine(s.db_url)
    with Session(engine) as db:
        rows = db.exec(select(AuditEntry)).all()
    engine.dispose()
    assert not any("Secret-Passw0rd" in (e.actor + e.target + e.detail) for e in rows)
    assert sum(e.action == "login.throttled" for e in rows) == 1


def test_qa_sample_is_bounded() -> None:
    from papervault.config.errors import BadInput
    from papervault.index.coverage import qa

    with pytest.raises(BadInput):
        qa.draw(None, 1.0)  # type: ignore[arg-type]


def _shared_content_pdf(path: Path, pages: int, spaces: int) -> Path:
    """The review's flatebomb.pdf in small: every page draws one Flate content stream of
    ``spaces`` spaces (it compresses about a thousandfold)."""
    import zlib

    import pikepdf

    pdf = pikepdf.new()
    content = pikepdf.Stream(pdf, b"")
    content.write(zlib.compress(b" " * spaces, 9), filter=pikepdf.Name.FlateDecode)
    for _ in range(pages):
        pdf.add_blank_page(page_size=(612, 792))
        pdf.pages[-1].obj.Contents = content
    pdf.save(path)
    return path


def test_a_pdf_whose_content_expands_past_any_scan_is_refused_at_triage(tmp_path: Path
                                                                        ) -> None:
    """M6: GIVEN a PDF of a few kB whose pages share one content stream that inflates to
    64 MiB (a page limit of 32) or 20 × 2 MiB (a document limit of 16 for this test)
    WHEN triage looks at it THEN it is refused with the reason, before any page is
    rendered; an ordinary generated scan passes."""
    from dataclasses import replace

    from papervault.config.settings import LimitSettings
    from papervault.ingest.errors import Rejected
    from papervault.ingest.inbox import locate
    from papervault.ingest.stages.triage import Limits, triage
    from tests.factories import write_multipage_pdf

    limits = Limits(**LimitSettings().model_dump())
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def verdict(path: Path, lim: Limits = limits) -> str:
        try:
            with locate(inbox, path) as entry:
                triage(entry, lim)
        except Rejected as e:
            assert e.message("zh") and e.message("en")
            return e.key
        return "ok"

    bomb = _shared_content_pdf(inbox / "flatebomb.pdf", pages=20, spaces=64 * 1024 * 1024)
    assert bomb.stat().st_size < 200_000
    assert verdict(bomb) == "page_content_too_large"
    shared = _shared_content_pdf(inbox / "shared.pdf", pages=20, spaces=2 * 1024 * 1024)
    assert verdict(shared) == "ok"
    assert verdict(shared, replace(limits, max_content_mb=16)) == "content_too_large"
    scan = write_multipage_pdf(inbox / "scan.pdf", [["保单 P2024"], ["理赔 claim"]], dpi=100)
    assert verdict(scan) == "ok"


def test_a_query_of_signs_alone_finds_nothing(engine: Engine) -> None:
    """L9: ``*``, ``-``, a quote, ``(`` or ``\\`` listed every document; an empty query still
    lists by filters (the search page's first view)."""
    from papervault.index.catalog.db import session_scope
    from tests.integration.test_search import found, make_doc

    with session_scope(engine) as s:
        s.add(make_doc(1, "理赔 Claim normal words"))
        s.add(make_doc(2, "保单 policy"))
    for q in ("*", "-", '"', "(", "\\", "* - ( )"):
        assert found(engine, q) == set(), q
    assert found(engine, "") == {1, 2}
    assert found(engine, "理赔*") == {1}
