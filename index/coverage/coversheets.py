"""Cover sheets: one A4 page per paper record, with a QR code the pipeline splits batches at.

The payload ``PV1|<档号>|<client ID>`` carries a prefix so that only our sheets split a
batch, never a QR code printed on a policy. Text is drawn by Pillow with Noto Sans CJK and
placed as a 300 dpi image: reportlab cannot embed Noto's CFF outlines, and its built-in
STSong-Light is not embedded at all (poppler without poppler-data then prints nothing).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from papervault.config.errors import DependencyMissing
from papervault.index.catalog.models import PaperRecord

PREFIX = "PV1"
FONTS = (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
         Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"))
TEXT_DPI = 300


@dataclass(frozen=True)
class SheetPayload:
    """What a cover sheet's code says."""

    record_no: str
    client_id: str | None


def encode(record_no: str, client_id: str | None) -> str:
    return f"{PREFIX}|{record_no}|{client_id or ''}"


def decode(text: str) -> SheetPayload | None:
    """The payload of one of our sheets, or None for any other code."""
    parts = text.strip().split("|")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1]:
        return None
    return SheetPayload(parts[1], parts[2] or None)


def render(records: Iterable[PaperRecord]) -> bytes:
    """A PDF with one cover sheet per record, in the order given."""
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=A4)
    pdf.setTitle("papervault cover sheets / 封面页")
    for rec in records:
        _sheet(pdf, rec)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _sheet(pdf: Canvas, rec: PaperRecord) -> None:
    width, height = A4
    _text(pdf, "档案扫描封面页 / Scan cover sheet", width / 2, height - 25 * mm, 20,
          center=True)
    _text(pdf, "请放在本档案第一页之前扫描 / Scan it before the file's first page",
          width / 2, height - 35 * mm, 12, center=True)
    _qr(pdf, encode(rec.record_no, rec.client_id), width / 2 - 35 * mm, height - 115 * mm,
        70 * mm)
    _text(pdf, rec.record_no, width / 2, height - 135 * mm, 30, center=True)
    lines = [
        ("客户编号 Client", rec.client_id or "-"),
        ("题名 Title", rec.title or "-"),
        ("部门 Department", rec.department or "-"),
        ("年度 Year", str(rec.year) if rec.year else "-"),
        ("存放位置 Location", " / ".join(p for p in (rec.room, rec.shelf, rec.box) if p) or "-"),
        ("页数 Pages", str(rec.expected_pages) if rec.expected_pages else "-"),
    ]
    y = height - 160 * mm
    for label, value in lines:
        _text(pdf, label, 25 * mm, y, 13)
        _text(pdf, value[:36], 75 * mm, y, 18)
        y -= 12 * mm


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont:
    for f in FONTS:
        if f.exists():
            return ImageFont.truetype(str(f), size=px, index=2)  # index 2: Simplified Chinese
    raise DependencyMissing(detail="a CJK font (apt-get install fonts-noto-cjk)")


def _text(pdf: Canvas, value: str, x: float, y: float, pt: int, center: bool = False) -> None:
    """Draw ``value`` at ``pt`` points with its baseline near ``y`` (points)."""
    px = round(pt * TEXT_DPI / 72)
    font = _font(px)
    left, top, right, bottom = font.getbbox(value)
    img = Image.new("1", (max(1, int(right - left)) + 4, max(1, int(bottom - top)) + 4), 1)
    ImageDraw.Draw(img).text((2 - left, 2 - top), value, font=font, fill=0)
    w, h = img.width * 72 / TEXT_DPI, img.height * 72 / TEXT_DPI
    x0 = x - w / 2 if center else x
    pdf.drawImage(ImageReader(img), x0, y - h * 0.2, width=w, height=h)


def _qr(pdf: Canvas, payload: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as vector squares: sharp at any printer resolution."""
    qr = segno.make_qr(payload, error="m")
    matrix = [list(row) for row in qr.matrix]
    quiet = 4
    n = len(matrix) + 2 * quiet
    cell = size / n
    pdf.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + (c + quiet) * cell, y + size - (r + quiet + 1) * cell, cell, cell,
                         stroke=0, fill=1)
