"""Pages read upright and straight with real tesseract (issue 14): turned, EXIF-oriented
and skewed scans, garbage text layers, Chinese text layers without spaces, thumbnails.

The page stage needs no database; the one worker test is pinned to SQLite (OCR does not
depend on the database, and the machine's two cores are shared).
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops, ImageStat
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.models import Client, Document, Page
from papervault.index.web.app import create_app
from papervault.ingest.stages import searchable_pdf, textlayer, upright
from papervault.ingest.stages.ocr import PageResult, PageTask, ocr_page
from papervault.ingest.stages.searchable_pdf import assemble
from papervault.storage.crypto import WrappedKey
from tests.factories import form_lines, render_page, write_form

LANGS = "chi_sim+eng"
PHOTO = "tesseract-ocr-test/testing"


@pytest.fixture(autouse=True)
def _one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the page processes do (pagepool.init_page_process): one tesseract thread.
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _read(path: Path, tmp_path: Path, page_no: int = 1, min_chars: int = 20) -> PageResult:
    kind = {".pdf": "pdf", ".jpg": "jpeg", ".tif": "tiff"}.get(path.suffix, "png")
    work = tmp_path / f"work-{path.stem}-{page_no}"
    work.mkdir()
    return ocr_page(PageTask(str(path), kind, page_no, 300, LANGS, str(work), 120.0, min_chars))


def _squash(text: str) -> str:
    return "".join(text.split())


def cer(ref: str, hyp: str) -> float:
    """Character error rate with whitespace removed (Levenshtein over the reference)."""
    a, b = _squash(ref), _squash(hyp)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(1, len(a))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "turn"), [("phototest-rotated-180.png", 180),
                                            ("phototest-rotated-L.png", 90),
                                            ("phototest-rotated-R.png", 270)])
def test_turned_real_scans_read_like_the_upright_one(testdata: Path, tmp_path: Path,
                                                     name: str, turn: int) -> None:
    """R reads well as it is (tesseract takes its lines for vertical writing); its text
    layer's sideways lines still get it turned, so it is shown upright."""
    truth = (testdata / PHOTO / "phototest.txt").read_text(encoding="utf-8")
    page = _read(testdata / PHOTO / name, tmp_path)
    assert cer(truth, page.text) < 0.05, page.text
    assert page.turn == turn


@pytest.mark.slow
@pytest.mark.parametrize(("name", "clockwise"), [
    ("kreuzberg/test_documents/images/chi_sim_image.jpeg", 90),
    ("kreuzberg/test_documents/images/chi_sim_image.jpeg", 180),
    ("kreuzberg/test_documents/images/chi_sim_image.jpeg", 270),
    ("Easydict/EasydictTests/Resources/OCRImages/ocr-zh-text-3.png", 270)])
def test_small_turned_chinese_crops_are_turned_back(testdata: Path, tmp_path: Path,
                                                    name: str, clockwise: int) -> None:
    """Crops of a few lines of Chinese where OSD is unsure or wrong: the quick reads of the
    four turns find the upright one, and it reads about like the upright crop."""
    with Image.open(testdata / name) as img:
        dpi = img.info.get("dpi", (0, 0))[0]
        crop = img.convert("RGB")
    tag = {"dpi": (dpi, dpi)} if dpi >= 100 else {}
    crop.save(tmp_path / "upright.png", **tag)
    upright.turned(crop, clockwise).save(tmp_path / "turned.png", **tag)
    truth = _read(tmp_path / "upright.png", tmp_path).text
    page = _read(tmp_path / "turned.png", tmp_path)
    assert page.turn == 360 - clockwise
    # Against the upright crop's own reading: JPEG blocks fall differently on the turned
    # pixels, so a few characters differ (0.27 measured); the wrong way up reads 0.99.
    assert cer(truth, page.text) < 0.35, (truth, page.text)


