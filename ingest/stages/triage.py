"""Triage: is this a file we can archive? Sniffed by content, never by extension.

Runs before anything is read in full, so a FIFO, a symlink or a decompression bomb
never gets further than a ``stat`` and a header. The file is the inbox entry opened
without following links (:mod:`papervault.ingest.inbox`).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

import pikepdf
from PIL import Image, UnidentifiedImageError

from papervault.ingest.errors import Rejected
from papervault.ingest.inbox import Entry, open_file

PDF, TIFF, JPEG, PNG = "pdf", "tiff", "jpeg", "png"
SUPPORTED = (PDF, TIFF, JPEG, PNG)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pages: int
    max_pixels: int
    max_page_points: float
    min_pixels_side: int
    max_page_content_mb: int = 32
    max_content_mb: int = 512


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


def triage(entry: Entry, limits: Limits) -> Triaged:
    """Decide whether the inbox entry can be archived; raise :class:`Rejected` with the
    reason. Everything is read through the entry's descriptor, never by path again."""
    size = open_file(entry, limits.max_bytes)
    with entry.reader() as f:
        head = f.read(2048)
        kind = sniff(head)
        if kind == PDF:
            f.seek(0)
            return Triaged(PDF, _pdf_pages(f, limits), size)
        if kind in (TIFF, JPEG, PNG):
            f.seek(0)
            return Triaged(kind, _image_pages(f, limits), size)
    raise Rejected("unsupported_type", kind=kind)


def _pdf_pages(f: BinaryIO, limits: Limits) -> int:
    try:
        with pikepdf.open(f) as pdf:
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
            _check_content(pdf, limits)
            return n
    except pikepdf.PasswordError as e:
        raise Rejected("pdf_encrypted") from e
    except pikepdf.PikepdfError as e:  # PdfError and qpdf runtime errors alike
        lines = str(e).splitlines() or ["PDF"]
        # qpdf names its input first; opened from a descriptor that is a Python repr
        # ("stream <_io.BufferedReader name=24>: …"), which tells a person nothing.
        detail = re.sub(r"^stream <[^>]*>:\s*", "", lines[0])
        raise Rejected("pdf_damaged", detail=detail[:120]) from e
    except (ValueError, TypeError, IndexError) as e:
        # A clerk reads this: the file kind, never a Python exception's name.
        raise Rejected("pdf_damaged", detail="PDF") from e


MB = 1024 * 1024


def _check_content(pdf: pikepdf.Pdf, limits: Limits) -> None:
    """Refuse a PDF whose page content expands far past any real page (review M6: 525 KB,
    20 pages sharing one Flate stream of 512 MiB of spaces, took two minutes of both cores
    to render). Each page's content streams and form XObjects are decoded with a bound, a
    shared stream once but counted on every page that draws it (each page renders it)."""
    page_cap = limits.max_page_content_mb * MB
    sizes: dict[tuple[int, int], int] = {}
    total = 0
    for i, page in enumerate(pdf.pages, start=1):
        size = sum(_stream_size(s, page_cap, sizes) for s in _drawn_streams(page))
        if size > page_cap:
            raise Rejected("page_content_too_large", page=i, limit=limits.max_page_content_mb)
        total += size
        if total > limits.max_content_mb * MB:
            raise Rejected("content_too_large", limit=limits.max_content_mb)


def _drawn_streams(page: pikepdf.Page) -> list[pikepdf.Stream]:
    """The page's content streams and the form XObjects its resources name (one level:
    a form inside a form is rare in scans and would be bounded by the page limit)."""
    contents = page.obj.get("/Contents")
    items = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    xobjects = page.obj.get("/Resources", pikepdf.Dictionary()).get("/XObject")
    if isinstance(xobjects, pikepdf.Dictionary):
        items += [x for x in xobjects.values()
                  if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == pikepdf.Name.Form]
    return [s for s in items if isinstance(s, pikepdf.Stream)]


def _stream_size(stream: pikepdf.Stream, cap: int, sizes: dict[tuple[int, int], int]) -> int:
    """Decoded length, decoding no more than ``cap`` + 1 MiB of a Flate stream."""
    key = stream.objgen
    if key != (0, 0) and key in sizes:
        return sizes[key]
    filters = stream.get("/Filter")
    names = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
    if not names:
        size = len(stream.read_raw_bytes())
    elif names == [pikepdf.Name.FlateDecode]:
        inflate = zlib.decompressobj()
        data, size = stream.read_raw_bytes(), 0
        try:
            while data and size <= cap:
                size += len(inflate.decompress(data, MB))
                data = inflate.unconsumed_tail
        except zlib.error as e:
            raise Rejected("pdf_damaged", detail="content stream") from e
    else:  # other filter chains are rare in content streams: qpdf decodes them whole
        size = len(stream.read_bytes())
    sizes[key] = size
    return size


def _image_pages(f: BinaryIO, limits: Limits) -> int:
    # PIL's bomb guard uses a module global; set it from our limit every time.
    Image.MAX_IMAGE_PIXELS = limits.max_pixels // 2
    try:
        with Image.open(f) as img:
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
        raise Rejected("image_damaged", detail=_kind_of(f)) from e
    except (TypeError, KeyError, IndexError, ZeroDivisionError, struct.error) as e:
        # Pillow's TIFF reader raises these on damaged tags ("Missing dimensions"; found
        # by fuzzing): still a damaged image, not a bug in the pipeline.
        raise Rejected("image_damaged", detail=_kind_of(f)) from e


def _kind_of(f: BinaryIO) -> str:
    """What a clerk calls the file (its extension), for a reason they read."""
    name = getattr(f, "name", "")
    if not isinstance(name, str):  # opened from a descriptor: no name to go by
        return "?"
    return PurePath(name).suffix.lstrip(".").upper()[:8] or "?"
