"""Pages the right way up and straight: EXIF orientation, deskew, and a cheap-first
orientation check around the OCR of a page.

OCRmyPDF runs tesseract's orientation detection (OSD) on every page; here an upright page
pays nothing but a ~50 ms skew measurement: OSD runs only when the OCR result looks wrong
(low confidence, implausible tokens, or hardly any text on a page with ink), on a copy
downscaled to about 150 dpi, and the turned page is kept only if it reads better.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from PIL import Image, ImageOps

from papervault.ingest.stages.textlayer import is_cjk
from papervault.ingest.tools import tesseract

# EXIF tag 0x0112 (Orientation): 1 is upright, 2-8 a flip or turn the viewer must apply.
_EXIF_ORIENTATION = 0x0112

# Thresholds measured on upright and turned copies of real and generated pages: upright
# pages read at mean confidence 85-95 with ≥ 0.95 plausible tokens, pages tesseract reads
# upside down at 20-60 with 0.80-0.93.
SUSPECT_CONFIDENCE = 70.0
SUSPECT_PLAUSIBLE = 0.9
SHORT_TEXT = 20  # non-space characters
INKED = 0.004  # share of dark pixels above which a page is not blank
OSD_DPI = 150
MIN_SKEW = 0.5  # degrees; below it straightening costs more than it gains
MAX_SKEW = 8


def exif_turned(img: Image.Image) -> bool:
    """Whether the image carries an EXIF orientation other than upright."""
    return int(img.getexif().get(_EXIF_ORIENTATION, 1) or 1) not in (0, 1)


def exif_upright(img: Image.Image) -> Image.Image:
    """The image as a viewer shows it (phones store photos sideways with a tag)."""
    return ImageOps.exif_transpose(img)


@dataclass(frozen=True)
class Reading:
    """What one OCR of a page gave, enough to compare it with another."""

    text: str
    confidence: float | None

    def plausible(self) -> float:
        return plausible_share(self.text)

    def score(self) -> float:
        return (self.confidence or 0.0) * self.plausible()


_LATIN = re.compile(r"^[\W_]*([A-Z]?[a-z]+|[A-Z]+|\d[\d.,:/%-]*)[\W_]*$")


def _common_hanzi(ch: str) -> bool:
    # GB2312 level 1 (lead bytes B0-D7): the 3,755 characters of everyday text.
    try:
        raw = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and 0xB0 <= raw[0] <= 0xD7


def plausible_share(text: str) -> float:
    """Share of tokens that look like words of Chinese or English (1.0 for no tokens).

    A page read upside down yields mixed-case shards (``pJtsI``) and rare Hanzi.
    """
    good = total = 0
    for token in text.split():
        hanzi = [c for c in token if is_cjk(c) and c.isalpha()]
        if hanzi:
            total += len(hanzi)
            good += sum(1 for c in hanzi if _common_hanzi(c))
        elif any(c.isalnum() for c in token):
            total += 1
            good += bool(_LATIN.match(token))
    return good / total if total else 1.0


def ink_share(img: Image.Image) -> float:
    """Share of dark pixels on a small copy (a blank page has none worth reading)."""
    small = img.convert("L")
    small.thumbnail((400, 400))
    hist = small.histogram()
    return sum(hist[:128]) / max(1, small.width * small.height)


def looks_wrong(reading: Reading, ink: float) -> bool:
    """Whether the reading is worth a second look with OSD."""
    if ink < INKED:
        return False  # blank pages stay blank whatever way up
    chars = len("".join(reading.text.split()))
    return (chars < SHORT_TEXT or (reading.confidence or 0.0) < SUSPECT_CONFIDENCE
            or reading.plausible() < SUSPECT_PLAUSIBLE)


def osd_turn(img: Image.Image, dpi: int, timeout: float) -> int | None:
    """Clockwise degrees (90/180/270) that OSD says make the page upright, None if it
    cannot tell (too few characters) or says upright."""
    scale = min(1.0, OSD_DPI / max(dpi, 1))
    small = img.convert("L")
    if scale < 0.99:
        small = small.resize((max(1, round(small.width * scale)),
                              max(1, round(small.height * scale))), Image.Resampling.BOX)
    osd = tesseract.orientation(small, round(dpi * scale), timeout)
    if osd is None:
        return None  # "Too few characters": the caller tries the likeliest turn
    return osd[0] or None


def turned(img: Image.Image, clockwise: int) -> Image.Image:
    """The image turned ``clockwise`` degrees (PIL turns counter-clockwise)."""
    method = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
              270: Image.Transpose.ROTATE_90}[clockwise]
    return img.transpose(method)


def _binary(img: Image.Image, width: int = 500) -> Image.Image:
    grey = img.convert("L")
    k = max(1, grey.width // width)
    small = grey.reduce(k) if k > 1 else grey
    return small.point(lambda v: 255 if v < 160 else 0)


def _profile(ink: Image.Image, angle: float) -> int:
    # Row sums of the turned ink: text lines give sharp steps only when level.
    rows = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
    col = rows.resize((1, rows.height), Image.Resampling.BOX).tobytes()
    return sum((col[i + 1] - col[i]) ** 2 for i in range(len(col) - 1))


def skew_angle(img: Image.Image) -> float:
    """Counter-clockwise degrees that level the text lines (projection profile), 0 when
    the page is level or has no lines to measure."""
    ink = _binary(img)
    scores = {float(a): _profile(ink, a) for a in range(-MAX_SKEW, MAX_SKEW + 1)}
    coarse = max(scores, key=lambda a: scores[a])
    for step in (-0.75, -0.5, -0.25, 0.25, 0.5, 0.75):
        scores[coarse + step] = _profile(ink, coarse + step)
    best = max(scores, key=lambda a: scores[a])
    # A clear peak only: a photo or a page of tables has no single best angle.
    if abs(best) < MIN_SKEW or scores[best] < 1.2 * max(scores[0.0], 1):
        return 0.0
    return best


def straightened(img: Image.Image, angle: float) -> Image.Image:
    """The page turned by ``angle`` with white corners, same size (the page box stays)."""
    fill: int | tuple[int, int, int] = 255 if img.mode in ("L", "1") else (255, 255, 255)
    base = img.convert("L") if img.mode == "1" else img
    return base.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=fill)


class Read(Protocol):
    """What the OCR adapter returns for a page (its PageResult)."""

    @property
    def text(self) -> str: ...
    @property
    def confidence(self) -> float | None: ...


R = TypeVar("R", bound=Read)


@dataclass(frozen=True)
class Upright(Generic[R]):
    """The page as finally read: its image, how it was turned and straightened."""

    image: Path
    turn: int  # clockwise degrees applied
    skew: float  # counter-clockwise degrees applied
    result: R

    @property
    def reading(self) -> Reading:
        return Reading(self.result.text, self.result.confidence)


def read_upright(image: Path, dpi: int | None, workdir: Path, timeout: float,
                 recognise: Callable[[Path], R]) -> Upright[R]:
    """Straighten, OCR, and turn the page when the reading looks wrong.

    ``recognise`` runs the real OCR on an image file (the tesseract adapter). The original
    file is never changed: derivatives are written beside it in ``workdir``.
    """
    with Image.open(image) as opened:
        opened.load()
        page = opened.copy()
    angle = skew_angle(page)
    current = image
    if angle:
        page = straightened(page, angle)
        current = _save(page, workdir / f"{image.stem}-level", dpi)
    first = Upright(current, 0, angle, recognise(current))
    if not looks_wrong(first.reading, ink_share(page)):
        return first
    turn = osd_turn(page, dpi or 300, timeout)
    candidates = [turn] if turn else [180]  # no verdict: upside down is the common case
    best = first
    for clockwise in candidates:
        path = _save(turned(page, clockwise), workdir / f"{image.stem}-turn{clockwise}", dpi)
        other = Upright(path, clockwise, angle, recognise(path))
        # OSD named the turn: the better reading wins. A guess must be clearly better.
        margin = 0.0 if turn else 10.0
        if other.reading.score() > best.reading.score() + margin:
            best = other
    return best


def _save(img: Image.Image, stem: Path, dpi: int | None) -> Path:
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    if img.mode == "1":
        out = stem.with_suffix(".tif")
        img.save(out, format="TIFF", compression="group4", **extra)
    else:
        out = stem.with_suffix(".jpg")
        img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode).save(
            out, format="JPEG", quality=85, **extra)
    return out
