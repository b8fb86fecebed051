"""Client-side envelope encryption with Google Tink.

Each object gets a fresh streaming-AEAD data key (AES256-GCM-HKDF, 1 MB segments).
The data key is wrapped by the master AEAD keyset, which lives in a file or the
environment and never in the database. Both the object and the wrapped key are bound
to the object name as associated data, so a wrapped key cannot be swapped onto
another object. We use Tink's own formats throughout; nothing here invents one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import tink
from tink import aead, secret_key_access, streaming_aead

from papervault.storage.errors import NoMasterKey, WrongKey

_registered = False


def _register() -> None:
    global _registered
    if not _registered:
        aead.register()
        streaming_aead.register()
        _registered = True


@dataclass(frozen=True)
class MasterKey:
    """The master AEAD keyset; ``key_id`` names its primary key for rotation."""

    handle: tink.KeysetHandle
    key_id: str

    def aead(self) -> aead.Aead:
        return self.handle.primitive(aead.Aead)

    def key_ids(self) -> list[str]:
        """Every key id in the keyset (the primary and the ones kept for old objects)."""
        return [f"mk-{k.key_id}" for k in self.handle.keyset_info().key_info]


@dataclass(frozen=True)
class WrappedKey:
    """A data key sealed under the master key: safe to keep in the database."""

    blob: bytes
    key_id: str


def new_master_keyset() -> str:
    """A fresh master keyset as JSON, for ``papervault init``."""
    _register()
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    return str(tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN))


def parse_master_key(keyset_json: str) -> MasterKey:
    """Build a :class:`MasterKey` from keyset JSON (file content or environment)."""
    _register()
    try:
        handle = tink.json_proto_keyset_format.parse(keyset_json, secret_key_access.TOKEN)
    except (tink.TinkError, json.JSONDecodeError, ValueError) as e:
        raise NoMasterKey() from e
    return MasterKey(handle=handle, key_id=f"mk-{handle.keyset_info().primary_key_id}")


def load_master_key(key_file: Path | None, key_json: str | None) -> MasterKey:
    """Load the master key from the environment value, else the key file."""
    if key_json:
        return parse_master_key(key_json)
    if key_file is None or not key_file.exists():
        raise NoMasterKey()
    mode = key_file.stat().st_mode & 0o077
    if mode:
        # A key file others can read is as good as no encryption: refuse rather than warn.
        raise NoMasterKey("key_file_open", path=key_file)
    return parse_master_key(key_file.read_text(encoding="utf-8"))


def write_master_key_file(path: Path, keyset_json: str) -> None:
    """Write a keyset file readable by its owner only (0600), created that way."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(keyset_json)


def _key_ad(object_name: str) -> bytes:
    return b"papervault/dek/" + object_name.encode()


def _object_ad(object_name: str, purpose: str = "object") -> bytes:
    """What a sealed stream is bound to: the object and what the bytes are (the object
    itself, or its recovery record), so neither can stand in for the other."""
    return f"papervault/{purpose}/{object_name}".encode()


def new_data_key(master: MasterKey, object_name: str) -> tuple[tink.KeysetHandle, WrappedKey]:
    """A fresh data key for one object and its wrapped form."""
    _register()
    handle = tink.new_keyset_handle(
        streaming_aead.streaming_aead_key_templates.AES256_GCM_HKDF_1MB
    )
    blob = tink.proto_keyset_format.serialize_encrypted(
        handle, master.aead(), _key_ad(object_name)
    )
    return handle, WrappedKey(blob=blob, key_id=master.key_id)


def unwrap(master: MasterKey, wrapped: WrappedKey, object_name: str) -> tink.KeysetHandle:
    """Recover a data key; a wrong master key raises :class:`WrongKey`."""
    _register()
    try:
        return tink.proto_keyset_format.parse_encrypted(
            wrapped.blob, master.aead(), _key_ad(object_name)
        )
    except tink.TinkError as e:
        raise WrongKey(key_id=wrapped.key_id) from e


def rewrap(old: MasterKey, new: MasterKey, wrapped: WrappedKey, object_name: str) -> WrappedKey:
    """Re-wrap a data key under another master key without touching the object."""
    handle = unwrap(old, wrapped, object_name)
    blob = tink.proto_keyset_format.serialize_encrypted(handle, new.aead(), _key_ad(object_name))
    return WrappedKey(blob=blob, key_id=new.key_id)


def encrypting_stream(
    data_key: tink.KeysetHandle, destination: BinaryIO, object_name: str,
    purpose: str = "object",
) -> BinaryIO:
    """A writable stream that seals everything written to it into ``destination``."""
    primitive = data_key.primitive(streaming_aead.StreamingAead)
    stream: BinaryIO = primitive.new_encrypting_stream(destination,
                                                       _object_ad(object_name, purpose))
    return stream


def decrypting_stream(data_key: tink.KeysetHandle, source: BinaryIO, object_name: str,
                      purpose: str = "object") -> BinaryIO:
    """A readable stream of plaintext; tampered ciphertext raises on read."""
    primitive = data_key.primitive(streaming_aead.StreamingAead)
    stream: BinaryIO = primitive.new_decrypting_stream(source,
                                                       _object_ad(object_name, purpose))
    return stream
