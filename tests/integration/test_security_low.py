"""Security review L1 (integer overflow 500s) and L5 (types and headers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

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
