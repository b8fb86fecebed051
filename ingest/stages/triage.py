"""Triage: is this a file we can archive? Sniffed by content, never by extension.

Runs before anything is read in full, so a FIFO, a symlink or a decompression bomb
never gets further than a ``stat`` and a header.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image, UnidentifiedImageError

from papervault.ingest.errors import Rejected

PDF, TIFF, JPEG, PNG = "pdf", "tiff", "jpeg", "png"
SUPPORTED = (PDF, TIFF, JPEG, PNG)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pages: int
    max_pixels: int
    max_page_points: float
    min_pixels_side: int


@dataclass(frozen=True)
class Triaged:
    """A file worth storing: its type and page count."""

    media_type: str
    pages: int
    size: int


def sniff(head: bytes) -> str:
    """The media type from the first bytes, or a short description of what it is instead."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # before the PDF check: a zipped PDF has %PDF- near its start
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[4:8] == b"ftyp":
        return "heic" if head[8:12] in (b"heic", b"heix", b"mif1", b"msf1") else "video/mp4"
    if head.startswith(b"GIF8"):
        return "gif"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"\xd0\xcf\x11\xe0", b"{\\rtf")):
        return "office document"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary"
    return "text"


def check_entry(path: Path, limits: Limits) -> int:
    """Reject what is not a readable regular file of sane size; return its size."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise Rejected("not_a_regular_file", kind="symbolic link")
    if stat.S_ISFIFO(st.st_mode):
        raise Rejected("not_a_regular_file", kind="FIFO")
    if stat.S_ISSOCK(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        raise Rejected("not_a_regular_file", kind="device or socket")
    if not stat.S_ISREG(st.st_mode):
        raise Rejected("not_a_regular_file", kind="directory")
    if st.st_size == 0:
        raise Rejected("empty_file")
    if st.st_size > limits.max_bytes:
        raise Rejected(
            "file_too_large", size=st.st_size // 2**20, limit=limits.max_bytes // 2**20
        )
    if not os.access(path, os.R_OK):
        raise Rejected("unreadable")
    return st.st_size


def triage(path: Path, limits: Limits) -> Triaged:
    """Decide whether ``path`` can be archived; raise :class:`Rejected` with the reason."""
    size = check_entry(path, limits)
    try:
        with path.open("rb") as f:
            head = f.read(2048)
    except PermissionError as e:
        raise Rejected("unreadable") from e
    kind = sniff(head)
    if kind == PDF:
        return Triaged(PDF, _pdf_pages(path, limits), size)
    if kind in (TIFF, JPEG, PNG):
        return Triaged(kind, _image_pages(path, limits), size)
    raise Rejected("unsupported_type", kind=kind)


def _pdf_pages(path: Path, limits: Limits) -> int:
    try:
        with pikepdf.open(path) as pdf:
            n = len(pdf.pages)
            if n == 0:
                raise Rejected("pdf_damaged", detail="no pages")
            if n > limits.max_pages:
                raise Rejected("too_many_pages", pages=n, limit=limits.max_pages)
            for i, page in enumerate(pdf.pages, start=1):
                box = page.mediabox
                width = abs(float(box[2]) - float(box[0]))
                height = abs(float(box[3]) - float(box[1]))
                if max(width, height) > limits.max_page_points:
                    raise Rejected("page_too_large", page=i, width=round(width),
                                   height=round(height))
            return n
    except pikepdf.PasswordError as e:
        raise Rejected("pdf_encrypted") from e
    except pikepdf.PikepdfError as e:  # PdfError and qpdf runtime errors alike
        lines = str(e).splitlines() or ["PDF"]
        raise Rejected("pdf_damaged", detail=lines[0][:120]) from e
    except (ValueError, TypeError, IndexError) as e:
        # A clerk reads this: the file kind, never a Python exception's name.
        raise Rejected("pdf_damaged", detail="PDF") from e


def _image_pages(path: Path, limits: Limits) -> int:
    # PIL's bomb guard uses a module global; set it from our limit every time.
    Image.MAX_IMAGE_PIXELS = limits.max_pixels // 2
    try:
        with Image.open(path) as img:
            n = int(getattr(img, "n_frames", 1))
            if n > limits.max_pages:
                raise Rejected("too_many_pages", pages=n, limit=limits.max_pages)
            for frame in range(n):
                img.seek(frame)
                w, h = img.size
                if w * h > limits.max_pixels:
                    raise Rejected("too_many_pixels", pixels=w * h, limit=limits.max_pixels)
                if min(w, h) < limits.min_pixels_side:
                    raise Rejected("too_small", width=w, height=h)
            return n
    except Image.DecompressionBombError as e:
        raise Rejected("too_many_pixels", pixels="> " + str(limits.max_pixels),
                       limit=limits.max_pixels) from e
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError) as e:
        raise Rejected("image_damaged", detail=_kind_of(path)) from e
    except (TypeError, KeyError, IndexError, ZeroDivisionError, struct.error) as e:
        # Pillow's TIFF reader raises these on damaged tags ("Missing dimensions"; found
        # by fuzzing): still a damaged image, not a bug in the pipeline.
        raise Rejected("image_damaged", detail=_kind_of(path)) from e


def _kind_of(path: Path) -> str:
    """What a clerk calls the file (its extension), for a reason they read."""
    return path.suffix.lstrip(".").upper()[:8] or "?"
