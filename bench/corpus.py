"""The benchmark's pages: a few real scans from ../shared/testdata plus generated
300-dpi Chinese/English insurance forms, all written as greyscale 300-dpi JPEG pages
and one PDF that embeds those very JPEGs (img2pdf: no re-encoding), so every contender
reads the same pixels at the same dpi."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image

from tests.factories import form_lines, render_page

DPI = 300
TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
if not TESTDATA.exists():
    TESTDATA = Path("/work/shared/testdata")

# (path under testdata, frame): full-page scans first, then smaller real ones.
REAL_SCANS = [
    ("OCRmyPDF/tests/resources/linn.png", 0),
    ("paperless-ngx/src/paperless/tests/samples/tesseract/multi-page-images.tiff", 0),
    ("paperless-ngx/src/paperless/tests/samples/tesseract/multi-page-images.tiff", 1),
    ("paperless-ngx/src/paperless/tests/samples/tesseract/multi-page-images.tiff", 2),
    ("tesseract-ocr-test/testing/eurotext.tif", 0),
    ("tesseract-ocr-test/testing/phototest.tif", 0),
    ("Easydict/EasydictTests/Resources/OCRImages/ocr-zh-text-list-1.png", 0),
]

SENTENCES_ZH = [
    "被保险人于2024年3月15日在上海市浦东新区因交通事故受伤，住院治疗12天。",
    "申请理赔金额人民币12,500.00元，请将赔款转入被保险人名下银行账户。",
    "投保人声明以上所填内容属实，如有隐瞒愿承担相应法律责任。",
    "附件：身份证复印件、医疗费用清单、出院小结、事故证明各一份。",
    "经办人：李娜  复核人：王芳  审批日期：2024年4月2日",
    "保险责任期间自2023年1月1日零时起至2023年12月31日二十四时止。",
]
SENTENCES_EN = [
    "Claim reference CL-2024-{n:06d}, policy BD20240{n:05d}, insured person Zhang Wei.",
    "Medical expenses reimbursed according to clause 4.2 of the policy schedule.",
    "Please attach the original invoices; photocopies are not accepted.",
    "Signature of the applicant ______________  Date ____/____/______",
]


@dataclass(frozen=True)
class Corpus:
    pages: list[Path]  # one 300-dpi greyscale JPEG per page
    pdf: Path  # the same JPEGs, one per page
    kinds: list[str]  # "real:<name>" or "generated"


def _real_page(rel: str, frame: int) -> Image.Image:
    """A real scan as greyscale at 300 dpi (scaled from its own dpi when it has one)."""
    with Image.open(TESTDATA / rel) as img:
        img.seek(frame)
        dpi = img.info.get("dpi", (DPI, DPI))[0] or DPI
        page = img.convert("L")
    if abs(dpi - DPI) > 5:
        f = DPI / float(dpi)
        page = page.resize((round(page.width * f), round(page.height * f)), Image.LANCZOS)
    return page


def _form_page(n: int) -> Image.Image:
    rnd = random.Random(n)
    lines = form_lines(client_id=f"KH-2024-{n:06d}", policy=f"BD2024{n:06d}")
    for _ in range(10):
        if rnd.random() < 0.6:
            lines.append(rnd.choice(SENTENCES_ZH))
        else:
            lines.append(rnd.choice(SENTENCES_EN).format(n=n))
    lines.append(f"第 {n} 页  Page {n}")
    return render_page(lines, dpi=DPI)


def page_images(count: int, real: int = len(REAL_SCANS)) -> Iterator[tuple[Image.Image, str]]:
    """``count`` pages: up to ``real`` real scans, generated forms for the rest."""
    for i in range(count):
        if i < min(real, len(REAL_SCANS)):
            rel, frame = REAL_SCANS[i]
            yield _real_page(rel, frame), f"real:{Path(rel).name}#{frame}"
        else:
            yield _form_page(i + 1), "generated"


def build(folder: Path, count: int) -> Corpus:
    """Write ``count`` page JPEGs and the PDF holding them into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    kinds: list[str] = []
    for i, (img, kind) in enumerate(page_images(count), start=1):
        out = folder / f"page-{i:04d}.jpg"
        img.save(out, format="JPEG", quality=85, dpi=(DPI, DPI))
        pages.append(out)
        kinds.append(kind)
    pdf = folder / "corpus.pdf"
    pdf.write_bytes(img2pdf.convert([str(p) for p in pages]))
    return Corpus(pages, pdf, kinds)


def repeat_pdf(src: Path, out: Path, pages: int, title: str = "") -> Path:
    """A ``pages``-page PDF repeating ``src``'s pages (cheap: the images are shared)."""
    with pikepdf.open(src) as one, pikepdf.new() as pdf:
        n = len(one.pages)
        for i in range(pages):
            pdf.pages.append(one.pages[i % n])
        if title:
            pdf.docinfo["/Title"] = title  # a distinct file, so capture sees no duplicate
        pdf.save(out)
    return out


def single_page_pdfs(corpus: Corpus, folder: Path) -> list[Path]:
    """One PDF per corpus page (for the multi-worker runs, one job per page)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, page in enumerate(corpus.pages, start=1):
        dest = folder / f"doc-{i:04d}.pdf"
        dest.write_bytes(img2pdf.convert([str(page)]))
        out.append(dest)
    return out
