"""What `papervault up` tells the person running it (B16) and how it keeps the web UI
answering while a batch is OCR'd (B17): the web address, one log line per captured file
with its outcome, and page processes that run below the web UI's priority."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from papervault.config.settings import Settings
from papervault.ingest.pagepool import PAGE_NICENESS, process_factory
from papervault.ingest.service import web_address
from tests.conftest import wait_until
from tests.e2e.test_daemon import running
from tests.factories import form_lines, write_form


def test_each_captured_file_is_one_log_line(instance: Callable[..., Settings],
                                            caplog: pytest.LogCaptureFixture) -> None:
    s = instance(watch={"rescan_interval": 3600})
    s.inbox.mkdir(parents=True, exist_ok=True)
    with caplog.at_level(logging.INFO, logger="papervault.ingest.daemon"), running(s):
        write_form(s.inbox / "批次01" / "scan-1.png", form_lines(), dpi=100)
        wait_until(lambda: any("stored" in r.getMessage() for r in caplog.records))
        write_form(s.inbox / "again.png", form_lines(), dpi=100)  # the same bytes
        wait_until(lambda: any("duplicate" in r.getMessage() for r in caplog.records))
    lines = [r.getMessage() for r in caplog.records if r.name == "papervault.ingest.daemon"]
    assert "stored 批次01/scan-1.png → document 1" in lines
    assert "duplicate again.png → document 1" in lines
    assert not any(str(s.inbox) in line for line in lines)  # paths relative to the inbox


def test_the_web_address_is_the_one_to_type(instance: Callable[..., Settings]) -> None:
    assert web_address(instance(web={"host": "127.0.0.1", "port": 8700})) == \
        "http://127.0.0.1:8700/"
    every = web_address(instance(web={"host": "0.0.0.0", "port": 8701},  # noqa: S104
                                 access={"login": True}))
    assert every.endswith(":8701/") and "0.0.0.0" not in every


def test_page_processes_run_below_the_web_ui(tmp_path: Path) -> None:
    with process_factory(tmp_path, 0)(1) as pool:
        theirs = pool.submit(os.nice, 0).result(timeout=120)
    assert theirs == min(19, os.nice(0) + PAGE_NICENESS)