@pytest.mark.slow
def test_upright_page_is_not_turned_or_straightened(testdata: Path, tmp_path: Path) -> None:
    page = _read(testdata / PHOTO / "phototest.tif", tmp_path)
    assert (page.turn, page.skew) == (0, 0.0)
    assert "quick brown dog" in page.text


@pytest.mark.slow
def test_cardinal_pdf_reads_all_four_turned_pages(testdata: Path, tmp_path: Path) -> None:
    """GIVEN linn.png baked into a PDF at 0/90/180/270° (no /Rotate)."""
    pdf = testdata / "OCRmyPDF/tests/resources/cardinal.pdf"
    truth = (testdata / "OCRmyPDF/tests/resources/linn.txt").read_text(encoding="utf-8")
    pages = [_read(pdf, tmp_path, n) for n in range(1, 5)]
    assert [cer(truth, p.text) < 0.1 for p in pages] == [True] * 4
    assert pages[0].turn == 0 and pages[2].turn == 180


@pytest.mark.slow
def test_kreuzberg_rotated_pdf_is_read(testdata: Path, tmp_path: Path) -> None:
    page = _read(testdata / "kreuzberg/test_documents/pdfs/ocr_test_rotated_90.pdf", tmp_path)
    assert len(_squash(page.text)) >= 10 and upright.plausible_share(page.text) > 0.9


@pytest.mark.slow
def test_skewed_pdf_is_straightened_and_read(testdata: Path, tmp_path: Path) -> None:
    res = testdata / "OCRmyPDF/tests/resources"
    page = _read(res / "skew.pdf", tmp_path)
    assert abs(page.skew) >= 0.5
    assert cer((res / "linn.txt").read_text(encoding="utf-8"), page.text) < 0.1


@pytest.mark.parametrize(("n", "angle"), [(1, -1.0), (2, -2.0), (3, -6.0), (4, 7.0)])
def test_skew_angle_of_the_deskew_samples(testdata: Path, n: int, angle: float) -> None:
    with Image.open(testdata / f"deskew/tests/deskew-{n}.png") as img:
        assert abs(upright.skew_angle(img) - angle) <= 0.6


def _form(tmp_path: Path) -> Image.Image:
    return render_page(form_lines(client_id="KH-2024-000777"))


def _assert_form(page: PageResult) -> None:
    text = _squash(page.text)
    assert "理赔申请书" in text and "KH-2024-000777" in text, page.text


@pytest.mark.slow
@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_turned_generated_forms_are_found_by_their_words(tmp_path: Path,
                                                         clockwise: int) -> None:
    path = tmp_path / f"turned-{clockwise}.png"
    upright.turned(_form(tmp_path), 360 - clockwise).save(path, dpi=(300, 300))
    page = _read(path, tmp_path)
    _assert_form(page)


@pytest.mark.slow
def test_exif_oriented_photo_is_read_upright(tmp_path: Path) -> None:
    """GIVEN a phone-style JPEG: pixels stored sideways, EXIF Orientation 6 (turn 90° cw)."""
    sideways = _form(tmp_path).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "photo.jpg"
    sideways.save(path, format="JPEG", quality=90, dpi=(300, 300), exif=exif)
    page = _read(path, tmp_path)
    _assert_form(page)
    assert page.turn == 0  # EXIF did it: no OSD needed
    assert page.width_px is not None and page.height_px is not None
    assert page.width_px < page.height_px


@pytest.mark.slow
@pytest.mark.parametrize("angle", [3.5, -4.0])
def test_skewed_generated_form_is_straightened(tmp_path: Path, angle: float) -> None:
    path = tmp_path / "skewed.png"
    _form(tmp_path).rotate(angle, fillcolor=255, expand=True).save(path, dpi=(300, 300))
    page = _read(path, tmp_path)
    _assert_form(page)
    assert abs(page.skew + angle) <= 0.5


