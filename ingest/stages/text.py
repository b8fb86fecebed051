"""Text clean-up shared by OCR and search: tesseract's ``chi_sim`` output puts spaces
between Hanzi, which no Chinese reader writes and which would split words."""

from __future__ import annotations

import re
import unicodedata

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")


def clean_ocr_text(text: str) -> str:
    """Drop spaces between CJK characters and trailing blanks; keep line breaks."""
    lines = [_SPACE_BETWEEN_CJK.sub("", line).rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip("\n")


def fold(text: str) -> str:
    """Full-width to half-width (NFKC) and upper case: how IDs are compared."""
    return unicodedata.normalize("NFKC", text).upper()
