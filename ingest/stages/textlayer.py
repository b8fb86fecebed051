"""Text layers: whether a PDF's own text can be trusted, and a searchable-PDF text layer
in which Chinese words are contiguous.

Tesseract's PDF renderer writes every recognised "word" as its own text object followed by
a space glyph; for Chinese a word is one or two characters, so viewers and ``pdftotext``
read ``华夏 安康 人 寿 保 险`` and "find 保险" fails. :func:`join_cjk_words` rewrites that
one-page PDF so neighbouring CJK words on a line become one word stretched over both boxes:
the invisible glyphs stay where the ink is (selection still lines up) and no space is left
between Hanzi, while Latin words keep theirs.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pikepdf

# Tesseract's GlyphLessFont: every glyph is /DW 500, half an em wide.
_GLYPH_EM = 0.5
_SPACE = "\u0020"

# Code points a real text layer practically never holds. CJK compatibility ideographs are
# what broken ToUnicode maps produce; private-use and unassigned ones have no meaning at all.
_COMPAT = ((0xF900, 0xFAFF), (0x2F800, 0x2FA1F), (0xFE30, 0xFE4F))
_EXT_A = (0x3400, 0x4DBF)  # rare ideographs: one or two on a page, never a third of it


def is_cjk(ch: str) -> bool:
    """A Han ideograph or CJK punctuation/fullwidth form (nothing to space around)."""
    cp = ord(ch)
    return (0x2E80 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0xFF00 <= cp <= 0xFFEF
            or 0x20000 <= cp <= 0x3FFFF or 0x3000 <= cp <= 0x303F)


def _suspicious(ch: str) -> bool:
    cp = ord(ch)
    cat = unicodedata.category(ch)
    if ch == "\ufffd" or cat in ("Co", "Cn", "Cs") or (cat == "Cc" and ch not in "\t\n\r\f"):
        return True
    if any(lo <= cp <= hi for lo, hi in _COMPAT) or _EXT_A[0] <= cp <= _EXT_A[1]:
        return True
    # UTF-16 read with the wrong byte order: "Multi" becomes 䴀甀氀琀椀 (U+4D00 U+7500 …),
    # ideographs whose low byte is zero and whose high byte is a printable ASCII letter.
    if 0x2000 <= cp <= 0x7EFF and cp & 0xFF == 0:
        return True
    # A Hanzi in neither the Simplified (GB2312) nor the Traditional (Big5) core sets is rare
    # in office text; mis-decoded CMaps produce them in runs (Buyer˖哾㦓 for Buyer：黎荣).
    if unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH"):
        return not (_encodes(ch, "gb2312") or _encodes(ch, "big5"))
    return cat == "Lm" and cp < 0x0300  # spacing modifier letters (˖) where ：was meant


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def suspicious_share(text: str) -> float:
    """Share of non-space characters that a genuine text layer would not contain."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _suspicious(c)) / len(chars)


def trustworthy(text: str, max_suspicious: float = 0.08) -> bool:
    """Whether a PDF page's own text is real text, so the page need not be OCR'd.

    Glyph garbage and mis-decoded CMaps are indexed as garbage otherwise; a page with a few
    rare characters among many common ones still passes.
    """
    return suspicious_share(text) <= max_suspicious


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK character (else its text layer has nothing to join)."""
    return any(is_cjk(c) for c in text)


def join_cjk_words(pdf: Path) -> Path:
    """Rewrite tesseract's one-page PDF in place so Chinese words carry no spaces."""
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        page = doc.pages[0]
        ops = pikepdf.parse_content_stream(page)
        merged = _merge_ops(ops)
        if merged is None:
            return pdf
        page.Contents = doc.make_stream(pikepdf.unparse_content_stream(merged))
        doc.save(pdf)
    return pdf


SIDEWAYS_SHARE = 0.6  # of the text runs: below it a page has sideways labels, not lines


def line_turn(pdf: Path) -> int:
    """The clockwise turn that levels most text lines of tesseract's one-page PDF: 0 for an
    upright page, 270 for one turned a quarter clockwise, which tesseract reads as it is
    (it takes the lines for vertical writing) though the page shows sideways."""
    with pikepdf.open(pdf) as doc:
        ops = pikepdf.parse_content_stream(doc.pages[0])
    runs = {0: 0, 90: 0, 180: 0, 270: 0}
    turn = 0
    for op in ops:
        name = str(op.operator)
        if name == "Tm" and len(op.operands) == 6:
            a, b = float(op.operands[0]), float(op.operands[1])
            # Where the text's x axis points: right upright, down when turned clockwise.
            turn = (0 if a > abs(b) else 180 if -a > abs(b) else 270 if b < 0 else 90)
        elif name in ("TJ", "Tj"):
            runs[turn] += 1
    total = sum(runs.values())
    best = max((90, 180, 270), key=lambda t: runs[t])
    return best if total and runs[best] >= SIDEWAYS_SHARE * total else 0


