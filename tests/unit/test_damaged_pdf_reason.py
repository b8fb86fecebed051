"""A damaged PDF's quarantine reason: no Python repr of the stream qpdf read, and a Chinese
sentence without qpdf's English inside it (walkthrough B6, B13)."""

from __future__ import annotations

import io
import re

import pytest

from papervault.ingest.errors import Rejected
from papervault.ingest.stages.triage import Limits, _pdf_pages

LIMITS = Limits(max_bytes=10**8, max_pages=100, max_pixels=10**9, max_page_points=20_000,
                min_pixels_side=10)


def test_a_damaged_pdf_reads_in_one_language() -> None:
    with pytest.raises(Rejected) as caught:
        _pdf_pages(io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>\nthis is not a PDF at all"), LIMITS)
    e = caught.value
    assert e.key == "pdf_damaged"
    assert "stream <" not in e.message("en") and "BufferedReader" not in e.message("en")
    assert "trailer" in e.message("en")  # what qpdf found stays for the administrator
    assert not re.search(r"[A-Za-z]{3,}", e.message("zh").replace("PDF", "")), e.message("zh")
