"""The page stage: one page per call, one thread per process; a PDF's own text layer when
it can be trusted, else the page rendered, turned upright and read by tesseract
(:mod:`papervault.ingest.tools.tesseract`).

A page that cannot be read comes back as a failed :class:`PageResult` carrying a reason
from the catalogue, never as an exception: the rest of the document is still read, and
nothing has to survive a trip through pickle but plain values.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from papervault.config.messages import pair
from papervault.index.text import clean_ocr_text
from papervault.ingest.errors import OcrFailed
from papervault.ingest.stages import barcodes, rasterize, textlayer, thumbs, upright
from papervault.ingest.tools import poppler, tesseract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageTask:
    """Everything a page worker needs; plain values so it pickles to another process."""

    source: str
    media_type: str
    page_no: int  # 1-based
    dpi: int
    langs: str
    workdir: str
    timeout: float
    text_layer_min_chars: int
    scan_codes: bool = False  # look for cover-sheet codes (documents of 2+ pages)
    max_pixels: int = 200_000_000  # of the rendered page image
    # Tests only: the page process kills itself (SIGKILL), or hangs, on a page whose text
    # holds this token. Only code sets it (WorkerConfig); no setting or file reaches it.
    crash_token: str | None = None
    crash_mode: str = "kill"  # kill | hang
    # Wall-clock limit of the whole page in its process; 0: four tool runs and 30 s.
    wall_limit: float = 0.0

    def limit(self) -> float:
        """Seconds after which the parent kills the page's process."""
        return self.wall_limit or 4 * self.timeout + 30


@dataclass(frozen=True)
class PageFailure:
    """Why a page could not be read: a catalogue key and its plain parameters."""

    key: str
    params: dict[str, object] = field(default_factory=dict)

    def reason(self) -> str:
        """Chinese / English, as status lists show it."""
        return pair(self.key, **self.params)


@dataclass(frozen=True)
class PageResult:
    page_no: int
    text: str
    confidence: float | None
    source: str  # ocr | text_layer | failed
    pdf: str | None  # one-page searchable PDF, None when the original page is reused
    width_px: int | None
    height_px: int | None
    dpi: int | None
    codes: tuple[str, ...] = ()  # QR/Code128 texts, when the task asked for them
    failure: PageFailure | None = None
    turn: int = 0  # clockwise degrees the page was turned to read it upright
    skew: float = 0.0  # degrees it was straightened by
    thumb: str | None = None  # small upright JPEG of the page, for the web pages


def failed_page(page_no: int, key: str, **params: object) -> PageResult:
    """The result of a page that could not be read."""
    return PageResult(page_no, "", None, "failed", None, None, None, None,
                      failure=PageFailure(key, {"page": page_no, **params}))


def check_tesseract(langs: str) -> None:
    """Fail at start-up, with the fix, if tesseract or a language pack is missing."""
    tesseract.check_languages(langs)


def ocr_page(task: PageTask) -> PageResult:
    """Recognise one page, or say in a clerk's words why it cannot be read."""
    try:
        result = _read_page(task)
    except OcrFailed as e:
        return failed_page(task.page_no, e.key, **{k: v for k, v in e.params.items()
                                                   if k != "page"})
    except MemoryError:
        return failed_page(task.page_no, "page_out_of_memory")
    except Exception:  # a bug or a library crash on one page must not lose the others
        log.exception("page %s of %s", task.page_no, task.source)
        return failed_page(task.page_no, "page_internal")
    if task.crash_token and task.crash_token in result.text:
        if task.crash_mode == "hang":
            time.sleep(3600)
        os.kill(os.getpid(), signal.SIGKILL)
    return result


def _read_page(task: PageTask) -> PageResult:
    """Reuse a PDF's own text layer, else render and run tesseract.

    Cover-sheet codes are read from the same page image in the same process, so no stage
    waits for every page and no page is rendered twice.
    """
    src = Path(task.source)
    workdir = Path(task.workdir)
    if task.media_type == "pdf":
        # A scanner's page (one image and nothing else) has no text layer to ask
        # pdftotext about: its image is copied out as it is (pdftotext was ~1% of a page).
        scanned = rasterize.scanned_image(src, task.page_no, task.dpi, workdir)
        own = "" if scanned is not None else poppler.page_text(src, task.page_no,
                                                                task.timeout)
        # A glyph-garbage or mis-decoded layer is OCR'd like a scan (issue 14).
        if (len("".join(own.split())) >= task.text_layer_min_chars
                and textlayer.trustworthy(own)):
            codes = _codes_of_unrendered(task) if task.scan_codes else ()
            thumb = thumbs.from_pdf_page(src, task.page_no, workdir, task.timeout)
            return PageResult(task.page_no, clean_ocr_text(own), None, "text_layer", None,
                              None, None, None, codes, thumb=thumb)
        image = scanned or rasterize.render_pdf_page(src, task.page_no, task.dpi, workdir,
                                                     task.timeout, task.max_pixels,
                                                     scanned_first=False)
        dpi: int | None = task.dpi
    else:
        image, dpi = rasterize.image_page(src, task.page_no - 1, workdir)
    try:
        # One small decode of the page serves the codes, the skew, the ink and the thumbnail.
        glance = upright.glance(image)
        codes = barcodes.codes_in(glance) if task.scan_codes else ()
        page = upright.read_upright(image, dpi, workdir, task.timeout,
                                    lambda img: _tesseract(img, task, dpi, workdir),
                                    task.langs, glance)
        thumb = thumbs.from_preview(page.preview, workdir / f"t{task.page_no:05d}.jpg")
        return replace(page.result, codes=codes, turn=page.turn, skew=page.skew, thumb=thumb)
    finally:
        if image != src:
            image.unlink(missing_ok=True)


def _codes_of_unrendered(task: PageTask) -> tuple[str, ...]:
    scan = barcodes.ScanTask(task.source, task.media_type, task.page_no, task.workdir,
                             task.timeout, task.max_pixels)
    return barcodes.scan_page(scan)[1]


def _tesseract(image: Path, task: PageTask, dpi: int | None, workdir: Path) -> PageResult:
    # Named after the image: a turned copy is read too and must not overwrite this one.
    base = workdir / f"ocr-{task.page_no:05d}-{image.stem}"
    done = tesseract.recognise(image, base, task.langs, dpi, task.timeout, task.page_no)
    # A page without a Hanzi has no words to join: its text layer is not even parsed.
    pdf = textlayer.join_cjk_words(done.pdf) if textlayer.has_cjk(done.text) else done.pdf
    if done.estimate and done.width:
        textlayer.set_page_dpi(pdf, done.width, done.estimate)
    used = dpi or done.estimate
    return PageResult(task.page_no, clean_ocr_text(done.text), done.confidence, "ocr",
                      str(pdf), done.width, done.height, used)
