"""Least privilege on disk (security review H2): the index holds every client's OCR text,
names and the password hashes, and quarantine holds plaintext scans, so none of it may be
readable by other accounts on the machine.

The process umask is 077 from the start (:func:`restrict_umask`), so everything papervault
creates is owner-only; :func:`secure_instance` fixes what an older version, a copy or a
restore left wider, and says so, or refuses when it cannot.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from papervault.config.errors import ConfigError
from papervault.config.messages import text
from papervault.config.settings import Settings

log = logging.getLogger(__name__)

UMASK = 0o077


def restrict_umask() -> None:
    """Owner-only for every file and folder this process (and weed, uvicorn) creates."""
    os.umask(UMASK)


def private_paths(s: Settings) -> list[Path]:
    """What must be owner-only: the index, keys, staging, quarantine, done, run and the
    S3 data. The inbox is left alone: scanning staff must be able to write to it."""
    paths = [s.staging_dir, s.quarantine_dir, s.done_dir, s.path(Path("run")),
             s.path(s.s3.local_data_dir)]
    if s.crypto.master_key_file is not None:
        paths.append(s.path(s.crypto.master_key_file).parent)
    url = s.db_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        db = Path(url[len("sqlite:///"):].split("?", 1)[0])
        paths += [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]
    return paths


def secure_instance(s: Settings) -> list[Path]:
    """Remove group and other access from the private paths and other access from the
    instance folder; return what was changed. Raises :class:`ConfigError` when a path
    cannot be changed (it belongs to another account)."""
    fixed: list[Path] = []
    home = s.home.resolve()
    if (home / "papervault.toml").exists():
        fixed += _restrict(home, 0o007)
    for p in private_paths(s):
        fixed += _restrict(p, 0o077)
    for p in fixed:
        log.warning("%s", text("mode_fixed", s.language, path=p))
    return fixed


def _restrict(path: Path, forbidden: int) -> list[Path]:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return []
    if stat.S_ISLNK(st.st_mode) or not stat.S_IMODE(st.st_mode) & forbidden:
        return []
    try:
        path.chmod(stat.S_IMODE(st.st_mode) & ~forbidden)
    except PermissionError as e:
        raise ConfigError(detail=text("mode_open", "en", path=path)) from e
    return [path]
