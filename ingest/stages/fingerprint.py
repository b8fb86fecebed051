"""SHA-256 of a file, streamed."""

from __future__ import annotations

import hashlib
from typing import BinaryIO

CHUNK = 1024 * 1024


def sha256_file(f: BinaryIO) -> str:
    """The hex SHA-256 of an open file from its current position, read in 1 MiB chunks
    (capture passes the inbox entry's own descriptor, never a path to open again)."""
    digest = hashlib.sha256()
    while chunk := f.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
