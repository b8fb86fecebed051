"""The tesseract adapter: recognition, orientation detection and the language check.

A single recognition run writes the text, the word confidences (TSV) and a one-page PDF
with an invisible text layer, so a page is never recognised twice. Its failures become
:class:`PageUnreadable` with a reason a clerk can act on; this is the one place tesseract's
messages are matched.
"""

from __future__ import annotations

import logging
import re
import signal
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytesseract
from PIL import Image
from pytesseract.pytesseract import TesseractError, TesseractNotFoundError, run_tesseract

from papervault.config.errors import DependencyMissing
from papervault.ingest.errors import PageUnreadable

log = logging.getLogger(__name__)

PROGRAM = "tesseract"


def check_languages(langs: str) -> None:
    """Fail at start-up, with the fix, if tesseract or a language pack is missing."""
    try:
        installed = set(pytesseract.get_languages(config=""))
    except (TesseractNotFoundError, OSError) as e:
        raise DependencyMissing(detail="tesseract (apt-get install tesseract-ocr)") from e
    missing = [lang for lang in langs.split("+") if lang not in installed]
    if missing:
        pkgs = " ".join(f"tesseract-ocr-{m.replace('_', '-')}" for m in missing)
        raise DependencyMissing(detail=f"tesseract languages {missing} (apt-get install {pkgs})")


@dataclass(frozen=True)
class Recognised:
    """What one recognition run wrote: the text, its mean word confidence, the page size
    in pixels, the one-page PDF, and tesseract's dpi estimate for an untagged image."""

    text: str
    confidence: float | None
    width: int | None
    height: int | None
    pdf: Path
    estimate: int | None


def recognise(image: Path, base: Path, langs: str, dpi: int | None, timeout: float,
              page_no: int) -> Recognised:
    """Read ``image`` into ``base``.txt/.tsv/.pdf (the PDF stays, the rest is read and
    removed); ``dpi`` None lets tesseract estimate the resolution from the text height."""
    try:
        if dpi:
            run_tesseract(
                str(image), str(base), "txt pdf", langs,
                config=f"--dpi {dpi} -c tessedit_create_tsv=1",
                timeout=max(1, round(timeout)),  # 0 would mean no limit at all
            )
            estimate = None
        else:
            estimate = _untagged(image, base, langs, timeout)
    except (TesseractError, RuntimeError, subprocess.TimeoutExpired) as e:
        for partial in base.parent.glob(f"{base.name}.*"):  # half-written by the killed run
            partial.unlink(missing_ok=True)
        raise _refusal(page_no, timeout, e) from e
    txt, tsv = base.with_suffix(".txt"), base.with_suffix(".tsv")
    text = txt.read_text(encoding="utf-8", errors="replace")
    confidence, width, height = _tsv_summary(tsv.read_text(encoding="utf-8", errors="replace"))
    txt.unlink()
    tsv.unlink()
    return Recognised(text, confidence, width, height, base.with_suffix(".pdf"), estimate)


def _dpi_option(dpi: int | None) -> str:
    # No dpi: tesseract estimates it from the text height (an untagged crop or screenshot).
    return f"--dpi {dpi}" if dpi else ""


def orientation(img: Image.Image, dpi: int | None, timeout: float) -> tuple[int, float] | None:
    """OSD's clockwise turn (0/90/180/270) that makes the page upright and its confidence;
    None when it cannot tell (too few characters)."""
    try:
        osd = pytesseract.image_to_osd(
            img, config=f"--psm 0 {_dpi_option(dpi)} -c min_characters_to_try=10",
            output_type=pytesseract.Output.DICT, timeout=max(1, round(timeout)))
    except (TesseractError, RuntimeError):
        return None
    return int(osd.get("rotate", 0)) % 360, float(osd.get("orientation_conf", 0.0))


def probe(img: Image.Image, langs: str, dpi: int | None,
          timeout: float) -> tuple[str, float | None]:
    """Text and mean word confidence of a quick read of a (downscaled) image, nothing
    written; ("", None) when tesseract cannot read it."""
    try:
        tsv = pytesseract.image_to_data(img, lang=langs, config=_dpi_option(dpi),
                                        timeout=max(1, round(timeout)))
    except (TesseractError, RuntimeError):
        return "", None
    words: list[str] = []
    confs: list[float] = []
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 12 and cols[0] == "5" and cols[11].strip() and float(cols[10]) >= 0:
            words.append(cols[11])
            confs.append(float(cols[10]))
    return " ".join(words), (round(statistics.fmean(confs), 1) if confs else None)


_TOO_LARGE = re.compile(r"Image too large: \((\d+), (\d+)\)")


def _refusal(page_no: int, timeout: float,
             e: TesseractError | RuntimeError | subprocess.TimeoutExpired) -> PageUnreadable:
    """tesseract's failure in a clerk's words."""
    message = str(e)
    if isinstance(e, subprocess.TimeoutExpired) or (
            isinstance(e, RuntimeError) and "timeout" in message):
        return PageUnreadable("page_timeout", page=page_no, seconds=int(timeout))
    too_large = _TOO_LARGE.search(message)
    if too_large:
        return PageUnreadable("page_image_too_large", page=page_no,
                              width=int(too_large[1]), height=int(too_large[2]))
    if isinstance(e, TesseractError) and e.status in (-signal.SIGKILL, -signal.SIGABRT):
        return PageUnreadable("page_out_of_memory", page=page_no)  # bad_alloc, RLIMIT_AS
    log.warning("tesseract refused page %s: %s", page_no, message)
    return PageUnreadable("page_ocr_refused", page=page_no)


_ESTIMATE = re.compile(rb"Estimating resolution as (\d+)")


def _untagged(image: Path, base: Path, langs: str, timeout: float) -> int | None:
    """Run tesseract on an image without a dpi tag; its resolution estimate.

    Tesseract estimates the resolution from the text height and reads the page at it
    (forcing 300 ruined screenshots and small crops), but writes its PDF at 70 dpi and says
    the estimate only on stderr, which pytesseract drops on success.
    """
    proc = subprocess.run(  # noqa: S603
        [PROGRAM, str(image), str(base), "-l", langs, "-c", "tessedit_create_tsv=1",
         "txt", "pdf"], capture_output=True, timeout=max(1, timeout), check=False)
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
