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
