"""The poppler adapter: a page's own text (``pdftotext``), a page rendered at a dpi
(pdf2image over ``pdftoppm``) and a small rendering for thumbnails. One page per call."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError

from papervault.ingest.errors import PageUnreadable

PROGRAMS = ("pdftoppm", "pdftotext")
PACKAGE = "poppler-utils"  # Debian's package of both


def located() -> dict[str, str | None]:
    """Where each poppler program papervault runs is on PATH (None: not installed)."""
    return {name: shutil.which(name) for name in PROGRAMS}


def page_text(pdf: Path, page_no: int, timeout: float) -> str:
    """The page's own text, empty when it has none or poppler cannot read it in time."""
    try:
        out = subprocess.run(  # noqa: S603
            ["pdftotext", "-q", "-enc", "UTF-8", "-f", str(page_no), "-l", str(page_no),
             str(pdf), "-"],
            capture_output=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return ""
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else ""


def render(pdf: Path, page_no: int, dpi: int, workdir: Path, timeout: float) -> Path:
    """The page as a JPEG at ``dpi`` in ``workdir`` (JPEG: PNG writing measured 40× slower)."""
    try:
        paths = convert_from_path(
            pdf, dpi=dpi, first_page=page_no, last_page=page_no, fmt="jpeg",
            output_folder=workdir, output_file=f"p{page_no:05d}", paths_only=True,
            jpegopt={"quality": 85, "optimize": False, "progressive": False},
            timeout=max(1, round(timeout)),  # 0 would mean no limit at all
        )
    except PDFPopplerTimeoutError as e:
        raise PageUnreadable("page_timeout", page=page_no, seconds=int(timeout)) from e
    except (PDFPageCountError, PDFSyntaxError) as e:
        raise PageUnreadable("page_unrenderable", page=page_no) from e
    if not paths:
        raise PageUnreadable("page_unrenderable", page=page_no)
    return Path(str(paths[0]))


def thumbnail(pdf: Path, page_no: int, width: int, out: Path, timeout: float) -> Path | None:
    """The page as a ``width``-pixel JPEG ``out``.jpg; None when poppler cannot make it."""
    try:
        subprocess.run(  # noqa: S603
            ["pdftoppm", "-q", "-f", str(page_no), "-l", str(page_no), "-scale-to-x",
             str(width), "-scale-to-y", "-1", "-jpeg", "-singlefile", str(pdf), str(out)],
            capture_output=True, timeout=timeout, check=True,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return None
    path = out.with_suffix(".jpg")
    return path if path.exists() else None
