"""File-type sniffing and triage on arbitrary bytes: a verdict or :class:`Rejected`, never
another exception (a crash here would stop a file from ever being quarantined)."""

from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from papervault.config.settings import LimitSettings
from papervault.ingest.errors import Rejected
from papervault.ingest.inbox import locate
from papervault.ingest.stages.triage import SUPPORTED, Limits, Triaged, sniff, triage
from tests.factories import write_multipage_pdf
from tests.fuzz.budget import FUZZ
from tests.report import counted

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on damaged tags
LIMITS = Limits(**LimitSettings().model_dump())
MAGIC = [b"%PDF-1.4\n", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"II*\x00", b"MM\x00*",
         b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"\x00\x00\x00\x18ftypheic",
         b"GIF89a", b"BM", b"RIFF\x00\x00\x00\x00WEBP", b"\xd0\xcf\x11\xe0", b""]


@functools.cache
def _seeds() -> tuple[bytes, ...]:
    """Small valid files of every supported type, to be mutated."""
    with tempfile.TemporaryDirectory() as tmp:
        pdf = write_multipage_pdf(Path(tmp) / "seed.pdf", [["seed 1"], ["seed 2"]], dpi=30)
        out = [pdf.read_bytes()]
    img = Image.new("L", (64, 48), 200)
    for fmt, extra in (("PNG", {}), ("JPEG", {}), ("TIFF", {"compression": "tiff_lzw"})):
        buf = io.BytesIO()
        img.save(buf, format=fmt, **extra)
        out.append(buf.getvalue())
    buf = io.BytesIO()
    img.save(buf, format="TIFF", save_all=True, append_images=[img.convert("1")])
    out.append(buf.getvalue())
    return tuple(out)


def _triage_bytes(folder: Path, data: bytes) -> None:
    f = folder / "dropped.bin"
    f.write_bytes(data)
    try:
        with locate(folder, f) as entry:
            out = triage(entry, LIMITS)
    except Rejected as e:
        assert e.message("zh") and e.message("en")  # a sentence for the clerk, both languages
        return
    assert isinstance(out, Triaged) and out.media_type in SUPPORTED
    assert out.pages >= 1 and out.size == len(data)


@FUZZ
@given(st.binary(max_size=4096))
@counted
def test_sniff_names_any_bytes(head: bytes) -> None:
    kind = sniff(head)
    assert isinstance(kind, str) and kind


@FUZZ
@given(prefix=st.sampled_from(MAGIC), tail=st.binary(max_size=3000))
@counted
def test_triage_of_a_known_header_with_garbage_after_it(
    tmp_path: Path, prefix: bytes, tail: bytes
) -> None:
    _triage_bytes(tmp_path, prefix + tail)


@FUZZ
@given(data=st.data())
@counted
def test_triage_of_mutated_valid_files(tmp_path: Path, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["pdf", "png", "jpeg", "tiff", "tiff 2 pages"]))
    raw = bytearray(_seeds()[["pdf", "png", "jpeg", "tiff", "tiff 2 pages"].index(kind)])
    for _ in range(data.draw(st.integers(0, 12), label="flips")):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)), label="truncate at")
    _triage_bytes(tmp_path, bytes(raw[:cut]))
