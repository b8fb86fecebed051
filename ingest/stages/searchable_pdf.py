"""Assemble the searchable PDF with pikepdf: tesseract's one-page PDFs for OCR'd pages,
the original page itself where the PDF already had a text layer."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import pikepdf

from papervault.ingest.stages.ocr import PageResult


def assemble(pages: Sequence[PageResult], original: Path | None, out: Path) -> Path:
    """Write ``out`` from ``pages`` in page order; ``original`` is the source PDF, if any."""
    with ExitStack() as stack:
        result = stack.enter_context(pikepdf.new())
        source = stack.enter_context(pikepdf.open(original)) if original is not None else None
        for page in sorted(pages, key=lambda p: p.page_no):
            if page.pdf is not None:
                one = stack.enter_context(pikepdf.open(page.pdf))
                result.pages.extend(one.pages)
            elif source is not None:
                result.pages.append(source.pages[page.page_no - 1])
        result.docinfo["/Producer"] = "papervault (tesseract + pikepdf)"
        result.save(out)
    return out
