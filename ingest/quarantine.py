"""Quarantine: move a file aside with ``<name>.error.json`` saying why, in zh-CN and English."""

from __future__ import annotations

import json
import os
from pathlib import Path

from papervault.config.messages import both
from papervault.index.catalog.models import utcnow


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


def _free_target(folder: Path, name: str) -> Path:
    name = fitting_name(name)
    target = folder / name
    n = 1
    while target.exists() or target.is_symlink() or Path(f"{target}{ERROR_SUFFIX}").exists():
        stem, dot, ext = name.rpartition(".")
        target = folder / (f"{stem}-{n}.{ext}" if dot and stem else f"{name}-{n}")
        n += 1
    return target


def quarantine(
    path: Path, inbox: Path, quarantine_dir: Path, key: str, params: dict[str, object],
    sha256: str | None = None,
) -> Path:
    """Move ``path`` under ``quarantine_dir`` (keeping its sub-folder) and write the reason."""
    try:
        rel = path.relative_to(inbox).parent
    except ValueError:
        rel = Path()
    folder = quarantine_dir / rel
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_target(folder, path.name)
    # rename() moves a symlink or FIFO itself, never what it points to.
    path.rename(target)
    reason = both(key, **params)
    doc = {
        "file": display_name(path),
        "quarantined_as": display_name(target),
        "reason_code": key,
        "reason": reason["zh"],
        "reason_en": reason["en"],
        "sha256": sha256,
        "at": utcnow().isoformat(),
    }
    error_path = Path(f"{target}{ERROR_SUFFIX}")
    error_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return target
