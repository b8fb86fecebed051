"""Generated scans: realistic Chinese insurance forms rendered with a CJK font at 300 dpi."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
]


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    for f in FONT_CANDIDATES:
        if Path(f).exists():
            return ImageFont.truetype(f, size=size, index=2)  # index 2: SC (Simplified)
    raise RuntimeError("install fonts-noto-cjk (scripts/setup.sh does)")


def form_lines(client_id: str = "KH-2024-000123", policy: str = "BD2024000123",
               name: str = "张伟", extra: str = "") -> list[str]:
    return [
        "中国平安财产保险 理赔申请书",
        f"客户编号：{client_id}",
        f"被保险人：{name}    保单号：{policy}",
        "出险时间：2024年3月15日  出险地点：上海市浦东新区",
        "申请理赔金额：人民币 12,500.00 元",
        "事故经过：车辆在停车场被刮擦，已报警处理。",
        extra or "Claim form, page 1 of 1",
    ]


def render_page(lines: list[str], dpi: int = 300, width_in: float = 8.27,
                height_in: float = 11.69, mode: str = "L") -> Image.Image:
    """An A4 page with ``lines`` of text at about 14 pt."""
    w, h = int(width_in * dpi), int(height_in * dpi)
    img = Image.new(mode, (w, h), "white")
    draw = ImageDraw.Draw(img)
    font = cjk_font(int(dpi * 14 / 72))
    y = int(dpi * 1.0)
    for line in lines:
        draw.text((int(dpi * 0.9), y), line, fill="black", font=font)
        y += int(dpi * 0.45)
    return img


def write_form(path: Path, lines: list[str] | None = None, dpi: int = 300,
               fmt: str | None = None) -> Path:
    """One generated form page saved as PNG/JPEG/TIFF/PDF (by suffix)."""
    img = render_page(lines or form_lines(), dpi=dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = (fmt or path.suffix.lstrip(".")).lower()
    if kind == "pdf":
        img.convert("RGB").save(path, format="PDF", resolution=dpi)
    elif kind in ("jpg", "jpeg"):
        img.convert("RGB").save(path, format="JPEG", quality=85, dpi=(dpi, dpi))
    elif kind in ("tif", "tiff"):
        img.save(path, format="TIFF", dpi=(dpi, dpi), compression="tiff_lzw")
    else:
        img.save(path, format="PNG", dpi=(dpi, dpi))
    return path


def write_multipage_pdf(path: Path, pages: list[list[str]], dpi: int = 150) -> Path:
    """A scanned-looking multi-page PDF, pages generated one at a time."""
    import io

    import pikepdf

    path.parent.mkdir(parents=True, exist_ok=True)
    with pikepdf.new() as out:
        for lines in pages:
            buf = io.BytesIO()
            render_page(lines, dpi=dpi).save(buf, format="PDF", resolution=dpi)
            one = pikepdf.open(io.BytesIO(buf.getvalue()))
            out.pages.extend(one.pages)
        out.save(path)
    return path
