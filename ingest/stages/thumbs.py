"""Page thumbnails, made once by the worker from the upright page it just read.

The web pages used to decrypt the whole original (or searchable PDF) into memory for every
thumbnail request: forty thumbnails of an 8 MB PDF took 1 GB (security review M10). The
worker already holds a small copy of each page's image, turned and straightened; a small
JPEG of it costs a few milliseconds. All pages of a document go into one multi-page TIFF
(JPEG-compressed frames, a standard container Pillow reads frame by frame), stored
encrypted like the original, so a page view decrypts a few hundred kilobytes instead of
the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from papervault.ingest.tools import poppler

WIDTH = 400  # px: the widest thumbnail the pages ask for (the QA list); larger are rendered


def from_preview(preview: Image.Image, out: Path) -> str:
    """A ``WIDTH``-pixel JPEG of the page from the small upright copy the page stage
    already holds (:func:`~papervault.ingest.stages.upright.glance`): no second decode of
    the page image (that was 20-40 ms of a 300-dpi page)."""
    small = preview.convert("L" if preview.mode in ("1", "L") else "RGB")
    small.thumbnail((WIDTH, WIDTH * 4), Image.Resampling.LANCZOS)
    small.save(out, format="JPEG", quality=80)
    return str(out)


def from_pdf_page(pdf: Path, page_no: int, workdir: Path, timeout: float) -> str | None:
    """A thumbnail of a PDF page that was not rendered (its own text layer was kept)."""
    made = poppler.thumbnail(pdf, page_no, WIDTH, workdir / f"t{page_no:05d}", timeout)
    return str(made) if made is not None else None  # else the web page renders it on request


def pack(thumbs: Sequence[str | None], out: Path) -> Path | None:
    """One multi-page TIFF of the pages' thumbnails in page order; None unless every page
    has one (a gap would shift every later page)."""
    if not thumbs or any(t is None for t in thumbs):
        return None
    frames = [Image.open(t).convert("RGB") for t in thumbs if t is not None]
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:],
                   compression="jpeg", quality=80)
    return out
