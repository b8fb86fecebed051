"""A clerk's typing mistakes get one readable line and a usage exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from papervault.config.settings import Settings
from tests.conftest import write_config


def papervault(*args: str, env_config: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from papervault.ingest.cli import main; main()", *args]
    if env_config is not None:
        cmd[3:3] = ["-c", str(env_config)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("args", "code", "says"), [
    (["get"], 2, "Missing argument"),
    (["get", "abc", "-o", "x"], 2, "Invalid value"),
    (["users", "roles", "someone"], 2, "Missing option"),
    (["bogus"], 2, "No such command"),
    (["paper", "import", "/nonexistent/register.csv"], 2, "does not exist"),
    (["clients", "import", "/tmp"], 2, "is a directory"),
])
def test_usage_errors_are_one_message(instance: Callable[..., Settings], tmp_path: Path,
                                      args: list[str], code: int, says: str) -> None:
    cfg = write_config(instance(), tmp_path / "pv.toml")
    res = papervault(*args, env_config=cfg)
    assert res.returncode == code, res.stderr
    assert says in res.stderr and "Traceback" not in res.stderr, res.stderr