@pytest.mark.slow
def test_untagged_image_gets_an_estimated_dpi(tmp_path: Path) -> None:
    path = tmp_path / "untagged.png"
    _form(tmp_path).save(path)  # no pHYs chunk
    page = _read(path, tmp_path)
    _assert_form(page)
    # 14-pt text reads as a higher resolution than 300; the point is not 70 and not a guess.
    assert page.dpi is not None and 200 <= page.dpi <= 900
    assert page.pdf is not None and page.width_px is not None
    with pikepdf.open(page.pdf) as pdf:
        width_in = float(pdf.pages[0].mediabox[2]) / 72
    assert abs(width_in - page.width_px / page.dpi) < 0.05


def _garble(pdf: Path, out: Path) -> Path:
    """Swap the bytes of every UTF-16 string of the text layer: 理 → 皐, K → 䬀."""
    with pikepdf.open(pdf) as doc:
        page = doc.pages[0]
        ops = []
        for op in pikepdf.parse_content_stream(page):
            if isinstance(op, pikepdf.ContentStreamInstruction) and str(op.operator) == "TJ":
                raw = bytes(op.operands[0][0])
                swapped = bytes(b for i in range(0, len(raw), 2) for b in raw[i:i + 2][::-1])
                op = pikepdf.ContentStreamInstruction(
                    [pikepdf.Array([pikepdf.String(swapped)])], op.operator)
            ops.append(op)
        page.Contents = doc.make_stream(pikepdf.unparse_content_stream(ops))
        doc.save(out)
    return out


@pytest.mark.slow
def test_garbage_text_layer_is_ocred_and_a_real_one_kept(testdata: Path,
                                                         tmp_path: Path) -> None:
    scan = write_form(tmp_path / "form.png", form_lines(client_id="KH-2024-000777"))
    made = _read(scan, tmp_path)
    assert made.pdf is not None
    garbled = _garble(Path(made.pdf), tmp_path / "garbled.pdf")
    layer = subprocess.run(["pdftotext", str(garbled), "-"], capture_output=True,
                           check=True).stdout.decode()
    assert not textlayer.trustworthy(layer) and "理赔" not in layer
    page = _read(garbled, tmp_path)
    assert page.source == "ocr"
    _assert_form(page)
    real = _read(testdata / "pdfminer.six/samples/contrib/issue_566_test_2.pdf", tmp_path,
                 min_chars=10)  # a 15-character layer
    assert real.source == "text_layer" and "中国饮料有限公司" in real.text


def test_text_layer_heuristics_on_known_breakages() -> None:
    assert not textlayer.trustworthy("䴀甀氀琀椀瀀愀最攀")  # UTF-16 with swapped bytes
    assert not textlayer.trustworthy("Buyer˖哾㦓")  # poppler CMap bug for Buyer：黎荣
    assert not textlayer.trustworthy("\ue000\ue001\ue002 abc")
    assert textlayer.trustworthy("甲方：中国饮料有限公司（盖章） Claim form, page 1 of 1")


@pytest.mark.slow
def test_searchable_pdf_keeps_chinese_words_contiguous(tmp_path: Path) -> None:
    scan = write_form(tmp_path / "form.png", form_lines(client_id="KH-2024-000777"))
    page = _read(scan, tmp_path)
    out = assemble([page], None, tmp_path / "searchable.pdf")
    for raw in (False, True):
        args = ["pdftotext", *(["-raw"] if raw else []), str(out), "-"]
        text = subprocess.run(args, capture_output=True, check=True).stdout.decode()
        assert "保险" in text and "理赔申请书" in text, text
        assert "Claim form, page 1 of 1" in text  # English keeps its spaces


