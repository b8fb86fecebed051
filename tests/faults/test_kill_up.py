"""kill -9 of ``papervault up`` while OCR runs leaves nothing of the instance behind (M5).

Page processes used to be forks of the daemon: they kept its web socket and the lock that
tells the cleaner a worker is alive, ignored SIGTERM, and the next start ran without a web
UI and with the dead job's plaintext still on disk.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from papervault.config.settings import Settings
from papervault.ingest.runtime import open_runtime
from papervault.storage.localserver import free_port
from tests.conftest import wait_until, write_config
from tests.factories import form_lines, write_multipage_pdf

pytestmark = [pytest.mark.slow, pytest.mark.e2e,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def _up(cfg: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "papervault"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERVAULT_")}
    return subprocess.Popen([exe, "-c", str(cfg), "up"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _tesseract_below(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True)
                if p.name() == "tesseract"]
    except psutil.NoSuchProcess:
        return []


def _serves(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_kill_9_of_up_leaves_no_process_and_the_next_start_cleans(
        instance: Callable[..., Settings], tmp_path: Path,
        fault_report) -> None:  # type: ignore[no-untyped-def]
    s = instance()
    open_runtime(s)
    port = free_port()
    cfg = write_config(s, tmp_path / "pv.toml", stable_seconds=0.3, rescan_interval=1.0)
    cfg.write_text(cfg.read_text(encoding="utf-8") + f"[web]\nport = {port}\n",
                   encoding="utf-8")
    write_multipage_pdf(s.inbox / "long.pdf", [form_lines(name=f"客户{i}") for i in range(8)],
                        dpi=200)
    private = s.staging_dir / "ocr"
    up = _up(cfg)
    try:
        # A page's tesseract (not the start-up check's `tesseract --list-langs`) is running.
        wait_until(lambda: private.is_dir() and any(private.iterdir())
                   and _tesseract_below(up.pid), timeout=120, interval=0.2)
        wait_until(lambda: _serves(port), timeout=30)
        family = psutil.Process(up.pid).children(recursive=True)
        dead_jobs = list(private.iterdir())
        assert dead_jobs, "the job's plaintext is where OCR reads it"
        up.send_signal(signal.SIGKILL)
        up.wait(timeout=10)
        try:
            wait_until(lambda: not _alive(family), timeout=20, interval=0.1)
        except AssertionError:
            raise AssertionError([(p.pid, p.cmdline()[:4]) for p in _alive(family)]) from None
        assert not _serves(port), "nobody holds the web port"
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    again = _up(cfg)
    try:
        # The web UI binds again, and the private folder was cleaned before the worker
        # started: the dead worker's lock died with all its processes.
        wait_until(lambda: _serves(port), timeout=60)
        assert not [p for p in dead_jobs if p.exists()], "the dead job's plaintext is gone"
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=120)
    assert not any(private.iterdir()), "plaintext left after a clean stop"
    fault_report(fault="kill -9 of up during OCR", files=1, lost=0, twice=0,
                 failed_with_reason=0)


def test_up_stops_with_a_reason_when_the_web_port_is_taken(
        instance: Callable[..., Settings], tmp_path: Path) -> None:
    s = instance()
    open_runtime(s)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = write_config(s, tmp_path / "pv.toml")
        cfg.write_text(cfg.read_text(encoding="utf-8") + f"[web]\nport = {port}\n",
                       encoding="utf-8")
        exe = Path(sys.executable).parent / "papervault"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERVAULT_")}
        done = subprocess.run([exe, "-c", str(cfg), "up"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 78, done.stderr
    assert "web.port" in done.stderr and str(port) in done.stderr
