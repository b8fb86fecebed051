"""Recovery records: what the index knows about an original, kept beside it in S3.

The wrapped data keys and the file details live in the index; if the database were lost
with no record elsewhere, every sealed object would be unreadable. ``r/<object name>``
holds the data key wrapped under the master key (exactly as in the index) and the file's
details (name, folder, SHA-256, size, type, capture time) sealed under the object's own
data key, because a file name can name a client. Key rotation rewrites the record with the
new wrapping; the sealed details never change. ``papervault recover`` rebuilds the index
from these records.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any

import tink

from papervault.storage import crypto
from papervault.storage.crypto import MasterKey, WrappedKey
from papervault.storage.errors import IntegrityError

PREFIX = "r/"
VERSION = 1


@dataclass(frozen=True)
class RecoveryRecord:
    object_name: str
    wrapped: WrappedKey
    details: dict[str, Any]


def record_name(object_name: str) -> str:
    return PREFIX + object_name


def object_of(record: str) -> str:
    return record.removeprefix(PREFIX)


def seal(object_name: str, data_key: tink.KeysetHandle, wrapped: WrappedKey,
         details: dict[str, Any]) -> bytes:
    """The record's bytes: JSON with the wrapped key and the sealed details."""
    sealed = io.BytesIO()
    # The encrypting stream closes its destination on exit; keep the buffer readable.
    with crypto.encrypting_stream(data_key, _Keep(sealed), object_name,  # type: ignore[arg-type]
                                  purpose="record") as w:
        w.write(json.dumps(details, ensure_ascii=False, sort_keys=True).encode())
    return json.dumps({
        "v": VERSION, "object": object_name, "key_id": wrapped.key_id,
        "wrapped_key": base64.b64encode(wrapped.blob).decode(),
        "details": base64.b64encode(sealed.getvalue()).decode(),
    }).encode()


def key_id_of(raw: bytes) -> str | None:
    """The master key id a record's data key is wrapped under (read without decrypting);
    None if the bytes are not a record."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    key_id = doc.get("key_id") if isinstance(doc, dict) else None
    return key_id if isinstance(key_id, str) else None


def open_record(master: MasterKey, object_name: str, raw: bytes) -> RecoveryRecord:
    """Parse and open a record; a damaged or foreign one raises :class:`IntegrityError`."""
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("v") != VERSION or doc.get("object") != object_name:
            raise ValueError("not the record of this object")
        wrapped = WrappedKey(base64.b64decode(doc["wrapped_key"]), str(doc["key_id"]))
        sealed = base64.b64decode(doc["details"])
    except (ValueError, KeyError, TypeError) as e:
        raise IntegrityError(detail=f"{object_name}: recovery record unreadable ({e})") from e
    data_key = crypto.unwrap(master, wrapped, object_name)  # WrongKey if not ours
    try:
        with crypto.decrypting_stream(data_key, io.BytesIO(sealed), object_name,
                                      purpose="record") as r:
            details = json.loads(r.read())
    except (tink.TinkError, ValueError) as e:
        raise IntegrityError(detail=f"{object_name}: recovery record tampered with") from e
    return RecoveryRecord(object_name, wrapped, details)


class _Keep(io.RawIOBase):
    """Write-through to a BytesIO that survives the encrypting stream closing it."""

    def __init__(self, target: io.BytesIO) -> None:
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        return self.target.write(b)
