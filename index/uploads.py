"""Browser uploads: put a file into the inbox so the watcher captures it like any scan.

Why the inbox and not a call into the capture code: ``index`` may not import ``ingest``
(the layering contract), and going through the inbox gives an upload exactly the watched
folder's path — stability wait, hashing, duplicate check, quarantine with a reason, retries
— even when the web and the watcher run as separate processes, and an upload survives a
restart of either. The file is written under a hidden temporary name (the watcher ignores
names starting with ".") and appears under its own name only when complete, by a link
that never replaces an existing file: the watcher can never see a partial upload.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from papervault.config.errors import PapervaultError

UPLOAD_FOLDER = "upload"  # below the inbox: upload/<login name>/<file>
_BAD = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


class UploadRefused(PapervaultError):
    """The upload was not put into the inbox; the message says what to do."""

    exit_code = 65
    http_status = 400
    key = "upload_failed"


@dataclass(frozen=True)
class Saved:
    path: str  # relative to the inbox, as the intake page shows it
    size: int
    sha256: str


def safe_name(raw: str, limit: int = 200) -> str:
    """The file's own name, without folders, control characters or a leading dot."""
    name = unicodedata.normalize("NFC", PurePosixPath(raw.replace("\\", "/")).name)
    name = _BAD.sub("_", name).strip().lstrip(".").strip()
    if not name:
        raise UploadRefused("upload_bad_name")
    encoded = name.encode("utf-8")
    if len(encoded) > limit:
        stem, dot, ext = name.rpartition(".")
        tail = f".{ext}" if dot and len(ext) <= 10 else ""
        name = encoded[: limit - len(tail.encode())].decode("utf-8", "ignore") + tail
    return name


def _free(name: str) -> list[str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    return [name] + [f"{stem}-{n}{'.' + ext if ext else ''}" for n in range(2, 1000)]


async def save_upload(chunks: AsyncIterator[bytes], inbox: Path, user: str, raw_name: str,
                      max_bytes: int) -> Saved:
    """Write ``chunks`` to ``inbox/upload/<user>/<name>`` (a free variant of the name).

    Refuses more than ``max_bytes`` while reading (nothing is left behind); never replaces
    a file already there."""
    name = safe_name(raw_name)
    folder = inbox / UPLOAD_FOLDER / safe_name(user)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = folder / f".pv-upload-{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused("upload_too_big", limit_mb=max_bytes // (1024 * 1024))
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise UploadRefused("upload_empty")
        final = _place(tmp, folder, name)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise UploadRefused("upload_disk_full") from e
        raise UploadRefused("upload_failed") from e
    finally:
        tmp.unlink(missing_ok=True)
    rel = PurePosixPath(UPLOAD_FOLDER, folder.name, final)
    return Saved(rel.as_posix(), size, digest.hexdigest())


def _place(tmp: Path, folder: Path, name: str) -> str:
    """Give the finished file its name: ``link`` fails instead of replacing a file."""
    for candidate in _free(name):
        try:
            os.link(tmp, folder / candidate)
            return candidate
        except FileExistsError:
            continue
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            # A share without hard links: rename, after checking the name is free.
            if (folder / candidate).exists():
                continue
            tmp.rename(folder / candidate)
            return candidate
    raise UploadRefused("upload_bad_name")
