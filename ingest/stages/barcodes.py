"""The zxing-cpp adapter: find our cover sheets' codes on a batch's pages.

Pages are rendered at 150 dpi (half the OCR resolution): measured 35-60 ms a page with every
code found, where pyzbar missed Code128 and reported false codes. Only payloads with our
prefix count (see :mod:`index.coversheets`), so a QR code on a policy never splits a batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import zxingcpp
from PIL import Image

from index.coversheets import SheetPayload, decode
from ingest.errors import OcrFailed
from ingest.stages import rasterize

SCAN_DPI = 150
FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)


@dataclass(frozen=True)
class ScanTask:
    """One page to look at; plain values so it pickles to a worker process."""

    source: str
    media_type: str
    page_no: int  # 1-based
    workdir: str
    timeout: float


def scan_page(task: ScanTask) -> tuple[int, tuple[str, ...]]:
    """The texts of every QR/Code128 code on one page (empty when it cannot be rendered)."""
    try:
        img = _page_image(task)
    except (OcrFailed, OSError, EOFError):
        return task.page_no, ()  # OCR of the same page reports the damage
    with img:
        # zxing-cpp 2.3 deprecates BarcodeFormats built with |; its stubs lag behind.
        codes = zxingcpp.read_barcodes(img, formats=FORMATS)  # type: ignore[arg-type]
    return task.page_no, tuple(c.text for c in codes if c.valid)


def _page_image(task: ScanTask) -> Image.Image:
    src = Path(task.source)
    if task.media_type == "pdf":
        path = rasterize.render_pdf_page(src, task.page_no, SCAN_DPI, Path(task.workdir),
                                         task.timeout)
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


def find_cover_sheets(pool: Executor, original: Path, media_type: str, page_count: int,
                      workdir: Path, timeout: float) -> dict[int, SheetPayload]:
    """Page number → our cover sheet's payload, for every page that is one of our sheets.

    A single page cannot be a batch, so it is not looked at.
    """
    if page_count < 2:
        return {}
    tasks = [ScanTask(str(original), media_type, n, str(workdir), timeout)
             for n in range(1, page_count + 1)]
    return sheets_from(pool.map(scan_page, tasks))


def sheets_from(results: Iterable[tuple[int, tuple[str, ...]]]) -> dict[int, SheetPayload]:
    """Keep the pages whose codes are ours."""
    found: dict[int, SheetPayload] = {}
    for page_no, texts in results:
        for t in texts:
            payload = decode(t)
            if payload is not None:
                found[page_no] = payload
                break
    return found
