"""The poppler adapter: text-layer probe and one-page rendering (pdf2image/pdftoppm),
and page images out of TIFF/JPEG/PNG files. One page at a time, always."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError
from PIL import Image

from ingest.errors import OcrFailed


def text_layer(pdf: Path, page_no: int, timeout: float) -> str:
    """The page's own text (``pdftotext``), empty when it is an image-only page."""
    try:
        out = subprocess.run(  # noqa: S603
            ["pdftotext", "-q", "-enc", "UTF-8", "-f", str(page_no), "-l", str(page_no),
             str(pdf), "-"],
            capture_output=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return ""
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else ""


def render_pdf_page(pdf: Path, page_no: int, dpi: int, workdir: Path, timeout: float) -> Path:
    """Render one page to JPEG at ``dpi`` (JPEG: PNG writing measured 40× slower)."""
    try:
        paths = convert_from_path(
            pdf, dpi=dpi, first_page=page_no, last_page=page_no, fmt="jpeg",
            output_folder=workdir, output_file=f"p{page_no:05d}", paths_only=True,
            jpegopt={"quality": 85, "optimize": False, "progressive": False},
            timeout=int(timeout),
        )
    except (PDFPageCountError, PDFSyntaxError, subprocess.TimeoutExpired) as e:
        raise OcrFailed(detail=f"page {page_no}: cannot render ({type(e).__name__})") from e
    if not paths:
        raise OcrFailed(detail=f"page {page_no}: renderer produced nothing")
    return Path(str(paths[0]))


def image_page(src: Path, frame: int, workdir: Path, default_dpi: int) -> tuple[Path, int]:
    """One frame of an image file as a file tesseract reads well, and its dpi.

    A plain RGB/greyscale JPEG goes through untouched; other frames are written as JPEG
    (or G4 TIFF for bilevel scans) so the searchable PDF stays small.
    """
    with Image.open(src) as img:
        img.seek(frame)
        dpi = _dpi(img.info.get("dpi"), default_dpi)
        if img.format == "JPEG" and img.mode in ("RGB", "L") and frame == 0:
            return src, dpi
        page = _normalise(img)
        if page.mode == "1":
            out = workdir / f"f{frame:05d}.tif"
            page.save(out, format="TIFF", compression="group4", dpi=(dpi, dpi))
        else:
            out = workdir / f"f{frame:05d}.jpg"
            page.save(out, format="JPEG", quality=85, dpi=(dpi, dpi))
        return out, dpi


def _normalise(img: Image.Image) -> Image.Image:
    if img.mode == "1":
        return img.copy()
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit scans: scale to 8 bits rather than clip to white.
        return img.point(lambda v: v / 256).convert("L")
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, "white")
        bg.paste(rgba, mask=rgba.split()[-1])
        return bg
    if img.mode in ("L", "RGB"):
        return img.copy()
    return img.convert("RGB")  # CMYK, YCbCr, F …


def _dpi(value: object, default: int) -> int:
    if isinstance(value, tuple) and value and isinstance(value[0], int | float):
        dpi = round(float(value[0]))
        if 70 <= dpi <= 2400:
            return dpi
    return default
