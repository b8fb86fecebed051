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


def _free_target(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists() or target.is_symlink() or Path(f"{target}.error.json").exists():
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
    error_path = Path(f"{target}.error.json")
    error_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return target
