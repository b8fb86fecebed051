"""Quarantine: move a file aside with ``<name>.error.json`` saying why, in zh-CN and English."""

from __future__ import annotations

import json
import os
from pathlib import Path

from papervault.config.messages import both
from papervault.index.catalog.models import utcnow
from papervault.ingest.inbox import Entry, open_target_dir


def display_name(path: Path) -> str:
    """A printable name even for file names that are not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "replace")


ERROR_SUFFIX = ".error.json"
NAME_MAX = 255  # bytes, ext4 and most others; the suffix and a "-NNN" must fit beside it


def fitting_name(name: str, limit: int = NAME_MAX - len(ERROR_SUFFIX) - 4) -> str:
    """``name`` cut to ``limit`` UTF-8 bytes, keeping its extension: a 251-byte name plus
    ``.error.json`` is refused by the filesystem, and was retried forever (L4)."""
    raw = os.fsencode(name)
    if len(raw) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    tail = f".{ext}" if dot and stem and len(os.fsencode(ext)) <= 16 else ""
    head = os.fsencode(name[: len(name) - len(tail)])[: limit - len(os.fsencode(tail)) - 1]
    # Cutting bytes may split a character: drop the broken end, not the whole name.
    return os.fsdecode(head).encode("utf-8", "ignore").decode("utf-8", "ignore") + "~" + tail


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _free_name(dir_fd: int, name: str) -> str:
    target = name = fitting_name(name)
    n = 1
    while _exists(target, dir_fd) or _exists(f"{target}{ERROR_SUFFIX}", dir_fd):
        stem, dot, ext = name.rpartition(".")
        target = f"{stem}-{n}.{ext}" if dot and stem else f"{name}-{n}"
        n += 1
    return target


def quarantine(
    entry: Entry, quarantine_dir: Path, key: str, params: dict[str, object],
    sha256: str | None = None,
) -> Path | None:
    """Move the entry under ``quarantine_dir`` (keeping its sub-folder) and write the
    reason; ``None`` if its folder is no longer inside the inbox (then nothing is moved).

    The move is a ``renameat`` from the folder the entry was reached through, so a link
    is moved itself, never what it points to, and nothing outside the inbox is touched.
    """
    if not entry.link_still_here():
        return None
    q_fd = open_target_dir(quarantine_dir, entry.folder)
    try:
        target = _free_name(q_fd, entry.name)
        os.rename(entry.name, target, src_dir_fd=entry.dir_fd, dst_dir_fd=q_fd)
        if entry.fd is not None:
            os.fchmod(entry.fd, 0o600)  # a client's scan, not for other accounts to read
        reason = both(key, **params)
        doc = {
            "file": display_name(entry.folder / entry.name),
            "quarantined_as": display_name(entry.folder / target),
            "reason_code": key,
            "reason": reason["zh"],
            "reason_en": reason["en"],
            "sha256": sha256,
            "at": utcnow().isoformat(),
        }
        fd = os.open(f"{target}{ERROR_SUFFIX}",
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=q_fd)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(doc, ensure_ascii=False, indent=2))
    finally:
        os.close(q_fd)
    return quarantine_dir / entry.folder / target
