"""Assemble the searchable PDF with pikepdf: tesseract's one-page PDFs for OCR'd pages,
the original page itself where the PDF already had a text layer.

The result is PDF/A-2b (the archival format GB/T 18894 / DA/T 47 practice asks for) when it
can be: pikepdf's ``pdfa.save`` adds the sRGB output intent and the XMP declaration, writes
the file and validates the written bytes with its allowlist validator, so a file that says
PDF/A is one. Pages tesseract wrote always conform; an original page kept for its own text
layer may not (fonts not embedded, CMYK without an intent, …), and then the derivative is
written as a plain PDF that claims nothing: a searchable copy is worth more than the label.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import pikepdf
import pikepdf.pdfa

from papervault.ingest.stages.ocr import PageResult

log = logging.getLogger(__name__)

FLAVOUR = "2b"


def assemble(pages: Sequence[PageResult], original: Path | None, out: Path) -> Path:
    """Write ``out`` from ``pages`` in page order; ``original`` is the source PDF, if any."""
    try:
        with ExitStack() as stack:
            pikepdf.pdfa.save(_build(stack, pages, original), out, FLAVOUR)
        return out
    except pikepdf.pdfa.PdfaError as e:
        log.info("searchable PDF is not PDF/A-%s: %s", FLAVOUR, e.report.summary(limit=3))
    # pdfa.save has declared PDF/A in the document it prepared: start again from the pages.
    with ExitStack() as stack:
        _build(stack, pages, original).save(out)
    return out


def is_pdfa(path: Path) -> bool:
    """Whether ``path`` passes pikepdf's PDF/A-2b validator."""
    return pikepdf.pdfa.validate_written(path, FLAVOUR).passed


def _build(stack: ExitStack, pages: Sequence[PageResult], original: Path | None) -> pikepdf.Pdf:
    result = stack.enter_context(pikepdf.new())
    source = stack.enter_context(pikepdf.open(original)) if original is not None else None
    for page in sorted(pages, key=lambda p: p.page_no):
        if page.pdf is not None:
            one = stack.enter_context(pikepdf.open(page.pdf))
            result.pages.extend(one.pages)
        elif source is not None:
            result.pages.append(source.pages[page.page_no - 1])
    result.docinfo["/Creator"] = "papervault (tesseract + pikepdf)"
    return result
