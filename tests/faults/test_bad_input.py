"""A generated corpus of bad and odd input: each ends stored or quarantined with a specific
reason; none crashes capture, none is silently dropped."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pikepdf
from PIL import Image

from papervault.config.settings import Settings
from papervault.ingest.daemon import walk_inbox
from papervault.ingest.pipeline import Quarantined, Stored, capture
from papervault.ingest.runtime import open_runtime

SAMPLES = "paperless-ngx/src/documents/tests/samples"


def _pdf_with(page_size: float = 612, javascript: bool = False, pages: int = 1) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=(612, 612))
        page.obj.MediaBox = pikepdf.Array([0, 0, page_size, page_size])
    if javascript:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert(1)")
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _image(mode: str, size: tuple[int, int], fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 200 if mode in ("L", "I;16") else None).save(buf, format=fmt, **kw)
    return buf.getvalue()


def build_corpus(inbox: Path, testdata: Path) -> dict[str, str]:
    """File name → 'stored' or the quarantine reason code it must end with."""
    inbox.mkdir(parents=True, exist_ok=True)
    good = (testdata / SAMPLES / "simple.pdf").read_bytes()
    files: dict[str, tuple[bytes, str]] = {
        "zero.pdf": (b"", "empty_file"),
        "truncated.pdf": (good[: len(good) // 3], "pdf_damaged"),
        "text-named.pdf": ("只是文字".encode(), "unsupported_type"),
        "zip-named.pdf": (_zip(), "unsupported_type"),
        "photo.heic": (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, "unsupported_type"),
        "anim.gif": (b"GIF89a" + b"\x00" * 50, "unsupported_type"),
        "word.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "unsupported_type"),
        "binary.bin": (os.urandom(512), "unsupported_type"),
        "huge-page.pdf": (_pdf_with(page_size=20000), "page_too_large"),
        "javascript.pdf": (_pdf_with(javascript=True), "stored"),
        "locked.pdf": ((testdata / SAMPLES / "password-is-test.pdf").read_bytes(),
                       "pdf_encrypted"),
        "broken-xref.pdf": ((testdata / "qpdf/qpdf/qtest/qpdf/bad2.pdf").read_bytes(),
                            "stored"),
        "junk-before-header.pdf": ((testdata / SAMPLES / "invalid_pdf.pdf").read_bytes(),
                                   "stored"),
        "one-pixel.png": (_image("L", (1, 1), "PNG"), "too_small"),
        "bomb.png": (_image("1", (30000, 30000), "PNG"), "too_many_pixels"),
        "cmyk.jpg": (_image("CMYK", (400, 300), "JPEG"), "stored"),
        "sixteen-bit.tif": (_image("I;16", (300, 200), "TIFF"), "stored"),
        "jpeg-named.pdf": (_image("RGB", (300, 200), "JPEG"), "stored"),
        "too-many-pages.pdf": (_pdf_with(pages=30), "too_many_pages"),
    }
    expected: dict[str, str] = {}
    for name, (data, outcome) in files.items():
        (inbox / name).write_bytes(data)
        expected[name] = outcome
    # Names that are not UTF-8, at the 255-byte limit, or hold a newline or "..".
    raw = os.fsencode(inbox) + b"/\xff\xfe-gbk-\xc0\xeb.png"
    Path(os.fsdecode(raw)).write_bytes(_image("L", (200, 100), "PNG"))
    expected[os.fsdecode(raw).rsplit("/", 1)[1]] = "stored"
    long_name = "长" * 80 + "x" * (255 - 240 - 4) + ".png"
    assert len(long_name.encode()) == 255
    (inbox / long_name).write_bytes(_image("L", (200, 101), "PNG"))
    expected[long_name] = "stored"
    (inbox / "line\nbreak..png").write_bytes(_image("L", (200, 102), "PNG"))
    expected["line\nbreak..png"] = "stored"
    (inbox / "passwd.pdf").symlink_to("/etc/passwd")
    expected["passwd.pdf"] = "not_a_regular_file"
    os.mkfifo(inbox / "fifo.pdf")
    expected["fifo.pdf"] = "not_a_regular_file"
    (inbox / "x.pdf").mkdir()
    (inbox / "x.pdf" / "inside.png").write_bytes(_image("L", (200, 103), "PNG"))
    expected["inside.png"] = "stored"
    with (inbox / "sparse.pdf").open("wb") as f:  # 2 GB, almost no disk used
        f.write(b"%PDF-1.4\n")
        f.truncate(2 * 1024**3)
    expected["sparse.pdf"] = "file_too_large"
    tif = io.BytesIO()
    frames = [Image.new("L", (200, 150), v) for v in (255, 200)]
    frames[0].save(tif, format="TIFF", save_all=True, append_images=frames[1:])
    (inbox / "multi.tif").write_bytes(tif.getvalue())
    expected["multi.tif"] = "stored"
    return expected


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("scan.pdf", b"%PDF-1.4")
    return buf.getvalue()


def test_every_bad_input_ends_stored_or_quarantined_with_a_reason(
    instance: Callable[..., Settings], testdata: Path, fault_report  # type: ignore[no-untyped-def]
) -> None:
    s = instance(limits={"max_pixels": 100_000_000, "max_pages": 20})
    rt = open_runtime(s)
    expected = build_corpus(s.inbox, testdata)
    assert len(expected) >= 25
    seen: dict[str, str] = {}
    for path in sorted(walk_inbox(rt.watch_config())):
        out = capture(path, rt.capture_context())
        assert isinstance(out, Stored | Quarantined), (path, out)
        seen[path.name] = "stored" if isinstance(out, Stored) else out.reason_code
    assert seen == expected
    assert not [p for p in walk_inbox(rt.watch_config())], "a file was left behind"
    for err in s.quarantine_dir.rglob("*.error.json"):
        doc = json.loads(err.read_text(encoding="utf-8"))
        assert doc["reason"] and doc["reason_en"] and doc["reason_code"] in expected.values()
    quarantined = sum(1 for v in expected.values() if v != "stored")
    fault_report(fault="bad-input corpus", files=len(expected), lost=0, twice=0,
                 quarantined=quarantined)




def test_a_255_byte_name_is_quarantined_under_a_shorter_one(
    instance: Callable[..., Settings],
) -> None:
    """GIVEN an empty file whose name takes all 255 bytes (Chinese: 3 bytes a character)
    WHEN it is captured
    THEN it is quarantined at once under a shortened name with its .error.json beside it,
    instead of failing on the reason file's name and being retried forever (L4)."""
    s = instance()
    rt = open_runtime(s)
    name = "理赔" * 42 + "x" * 3 + ".pdf"  # 252 + 3 + 4 = 259 bytes: too long, cut below
    name = name.encode()[:251].decode("utf-8", "ignore") + ".pdf"
    assert len(name.encode()) <= 255
    path = s.inbox / name
    s.inbox.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    out = capture(path, rt.capture_context())
    assert isinstance(out, Quarantined) and out.reason_code == "empty_file"
    (moved,) = [p for p in s.quarantine_dir.iterdir() if not p.name.endswith(".error.json")]
    assert moved.name.endswith("~.pdf") and moved.name.startswith("理赔理赔")
    assert len(os.fsencode(moved.name + ".error.json")) <= 255
    doc = json.loads(Path(f"{moved}.error.json").read_text(encoding="utf-8"))
    assert doc["file"].endswith(name) and doc["reason_code"] == "empty_file"
    assert not path.exists()
