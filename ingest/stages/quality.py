"""Scan quality checks (DA/T 31-2017) on OCR results: blank pages, low OCR confidence,
resolution under the minimum for pages that needed OCR, page count against the register.

Warnings are small dicts (``{"page": 3, "code": "low_dpi", "value": 150, "limit": 300}``)
stored as JSON on the document; the catalogue's ``warn_<code>`` keys say them in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf

from papervault.ingest.stages.ocr import PageResult

Warning_ = dict[str, object]


def page_warnings(pages: Sequence[PageResult], native_dpi: dict[int, int], min_dpi: int,
                  low_confidence: float, renumber: bool = False) -> list[Warning_]:
    """Per-page warnings; ``renumber`` counts pages from 1 (a part split from a batch)."""
    out: list[Warning_] = []
    for i, p in enumerate(sorted(pages, key=lambda p: p.page_no), start=1):
        n = i if renumber else p.page_no
        if p.source == "ocr" and not p.text.strip():
            out.append({"page": n, "code": "blank_page"})
        elif p.confidence is not None and p.confidence < low_confidence:
            out.append({"page": n, "code": "low_confidence", "value": p.confidence})
        dpi = native_dpi.get(p.page_no, p.dpi)
        if p.source == "ocr" and dpi is not None and dpi < min_dpi:
            out.append({"page": n, "code": "low_dpi", "value": dpi, "limit": min_dpi})
    return out


def page_count_warning(count: int, expected: int | None) -> list[Warning_]:
    if expected is None or count == expected:
        return []
    return [{"code": "page_count", "value": count, "expected": expected}]


def native_dpi(original: Path, media_type: str) -> dict[int, int]:
    """The scan resolution of each PDF page (its largest image against the page width).

    The worker renders PDFs at the OCR resolution, so the page's own image tells what the
    scanner delivered. Images carry their dpi in the OCR result already.
    """
    if media_type != "pdf":
        return {}
    out: dict[int, int] = {}
    try:
        with pikepdf.open(original) as pdf:
            for n, page in enumerate(pdf.pages, start=1):
                width_pt = float(page.mediabox[2]) - float(page.mediabox[0])
                xobjects: Any = page.resources.get("/XObject", {})
                widths = [int(x.get("/Width", 0)) for x in xobjects.values()
                          if x.get("/Subtype") == "/Image"]
                if widths and width_pt > 0:
                    out[n] = round(max(widths) / (width_pt / 72))
    except (pikepdf.PdfError, ValueError, TypeError, AttributeError):
        return out
    return out


def merge(existing: list[Warning_], extra: list[Warning_]) -> list[Warning_]:
    """Add ``extra`` warnings not already present (runs may repeat after a retry)."""
    seen = {(w.get("page"), w.get("code")) for w in existing}
    return existing + [w for w in extra if (w.get("page"), w.get("code")) not in seen]
