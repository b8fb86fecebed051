"""Encryption and upload speed (f): ObjectStore.put_file against the local S3 server,
with encryption alone (Tink streaming AEAD into a null sink) as the baseline."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

from papervault.storage import crypto
from papervault.storage.objects import CHUNK, ObjectStore


class _Sink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:  # type: ignore[override]
        return len(b)


def random_file(path: Path, mb: int) -> Path:
    with path.open("wb") as f:
        for _ in range(mb):
            f.write(os.urandom(2**20))
    return path


def encrypt_only(store: ObjectStore, src: Path) -> float:
    """MB/s of sealing ``src`` (read + SHA-free Tink encryption) into nothing."""
    key, _ = crypto.new_data_key(store.master, "bench")
    t0 = time.perf_counter()
    with src.open("rb") as f, crypto.encrypting_stream(key, _Sink(), "bench") as sealed:  # type: ignore[arg-type]
        while chunk := f.read(CHUNK):
            sealed.write(chunk)
    return src.stat().st_size / 2**20 / (time.perf_counter() - t0)


def put_and_get(store: ObjectStore, src: Path, dest: Path) -> dict[str, float]:
    """MB/s of put_file (hash + seal + stage + upload) and of download (fetch + decrypt)."""
    mb = src.stat().st_size / 2**20
    # A fresh bucket's first write waits for the server to grow a volume (~1 s on
    # SeaweedFS): once per bucket, not per object, so it is kept out of the figure.
    warm = store.put_file(io.BytesIO(b"warm-up"))
    store.delete(warm.name)
    t0 = time.perf_counter()
    with src.open("rb") as f:
        obj = store.put_file(f)
    t1 = time.perf_counter()
    store.download(obj.name, obj.wrapped, dest)
    t2 = time.perf_counter()
    dest.unlink()
    store.delete(obj.name)
    return {"put_file_mb_s": mb / (t1 - t0), "download_mb_s": mb / (t2 - t1)}
