"""The one place text is normalised: IDs from registers and OCR, search tokens, OCR clean-up.

Registers, the linker and search must agree on what "the same ID" or "the same word" is: a
register cell ``KH—2024—000123`` (em dashes, common in Chinese spreadsheets) has to match
``KH-2024-000123`` read off a scan, and a query must fold the way the index was built.
"""

from __future__ import annotations

import re
import unicodedata

# Han (with extensions), kana, bopomofo, hangul: one search token per character.
CJK_LETTERS = (
    "\u2e80-\u2fdf\u3005\u3007\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
# Letters plus CJK punctuation and full-width forms: no reader puts a space between these.
_CJK_WIDE = CJK_LETTERS + "\u3000-\u303f\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK_WIDE}])[ \t]+(?=[{_CJK_WIDE}])")
# NFKC turns the full-width hyphen into "-" but leaves dashes alone; IDs use "-".
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63",
                                      "-"))


def fold_cell(text: str) -> str:
    """Full-width letters and digits to ASCII (NFKC), every dash to ``-``; case kept."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES)


def fold_id(text: str) -> str:
    """How client IDs, policy numbers and 档号 are compared: :func:`fold_cell`, upper case."""
    return fold_cell(text).upper()


def fold_search(text: str) -> str:
    """How the search index and queries are compared: :func:`fold_cell`, lower case."""
    return fold_cell(text).lower()


def clean_ocr_text(text: str) -> str:
    """Drop spaces between CJK characters and trailing blanks; keep line breaks.

    tesseract's ``chi_sim`` output puts spaces between Hanzi, which would split words.
    """
    lines = [_SPACE_BETWEEN_CJK.sub("", line).rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip("\n")


def plain_int(value: str | None) -> int | None:
    """A whole number typed in a URL or form, ASCII digits only; None otherwise.

    ``str.isdigit`` is also true for ``²`` and other digit-like signs that ``int`` refuses
    (a 500 where the caller typed a bad number), and for Arabic-Indic digits it accepts."""
    return int(value) if value and value.isascii() and value.isdigit() else None
