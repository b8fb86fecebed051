"""Pages the right way up and straight: EXIF orientation, deskew, and a cheap-first
orientation check around the OCR of a page.

OCRmyPDF runs tesseract's orientation detection (OSD) on every page; here an upright page
pays nothing but a look at a small copy of it (:func:`glance`: a quarter-size JPEG decode,
a skew measurement of ~5-10 ms, the ink share; the same copy gives the thumbnail and the
cover-sheet codes): OSD runs only when the OCR result looks wrong (low confidence,
implausible tokens, or hardly any text on a page with ink), on a copy downscaled to about
150 dpi, and the turned page is kept only if it reads better. OSD is unsure, or wrong, on
small Chinese crops (OCRmyPDF then leaves the page as it is); there the downscaled copy is
read quickly at all four turns and the most confident one wins.
"""

from __future__ import annotations

import math
import operator
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from PIL import Image, ImageOps

from papervault.ingest.stages.textlayer import is_cjk, line_turn
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
PROBE_PIXELS = 1_500_000  # an untagged page's copy for OSD and probes: A4 at ~100 dpi
# OSD's orientation_conf, measured on turned copies of the quality benchmark's pages: right
# turns 1.2-6.3 (phototest, linn, forms, English screenshots), wrong ones on small Chinese
# crops 0.04-0.07; right ones below 1 occur too, and the probes find those again.
OSD_CONFIDENT = 1.0
PROBE_MARGIN = 5.0  # score points a probed turn must gain over the page as it is
TURNS = (90, 180, 270)
LOSSLESS_PIXELS = 1_000_000  # derivatives of pages this small are written as PNG
MIN_SKEW = 0.5  # degrees; below it straightening costs more than it gains
MAX_SKEW = 8
SKEW_WIDTH = 500  # px: the ink image the skew is measured on
SKEW_STRIPS = 64  # vertical strips whose row profiles are shifted against each other


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


def downscaled(img: Image.Image, dpi: int | None) -> tuple[Image.Image, int | None]:
    """A copy near ``OSD_DPI`` (or ``PROBE_PIXELS`` when the dpi is unknown), never
    enlarged, and its dpi: what OSD and the probes look at. Colour stays: tesseract reads
    some colour crops quite differently from their greyscale (CER 0.48 against 0.05)."""
    scale = min(1.0, OSD_DPI / dpi if dpi else 1.0,
                math.sqrt(PROBE_PIXELS / max(1, img.width * img.height)))
    if scale >= 0.99:
        return img, dpi
    small = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                       Image.Resampling.BOX)
    return small, round(dpi * scale) if dpi else None


def osd_turn(small: Image.Image, dpi: int | None, timeout: float) -> int | None:
    """Clockwise degrees (0/90/180/270) that OSD is confident make the page upright, None
    when it cannot tell or is unsure."""
    osd = tesseract.orientation(small, dpi, timeout)
    if osd is None or osd[1] < OSD_CONFIDENT:
        return None
    return osd[0]


def probe_turn(small: Image.Image, dpi: int | None, langs: str, timeout: float,
               as_is: float | None) -> int:
    """The clockwise turn (0 when none) that makes the page upright, by quick reads of the
    downscaled copy every way up (``as_is``: the copy's score as it is, when known).

    Tesseract takes the lines of a page turned a quarter clockwise past upright for vertical
    writing and reads them nearly as well as upright (never a quarter the other way), so the
    best-reading turn may be a quarter too far: when the turn a quarter back reads as well,
    that one is upright (and the page, its thumbnail and searchable PDF are shown so).
    """
    def score(clockwise: int) -> float:
        img = turned(small, clockwise) if clockwise else small
        return Reading(*tesseract.probe(img, langs, dpi, timeout)).score()

    scores = {clockwise: score(clockwise) for clockwise in TURNS}
    scores[0] = score(0) if as_is is None else as_is
    top = max(scores, key=lambda t: scores[t])
    if top == 0 or scores[top] <= scores[0] + PROBE_MARGIN:
        return 0
    back = (top - 90) % 360
    return back if scores[back] >= scores[top] - PROBE_MARGIN else top


def turned(img: Image.Image, clockwise: int) -> Image.Image:
    """The image turned ``clockwise`` degrees (PIL turns counter-clockwise)."""
    method = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
              270: Image.Transpose.ROTATE_90}[clockwise]
    return img.transpose(method)


