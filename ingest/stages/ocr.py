"""The tesseract adapter: one page per call, one thread per process.

A single tesseract run writes the text, the word confidences (TSV) and a one-page PDF
with an invisible text layer: the page is never recognised twice.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pytesseract
from pytesseract.pytesseract import TesseractError, TesseractNotFoundError, run_tesseract

from papervault.config.errors import DependencyMissing
from papervault.index.text import clean_ocr_text
from papervault.ingest.errors import OcrFailed
from papervault.ingest.stages import barcodes, rasterize, textlayer, thumbs, upright


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


@dataclass(frozen=True)
class PageResult:
    page_no: int
    text: str
    confidence: float | None
    source: str  # ocr | text_layer
    pdf: str | None  # one-page searchable PDF, None when the original page is reused
    width_px: int | None
    height_px: int | None
    dpi: int | None
    codes: tuple[str, ...] = ()  # QR/Code128 texts, when the task asked for them
    turn: int = 0  # clockwise degrees the page was turned to read it upright
    skew: float = 0.0  # degrees it was straightened by
    thumb: str | None = None  # small upright JPEG of the page, for the web pages


def init_worker_process(tmpdir: str) -> None:
    """Process-pool initializer: one tesseract thread, temp files in the private dir."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    tempfile.tempdir = tmpdir


def check_tesseract(langs: str) -> None:
    """Fail at start-up, with the fix, if tesseract or a language pack is missing."""
    try:
        installed = set(pytesseract.get_languages(config=""))
    except (TesseractNotFoundError, OSError) as e:
        raise DependencyMissing(detail="tesseract (apt-get install tesseract-ocr)") from e
    missing = [lang for lang in langs.split("+") if lang not in installed]
    if missing:
        pkgs = " ".join(f"tesseract-ocr-{m.replace('_', '-')}" for m in missing)
        raise DependencyMissing(detail=f"tesseract languages {missing} (apt-get install {pkgs})")


def ocr_page(task: PageTask) -> PageResult:
    """Recognise one page: reuse a PDF's own text layer, else render and run tesseract.

    Cover-sheet codes are read from the same page image in the same process, so no stage
    waits for every page and no page is rendered twice.
    """
    src = Path(task.source)
    workdir = Path(task.workdir)
    if task.media_type == "pdf":
        own = rasterize.text_layer(src, task.page_no, task.timeout)
        # A glyph-garbage or mis-decoded layer is OCR'd like a scan (issue 14).
        if (len("".join(own.split())) >= task.text_layer_min_chars
                and textlayer.trustworthy(own)):
            codes = _codes_of_unrendered(task) if task.scan_codes else ()
            thumb = thumbs.from_pdf_page(src, task.page_no, workdir, task.timeout)
            return PageResult(task.page_no, clean_ocr_text(own), None, "text_layer", None,
                              None, None, None, codes, thumb=thumb)
        image = rasterize.render_pdf_page(src, task.page_no, task.dpi, workdir, task.timeout)
        dpi: int | None = task.dpi
    else:
        image, dpi = rasterize.image_page(src, task.page_no - 1, workdir)
    try:
        codes = barcodes.codes_in_image(image, dpi or task.dpi) if task.scan_codes else ()
        page = upright.read_upright(image, dpi, workdir, task.timeout,
                                    lambda img: _tesseract(img, task, dpi, workdir))
        thumb = thumbs.from_image(page.image, workdir / f"t{task.page_no:05d}.jpg")
        return replace(page.result, codes=codes, turn=page.turn, skew=page.skew, thumb=thumb)
    finally:
        if image != src:
            image.unlink(missing_ok=True)


def _codes_of_unrendered(task: PageTask) -> tuple[str, ...]:
    scan = barcodes.ScanTask(task.source, task.media_type, task.page_no, task.workdir,
                             task.timeout)
    return barcodes.scan_page(scan)[1]


def _tesseract(image: Path, task: PageTask, dpi: int | None, workdir: Path) -> PageResult:
    # Named after the image: a turned copy is read too and must not overwrite this one.
    base = workdir / f"ocr-{task.page_no:05d}-{image.stem}"
    try:
        if dpi:
            run_tesseract(
                str(image), str(base), "txt pdf", task.langs,
                config=f"--dpi {dpi} -c tessedit_create_tsv=1", timeout=int(task.timeout),
            )
            estimate = None
        else:
            estimate = _untagged(image, base, task)
    except (TesseractError, RuntimeError, subprocess.TimeoutExpired) as e:
        raise OcrFailed(detail=f"page {task.page_no}: tesseract {e}") from e
    text = base.with_suffix(".txt").read_text(encoding="utf-8", errors="replace")
    tsv = base.with_suffix(".tsv")
    confidence, width, height = _tsv_summary(tsv.read_text(encoding="utf-8", errors="replace"))
    base.with_suffix(".txt").unlink()
    tsv.unlink()
    pdf = textlayer.join_cjk_words(base.with_suffix(".pdf"))
    if estimate and width:
        textlayer.set_page_dpi(pdf, width, estimate)
    used = dpi or estimate
    return PageResult(task.page_no, clean_ocr_text(text), confidence, "ocr",
                      str(pdf), width, height, used)


_ESTIMATE = re.compile(rb"Estimating resolution as (\d+)")


def _untagged(image: Path, base: Path, task: PageTask) -> int | None:
    """Run tesseract on an image without a dpi tag; its resolution estimate.

    Tesseract estimates the resolution from the text height and reads the page at it
    (forcing 300 ruined screenshots and small crops), but writes its PDF at 70 dpi and says
    the estimate only on stderr, which pytesseract drops on success.
    """
    proc = subprocess.run(  # noqa: S603
        ["tesseract", str(image), str(base), "-l", task.langs, "-c", "tessedit_create_tsv=1",
         "txt", "pdf"], capture_output=True, timeout=task.timeout, check=False)
    if proc.returncode != 0:
        raise TesseractError(proc.returncode, proc.stderr.decode("utf-8", "replace")[-300:])
    found = _ESTIMATE.search(proc.stderr)
    return int(found.group(1)) if found and 50 <= int(found.group(1)) <= 2400 else None


def _tsv_summary(tsv: str) -> tuple[float | None, int | None, int | None]:
    """Mean word confidence and the page size in pixels from tesseract's TSV."""
    confs: list[float] = []
    width = height = None
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12:
            continue
        if cols[0] == "1":
            width, height = int(cols[8]), int(cols[9])
        if cols[0] == "5" and cols[11].strip():
            conf = float(cols[10])
            if conf >= 0:
                confs.append(conf)
    return (round(statistics.fmean(confs), 1) if confs else None), width, height