@pytest.mark.slow
def test_searchable_pdf_is_pdfa_2b_unless_a_kept_page_cannot_be(tmp_path: Path) -> None:
    """OCR'd pages make a PDF/A-2b file (checked by pikepdf's validator on the written
    bytes, and by its declaration and output intent); a kept original page whose font is
    not embedded makes a plain PDF that claims nothing and still has its text."""
    scan = write_form(tmp_path / "form.png", form_lines(client_id="KH-2024-000777"))
    out = assemble([_read(scan, tmp_path)], None, tmp_path / "searchable.pdf")
    assert searchable_pdf.is_pdfa(out)
    with pikepdf.open(out) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert [str(i.S) for i in pdf.Root.OutputIntents] == ["/GTS_PDFA1"]
        assert len(pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes()) > 1000

    from reportlab.pdfgen import canvas  # Helvetica: one of the 14 fonts never embedded

    typed = tmp_path / "typed.pdf"
    c = canvas.Canvas(str(typed))
    c.drawString(72, 720, "Claim KH-2024-000777 received with its invoices attached")
    c.save()
    kept = _read(typed, tmp_path)
    assert kept.source == "text_layer"
    plain = assemble([kept], typed, tmp_path / "kept.pdf")
    assert not searchable_pdf.is_pdfa(plain)
    with pikepdf.open(plain) as pdf:
        assert pdf.open_metadata().pdfa_status == ""
    text = subprocess.run(["pdftotext", str(plain), "-"], capture_output=True,
                          check=True).stdout.decode()
    assert "KH-2024-000777" in text


def _mean_diff(a: Image.Image, b: Image.Image) -> float:
    b = b.convert("L").resize(a.size)
    return float(ImageStat.Stat(ImageChops.difference(a.convert("L"), b)).mean[0])


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_turned_scan_is_linked_and_its_thumbnail_shown_upright(
    instance: Callable[..., Settings], tmp_path: Path
) -> None:
    """GIVEN a claim form scanned upside down, captured and drained by the real worker."""
    from rich.progress import Progress

    from papervault.index.catalog.db import make_engine, upgrade
    from papervault.ingest.service import ingest_paths

    s = instance(actor="li.officer")
    engine = make_engine(s.db_url)
    upgrade(engine)
    with Session(engine) as db:
        db.add(Client(client_id="KH-2024-000777", name="张伟", policy_numbers=""))
        db.commit()
    form = _form(tmp_path)
    scan = tmp_path / "scans" / "upside-down.png"
    scan.parent.mkdir()
    upright.turned(form, 180).save(scan, dpi=(300, 300))
    with Progress(disable=True) as p:
        assert ingest_paths(s, [scan], p, drain_ocr=True)[0]["outcome"] == "stored"
    with Session(engine) as db:
        doc = db.exec(select(Document)).one()
        page = db.exec(select(Page)).one()
    engine.dispose()
    assert (doc.link_state, doc.client_id) == ("linked", "KH-2024-000777")
    assert page.turn == 180
    assert doc.thumbs_object_name and doc.thumbs_wrapped_key and doc.thumbs_key_id
    assert doc.searchable_object_name and doc.id is not None
    with TestClient(create_app(s), client=("127.0.0.1", 5000)) as web:
        # Served from the worker's thumbnails, not the searchable PDF: remove that one.
        from papervault.ingest.runtime import open_runtime

        rt = open_runtime(s)
        pdf = b"".join(rt.store.iter_plaintext(
            doc.searchable_object_name,
            WrappedKey(doc.searchable_wrapped_key or b"", doc.searchable_key_id or "")))
        rt.store.delete(doc.searchable_object_name)
        thumb = web.get(f"/documents/{doc.id}/pages/1.jpg", params={"w": 240})
        assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    shown = Image.open(io.BytesIO(thumb.content))
    assert shown.width == 240
    assert _mean_diff(shown, form) < _mean_diff(shown, upright.turned(form, 180)) / 2
    # The searchable PDF shows the page upright too, with contiguous Chinese words.
    (tmp_path / "s.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True,
                          check=True).stdout.decode()
    assert "理赔申请书" in text
