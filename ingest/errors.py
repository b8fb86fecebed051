"""Errors of the capture pipeline that send a file to quarantine."""

from __future__ import annotations

from papervault.config.errors import PapervaultError


class Rejected(PapervaultError):
    """The file cannot be archived as it is; the key says why in a clerk's words."""

    exit_code = 65  # EX_DATAERR
    http_status = 422


class OcrFailed(PapervaultError):
    """Tesseract or the renderer failed on a stored document."""

    key = "ocr_failed"


class PageUnreadable(OcrFailed):
    """One page cannot be read; the key (``page_*``) says why in a clerk's words. The page
    process turns it into a failed page result: the rest of the document is still read."""

    key = "page_internal"
