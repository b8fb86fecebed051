"""Security review H2: the index, keys, staging, quarantine and S3 data are not readable
by other accounts; the instance folder is closed to them; wider modes are fixed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from papervault.config.settings import load_settings
from papervault.ingest.cli import app
from papervault.ingest.permissions import secure_instance


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def test_init_makes_the_instance_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "inst"
    old = os.umask(0o022)  # the default umask that left papervault.db 0644
    try:
        result = CliRunner().invoke(app, ["init", str(folder), "--admin", "boss"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert _mode(folder) == 0o700
    for p in [folder / "papervault.db", folder / "keys", folder / "staging",
              folder / "quarantine", folder / "done", folder / "run", folder / "inbox"]:
        assert _mode(p) & 0o077 == 0, (p, oct(_mode(p)))


def test_start_up_fixes_wider_modes_and_says_so(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN an instance restored with 0755 folders and a 0644 index (what the review
    found) WHEN papervault starts THEN they become owner-only, each named in the log."""
    folder = tmp_path / "inst"
    assert CliRunner().invoke(app, ["init", str(folder), "--admin", "boss"]).exit_code == 0
    for p in (folder, folder / "quarantine", folder / "staging"):
        p.chmod(0o755)
    (folder / "papervault.db").chmod(0o644)
    (folder / "quarantine" / "scan.png").write_bytes(b"x")
    s = load_settings(folder / "papervault.toml")
    with caplog.at_level("WARNING"):
        fixed = secure_instance(s)
    assert set(fixed) >= {folder.resolve(), folder / "papervault.db"}
    assert _mode(folder) & 0o007 == 0
    assert _mode(folder / "papervault.db") == 0o600
    assert _mode(folder / "quarantine") == 0o700
    assert any("papervault.db" in r.message for r in caplog.records)


def test_the_command_sets_umask_077(tmp_path: Path) -> None:
    """The console entry point (not the in-process runner) sets the umask first."""
    code = ("import os, sys; from papervault.ingest import cli; sys.argv=['papervault','--help'];"
            "\ntry:\n  cli.main()\nexcept SystemExit: pass\n"
            "print(oct(os.umask(0)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "HOME": str(tmp_path)})
    assert out.stdout.strip().endswith("0o77"), out.stdout
