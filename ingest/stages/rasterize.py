"""Page images for OCR, one page at a time: a scanner's own image copied out of a PDF page,
else the page rendered by poppler (:mod:`papervault.ingest.tools.poppler`) with its size
checked, and frames of TIFF/JPEG/PNG files."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf.models.image import UnsupportedImageTypeError
from PIL import Image

from papervault.ingest.errors import PageUnreadable
from papervault.ingest.stages import upright
from papervault.ingest.tools import poppler


def render_pdf_page(pdf: Path, page_no: int, dpi: int, workdir: Path, timeout: float,
                    max_pixels: int, scanned_first: bool = True) -> Path:
    """One page as an image file at ``dpi``: the scanner's own JPEG/G4 image when the page
    is nothing else (unless ``scanned_first`` is False: the caller has looked), else
    rendered to JPEG.

    The page's size is checked before and after rendering: pdftoppm answers a page it
    cannot allocate with a 1×1 image, which OCR then reads as a "blank" page (L9).
    """
    scanned = scanned_image(pdf, page_no, dpi, workdir) if scanned_first else None
    if scanned is not None:
        return scanned
    expected = expected_pixels(pdf, page_no, dpi)
    if expected is not None and expected[0] * expected[1] > max_pixels:
        raise PageUnreadable("page_too_many_pixels", page=page_no, dpi=dpi,
                             pixels=expected[0] * expected[1], limit=max_pixels)
    image = poppler.render(pdf, page_no, dpi, workdir, timeout)
    _check_rendered(image, page_no, expected, max_pixels, dpi)
    return image


def expected_pixels(pdf: Path, page_no: int, dpi: int) -> tuple[int, int] | None:
    """The page's MediaBox at ``dpi`` (what pdftoppm renders), None if it cannot be read."""
    try:
        with pikepdf.open(pdf) as doc:
            box = [float(v) for v in doc.pages[page_no - 1].mediabox]
    except (pikepdf.PdfError, IndexError, ValueError, TypeError, KeyError):
        return None
    width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
    return round(width * dpi / 72), round(height * dpi / 72)


def _check_rendered(image: Path, page_no: int, expected: tuple[int, int] | None,
                    max_pixels: int, dpi: int) -> None:
    try:
        with Image.open(image) as img:  # reads the header only
            width, height = img.size
    except (OSError, ValueError) as e:
        raise PageUnreadable("page_unrenderable", page=page_no) from e
    if width * height > max_pixels:
        raise PageUnreadable("page_too_many_pixels", page=page_no, dpi=dpi,
                             pixels=width * height, limit=max_pixels)
    if expected is not None and not _about(sorted((width, height)), sorted(expected)):
        raise PageUnreadable("page_unrenderable", page=page_no)


def _about(got: list[int], want: list[int]) -> bool:
    return all(abs(g - w) <= max(2, w // 50) for g, w in zip(got, want, strict=True))


# Codecs whose bytes pikepdf copies out unchanged (JPEG as is, G4 wrapped in a TIFF header).
_COPYABLE = ("/DCTDecode", "/CCITTFaxDecode")
_PLACEMENT_OPS = {"q", "Q", "cm", "Do"}


def scanned_image(pdf: Path, page_no: int, dpi: int, workdir: Path) -> Path | None:
    """The page's only image, copied out without decoding, when the page is just that
    image drawn upright over the whole page at ``dpi`` (what scanners write).

    Rendering such a page only decodes and re-encodes the same pixels: measured 0.4 s a
    page at 300 dpi, and pdftoppm's RGB output made tesseract itself 12% slower.
    None whenever anything else is on the page, so the renderer handles every other case.
    """
    try:
        with pikepdf.open(pdf) as doc:
            page = doc.pages[page_no - 1]
            image = _sole_image(page, dpi)
            if image is None:
                return None
            return Path(image.extract_to(fileprefix=str(workdir / f"s{page_no:05d}")))
    except (pikepdf.PdfError, pikepdf.PasswordError, UnsupportedImageTypeError, IndexError,
            ValueError, KeyError, AttributeError, TypeError, NotImplementedError):
        return None  # anything unusual: the renderer decides


def _sole_image(page: pikepdf.Page, dpi: int) -> pikepdf.PdfImage | None:
    if int(page.obj.get("/Rotate", 0)) % 360 or page.obj.get("/UserUnit", 1) != 1:
        return None
    ops = pikepdf.parse_content_stream(page)
    names = [str(o.operator) for o in ops]
    if set(names) - _PLACEMENT_OPS or names.count("Do") != 1 or names.count("cm") > 1:
        return None
    name = str(next(o.operands[0] for o in ops if str(o.operator) == "Do"))
    raw = page.obj.Resources.XObject.get(name)
    if not isinstance(raw, pikepdf.Stream) or raw.get("/Subtype") != "/Image":
        return None
    image = pikepdf.PdfImage(raw)
    filters = image.filters
    if (len(filters) != 1 or filters[0] not in _COPYABLE or "/SMask" in raw or "/Mask" in raw
            or "/Decode" in raw and filters[0] == "/DCTDecode"
            or image.colorspace not in ("/DeviceGray", "/DeviceRGB")):
        return None
    box = [float(v) for v in page.mediabox]
    width_pt, height_pt = box[2] - box[0], box[3] - box[1]
    cm = [[float(v) for v in o.operands] for o in ops if str(o.operator) == "cm"]
    a, b, c, d, e, f = cm[0] if cm else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    covers = (b == 0 == c and abs(a - width_pt) < 1 and abs(d - height_pt) < 1
              and abs(e - box[0]) < 1 and abs(f - box[1]) < 1)
    native = (image.width * 72 / width_pt, image.height * 72 / height_pt)
    if not covers or any(abs(n - dpi) > dpi * 0.01 for n in native):
        return None
    return image


def image_page(src: Path, frame: int, workdir: Path) -> tuple[Path, int | None]:
    """One frame of an image file as a file tesseract reads well, and its dpi (None when
    the file has no usable tag: tesseract then estimates it from the text height).

    A plain upright RGB/greyscale JPEG goes through untouched; other frames are written as
    JPEG (or G4 TIFF for bilevel scans) so the searchable PDF stays small. An EXIF
    orientation (phone photos) is applied first, before anything reads the pixels.
    """
    with Image.open(src) as img:
        img.seek(frame)
        dpi = _dpi(img.info.get("dpi"))
        turned = upright.exif_turned(img)
        if img.format == "JPEG" and img.mode in ("RGB", "L") and frame == 0 and not turned:
            return src, dpi
        page = _normalise(upright.exif_upright(img) if turned else img)
        tag = {"dpi": (dpi, dpi)} if dpi else {}
        if page.mode == "1":
            out = workdir / f"f{frame:05d}.tif"
            page.save(out, format="TIFF", compression="group4", **tag)
        else:
            out = workdir / f"f{frame:05d}.jpg"
            page.save(out, format="JPEG", quality=85, **tag)
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


def _dpi(value: object) -> int | None:
    # Screenshots and many PNGs say 72 or 96 (a screen, not a scanner): no real tag either.
    if isinstance(value, tuple) and value and isinstance(value[0], int | float):
        dpi = round(float(value[0]))
        if 100 <= dpi <= 2400:
            return dpi
    return None