def _binary(img: Image.Image, width: int = SKEW_WIDTH) -> Image.Image:
    grey = img.convert("L")
    k = max(1, grey.width // width)
    small = grey.reduce(k) if k > 1 else grey
    return small.point(lambda v: 255 if v < 160 else 0)


def _strips(ink: Image.Image) -> Image.Image:
    """Each vertical strip's row profile (share of ink per row) as one column, in floats."""
    return ink.resize((SKEW_STRIPS, ink.height), Image.Resampling.BOX).convert("F")


def _profile(strips: Image.Image, width: int, angle: float) -> float:
    # Row sums of the ink turned by ``angle``, text lines give sharp steps only when level.
    # Turning by a few degrees is, row-wise, shifting each strip up by its distance from
    # the middle times tan(angle): a shear of a few dozen columns instead of a rotation of
    # the whole page (measured 1 ms an angle for a 500-pixel-wide page, now a few µs).
    t = math.tan(math.radians(angle))
    step = width / SKEW_STRIPS
    sheared = strips.transform(strips.size, Image.Transform.AFFINE,
                               (1, 0, 0, step * t, 1, -width / 2 * t),
                               resample=Image.Resampling.NEAREST, fillcolor=0.0)
    col = array("f", sheared.resize((1, strips.height), Image.Resampling.BOX).tobytes())
    steps = list(map(operator.sub, col[1:], col[:-1]))
    return float(sum(map(operator.mul, steps, steps)))


def skew_angle(img: Image.Image) -> float:
    """Counter-clockwise degrees that level the text lines (projection profile), 0 when
    the page is level or has no lines to measure."""
    ink = _binary(img)
    strips = _strips(ink)
    scores = {float(a): _profile(strips, ink.width, a) for a in range(-MAX_SKEW, MAX_SKEW + 1)}
    coarse = max(scores, key=lambda a: scores[a])
    for step in (-0.75, -0.5, -0.25, 0.25, 0.5, 0.75):
        scores[coarse + step] = _profile(strips, ink.width, coarse + step)
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
    @property
    def pdf(self) -> str | None: ...


R = TypeVar("R", bound=Read)


@dataclass(frozen=True)
class Upright(Generic[R]):
    """The page as finally read: its image, how it was turned and straightened, and a
    small copy of it (about ``SKEW_WIDTH`` pixels wide, turned and straightened alike) for
    the thumbnail."""

    image: Path
    turn: int  # clockwise degrees applied
    skew: float  # counter-clockwise degrees applied
    result: R
    preview: Image.Image

    @property
    def reading(self) -> Reading:
        return Reading(self.result.text, self.result.confidence)


def glance(image: Path) -> Image.Image:
    """A small copy of the page image, at least ``SKEW_WIDTH`` pixels wide where the page
    is (greyscale or RGB): what the skew, the ink and the thumbnail are measured on.

    A JPEG is decoded straight at that size (``draft``: DCT scaling, a quarter of the
    pixels' work for a 300-dpi page), so an upright page never decodes its full image.
    """
    with Image.open(image) as img:
        k = max(1, img.width // SKEW_WIDTH)
        if k > 1 and img.format == "JPEG":
            img.draft("L" if img.mode == "L" else "RGB", (img.width // k, img.height // k))
        small = img.convert("L" if img.mode in ("1", "L") else "RGB")
    k = max(1, small.width // SKEW_WIDTH)
    return small.reduce(k) if k > 1 else small


class _Full:
    """The page at full resolution, decoded only when a derivative must be written."""

    def __init__(self, image: Path, img: Image.Image | None = None) -> None:
        self._path = image
        self._img = img

    def get(self) -> Image.Image:
        if self._img is None:
            with Image.open(self._path) as opened:
                opened.load()
                self._img = opened.copy()
        return self._img


def read_upright(image: Path, dpi: int | None, workdir: Path, timeout: float,
                 recognise: Callable[[Path], R], langs: str,
                 glanced: Image.Image | None = None) -> Upright[R]:
    """Straighten, OCR, and turn the page when the reading looks wrong.

    ``recognise`` runs the real OCR on an image file (the tesseract adapter). The original
    file is never changed: derivatives are written beside it in ``workdir``. An upright,
    level page is looked at only in its small copy ``glanced`` (:func:`glance`, made here
    when not given).
    """
    preview = glance(image) if glanced is None else glanced
    angle = skew_angle(preview)
    full = _Full(image)
    current = image
    if angle:
        level = straightened(full.get(), angle)
        full = _Full(image, level)
        preview = straightened(preview, angle)
        current = _save(level, workdir / f"{image.stem}-level", dpi)
    first = Upright(current, 0, angle, recognise(current), preview)
    if not looks_wrong(first.reading, ink_share(preview)):
        return _level_lines(first, full, workdir, image.stem, dpi, recognise)
    page = full.get()
    small, small_dpi = downscaled(page, dpi)
    turn = osd_turn(small, small_dpi, timeout)
    if turn is None:  # OSD unsure: read the small copy every way up
        # Not downscaled (a small crop): the first reading is that copy as it is.
        as_is = first.reading.score() if small is page else None
        turn = probe_turn(small, small_dpi, langs, timeout, as_is)
    if not turn:
        return first  # upright after all: the page is just hard to read
    path = _save(turned(page, turn), workdir / f"{image.stem}-turn{turn}", dpi)
    other = Upright(path, turn, angle, recognise(path), turned(preview, turn))
    return other if other.reading.score() > first.reading.score() else first


def _level_lines(first: Upright[R], full: _Full, workdir: Path, stem: str,
                 dpi: int | None, recognise: Callable[[Path], R]) -> Upright[R]:
    """A page tesseract read well but sideways (its lines in the text layer run down the
    page) is turned and read again, so its searchable PDF and thumbnail show it upright;
    an upright page pays only a look at the text layer it already has."""
    lines = line_turn(Path(first.result.pdf)) if first.result.pdf else 0
    if not lines:
        return first
    path = _save(turned(full.get(), lines), workdir / f"{stem}-turn{lines}", dpi)
    other = Upright(path, lines, first.skew, recognise(path), turned(first.preview, lines))
    return other if other.reading.score() >= first.reading.score() - PROBE_MARGIN else first


def _save(img: Image.Image, stem: Path, dpi: int | None) -> Path:
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    if img.mode == "1":
        out = stem.with_suffix(".tif")
        img.save(out, format="TIFF", compression="group4", **extra)
    elif img.width * img.height <= LOSSLESS_PIXELS:
        # JPEG artefacts on a small crop's few pixels a character cost tesseract dearly
        # (CER 0.43 against 0.06 for the same turned crop); PNG of so few pixels is quick.
        out = stem.with_suffix(".png")
        img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode).save(
            out, format="PNG", compress_level=1, **extra)
    else:
        out = stem.with_suffix(".jpg")
        img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode).save(
            out, format="JPEG", quality=85, **extra)
    return out