class _Word:
    """One ``Tz [<hex>] TJ dx 0 Td`` group of tesseract's text layer."""

    def __init__(self, tz: float, text: str, size: float) -> None:
        self.tz, self.text, self.size = tz, text, size
        self.dx: float | None = None  # the Td that follows, None when the line ends

    @property
    def glyphs(self) -> str:
        return self.text.rstrip(_SPACE)

    def width(self) -> float:
        return len(self.text) * self.size * _GLYPH_EM * self.tz / 100


Op = pikepdf.ContentStreamInstruction


_AnyOp = pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage


def _merge_ops(ops: list[_AnyOp]) -> list[_AnyOp] | None:
    """The content stream with CJK neighbours merged, or None if there was nothing to do."""
    out: list[_AnyOp] = []
    line: list[_Word] = []
    size = 0.0
    tz = 100.0
    changed = False
    shift = 0.0  # how far left the line's last word start moved: the next Td is relative

    def flush() -> None:
        nonlocal changed, shift
        before = sum(w.dx or 0.0 for w in line)
        words, did = _join(line)
        changed = changed or did
        shift = before - sum(w.dx or 0.0 for w in words)
        for w in words:
            out.append(Op([w.tz], pikepdf.Operator("Tz")))
            out.append(Op([pikepdf.Array([pikepdf.String(w.text.encode("utf-16-be"))])],
                          pikepdf.Operator("TJ")))
            if w.dx is not None:
                out.append(Op([w.dx, 0], pikepdf.Operator("Td")))
        line.clear()

    for op in ops:
        if isinstance(op, pikepdf.ContentStreamInlineImage):
            out.append(op)
            continue
        name = str(op.operator)
        if name == "Tz":
            tz = float(op.operands[0])
            continue
        text = _hex_text(op) if name == "TJ" else None
        if text is not None:
            line.append(_Word(tz, text, size))
            continue
        if name == "Td" and line and line[-1].dx is None and float(op.operands[1]) == 0:
            line[-1].dx = float(op.operands[0])
            continue
        if line:
            flush()
            if name == "Td" and shift:
                op = Op([float(op.operands[0]) + shift, op.operands[1]], op.operator)
            shift = 0.0
        if name == "Tf":
            size = float(op.operands[1])
        out.append(op)
    if line:
        flush()
    return out if changed else None


def _hex_text(op: Op) -> str | None:
    arr = op.operands[0] if op.operands else None
    if not isinstance(arr, pikepdf.Array) or len(arr) != 1:
        return None
    item = arr[0]
    if not isinstance(item, pikepdf.String):
        return None
    raw = bytes(item)
    return raw.decode("utf-16-be", "replace") if len(raw) % 2 == 0 else None


def _join(words: list[_Word]) -> tuple[list[_Word], bool]:
    out: list[_Word] = []
    changed = False
    for w in words:
        prev = out[-1] if out else None
        if (prev is not None and prev.dx is not None and prev.glyphs and w.glyphs
                and is_cjk(prev.glyphs[-1]) and is_cjk(w.glyphs[0]) and w.size == prev.size):
            # One word from prev's start to w's end: stretch its glyphs over both boxes.
            span = prev.dx + w.width()
            text = prev.glyphs + w.text
            merged = _Word(span / (len(text) * w.size * _GLYPH_EM) * 100, text, w.size)
            merged.dx = None if w.dx is None else prev.dx + w.dx
            out[-1] = merged
            changed = True
        else:
            out.append(w)
    return out, changed


def set_page_dpi(pdf: Path, width_px: int, dpi: int) -> None:
    """Scale tesseract's one-page PDF so its page is ``width_px`` pixels at ``dpi`` (it
    writes untagged images at 70 dpi: a 2,500-pixel screenshot became a 36-inch page)."""
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        page = doc.pages[0]
        box = [float(v) for v in page.mediabox]
        width_pt = box[2] - box[0]
        if width_pt <= 0:
            return
        scale = width_px * 72 / dpi / width_pt
        if abs(scale - 1) < 0.01:
            return
        page.contents_add(doc.make_stream(f"{scale:.6f} 0 0 {scale:.6f} 0 0 cm\n".encode()),
                          prepend=True)
        page.mediabox = pikepdf.Array([v * scale for v in box])
        if "/CropBox" in page.obj:
            del page.obj["/CropBox"]
        doc.save(pdf)
