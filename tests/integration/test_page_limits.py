"""Bounded work per page (issue 11): pixel limits on the rendered page, a wall-clock limit
on tesseract, and page processes that are bounded and tied to their parent."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pikepdf
import psutil
import pytest

from papervault.ingest.errors import PageUnreadable
from papervault.ingest.pagepool import PagePool, process_factory, run_pages
from papervault.ingest.stages import rasterize
from papervault.ingest.stages.ocr import PageTask, ocr_page
from tests.factories import form_lines, write_form


def _huge_pdf(path: Path) -> Path:
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(14400, 14400))
        pdf.save(path)
    return path


def test_an_oversized_page_is_reported_not_read_as_blank(tmp_path: Path) -> None:
    """A 200-inch page would be 3.6 gigapixels at 300 dpi; it used to come back from
    pdftoppm as 1×1 px and be recorded as a blank page (L9)."""
    pdf = _huge_pdf(tmp_path / "huge.pdf")
    with pytest.raises(PageUnreadable) as caught:
        rasterize.render_pdf_page(pdf, 1, 300, tmp_path, 30, max_pixels=200_000_000)
    assert caught.value.key == "page_too_many_pixels"
    assert caught.value.params["pixels"] == 60000 * 60000
    task = PageTask(str(pdf), "pdf", 1, 300, "eng", str(tmp_path), 30, 8)
    result = ocr_page(task)
    assert result.source == "failed" and result.failure is not None
    assert "第 1 页尺寸异常" in result.failure.reason()
    assert "abnormal size" in result.failure.reason()


@pytest.mark.slow
def test_tesseract_runs_under_a_wall_clock_limit(tmp_path: Path) -> None:
    image = write_form(tmp_path / "form.png", form_lines() * 4)
    task = PageTask(str(image), "png", 1, 300, "chi_sim+eng", str(tmp_path), 1, 8)
    result = ocr_page(task)
    assert result.failure is not None and result.failure.key == "page_timeout"
    assert "1 秒" in result.failure.reason() and "1 seconds" in result.failure.reason()
    assert not list(tmp_path.glob("ocr-*")), "no half-written output kept"


def test_page_processes_are_bounded_and_in_their_own_group(tmp_path: Path) -> None:
    limit = 1024 * 1024 * 1024
    image = write_form(tmp_path / "small.png", ["KH-2024-000123"], dpi=72)
    (tmp_path / ".running").mkdir()
    task = PageTask(str(image), "png", 1, 300, "eng", str(tmp_path), 60, 8)
    with PagePool(process_factory(tmp_path, limit), 1) as pool:
        _, future = pool.submit(task)
        assert future.result().failure is None
        # Forked by the fork server, so a grandchild; it is not the server or the tracker.
        (child,) = [p for p in psutil.Process().children(recursive=True)
                    if p.ppid() != os.getpid()]
        assert child.rlimit(psutil.RLIMIT_AS) == (limit, limit)
        assert os.getpgid(child.pid) == child.pid != os.getpgrp()
        assert resource.getrlimit(resource.RLIMIT_AS)[0] != limit, "only the page processes"


def test_a_page_stuck_past_its_wall_clock_limit_is_stopped(tmp_path: Path) -> None:
    """GIVEN a page whose process hangs (a test hook; pikepdf or PIL stuck on a hostile
    page would look the same) beside a good page
    WHEN the pages run under a 3-second limit
    THEN the stuck page's process is killed, twice (shared, then alone), and the page is
    failed as too slow; the good page is read, and no process is left behind."""
    token = "HANG" + os.urandom(3).hex().upper()
    pdf = tmp_path / "two.pdf"
    with pikepdf.new() as doc:
        font = doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica))
        for words in ("A page that reads normally", f"A page that hangs {token}"):
            page = doc.add_blank_page(page_size=(595, 842))
            page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
            page.obj.Contents = doc.make_stream(f"BT /F1 14 Tf 72 700 Td ({words}) Tj ET".encode())
        doc.save(pdf)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    tasks = [PageTask(str(pdf), "pdf", n, 300, "eng", str(tmp_path), 10, 8,
                      crash_token=token, crash_mode="hang", wall_limit=3) for n in (1, 2)]
    with PagePool(process_factory(tmp_path, 0), 2) as pool:
        good, stuck = run_pages(pool, tasks)
        assert pool.generation == 1, "the shared pool was replaced once"
    assert good.failure is None and "reads normally" in good.text
    assert stuck.failure is not None and stuck.failure.key == "page_timeout"
    assert "3 秒" in stuck.failure.reason()
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert not [p for p in left if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
