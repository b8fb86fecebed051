"""Find our cover sheets' codes on a batch's pages (read by :mod:`papervault.ingest.tools.zxing`).

Only payloads with our prefix count (see :mod:`index.coversheets`), so a QR code on a policy
never splits a batch. The page task reads the codes from the small copy of the page image it
already holds (:func:`codes_in`, about 500-1000 pixels wide: 60-120 dpi for A4); our sheets'
QR code is 70 mm wide, five pixels a module or more there, found in 2-6 ms where a 150-dpi
decode and search cost 25-45 ms a page. Only pages it does not OCR are rendered here, near
150 dpi (:func:`scan_page`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from papervault.index.coverage.coversheets import SheetPayload, decode
from papervault.ingest.errors import OcrFailed
from papervault.ingest.stages import rasterize, upright
from papervault.ingest.tools.zxing import read_codes

SCAN_DPI = 150


@dataclass(frozen=True)
class ScanTask:
    """One page to look at; plain values so it pickles to a worker process."""

    source: str
    media_type: str
    page_no: int  # 1-based
    workdir: str
    timeout: float
    max_pixels: int


def scan_page(task: ScanTask) -> tuple[int, tuple[str, ...]]:
    """The texts of every QR/Code128 code on one page (empty when it cannot be rendered)."""
    try:
        img = _page_image(task)
    except (OcrFailed, OSError, EOFError):
        return task.page_no, ()  # OCR of the same page reports the damage
    with img:
        return task.page_no, read_codes(img)


def codes_in(glance: Image.Image) -> tuple[str, ...]:
    """The codes on a page's small copy (:func:`~papervault.ingest.stages.upright.glance`)."""
    return read_codes(glance.convert("L"))


def codes_in_image(path: Path) -> tuple[str, ...]:
    """The codes on a page image already on disk (the one OCR reads), seen in its small
    copy, so reading them costs no second render of the page."""
    try:
        small = upright.glance(path)
    except (OSError, EOFError, ValueError):
        return ()  # OCR of the same page reports the damage
    return codes_in(small)


def _page_image(task: ScanTask) -> Image.Image:
    src = Path(task.source)
    if task.media_type == "pdf":
        path = rasterize.render_pdf_page(src, task.page_no, SCAN_DPI, Path(task.workdir),
                                         task.timeout, task.max_pixels)
        try:
            with Image.open(path) as img:
                return img.convert("L")
        finally:
            path.unlink(missing_ok=True)
    with Image.open(src) as img:
        img.seek(task.page_no - 1)
        dpi = img.info.get("dpi", (300, 300))[0] or 300
        factor = max(1, round(float(dpi) / SCAN_DPI))
        page = img.convert("L")
    return page.reduce(factor) if factor > 1 else page


def sheets_from(results: Iterable[tuple[int, tuple[str, ...]]]) -> dict[int, SheetPayload]:
    """Page number → our cover sheet's payload, from each page's codes; the rest are not ours."""
    found: dict[int, SheetPayload] = {}
    for page_no, texts in results:
        for t in texts:
            payload = decode(t)
            if payload is not None:
                found[page_no] = payload
                break
    return found
