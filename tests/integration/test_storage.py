"""Envelope encryption against the real S3 server."""

from __future__ import annotations

import io

import pytest

from storage.crypto import new_master_keyset, parse_master_key
from storage.errors import IntegrityError, WrongKey
from storage.objects import ObjectStore


def test_stored_bytes_hold_no_plaintext_and_round_trip(store: ObjectStore) -> None:
    plaintext = ("客户编号：KH-2024-000123 理赔申请书 " * 2000).encode()
    obj = store.put_file(io.BytesIO(plaintext))
    raw = store.raw_bytes(obj.name)
    assert b"KH-2024-000123" not in raw
    assert "理赔".encode() not in raw
    assert len(raw) > len(plaintext)  # sealed: nonce prefix plus a tag per segment
    assert b"".join(store.iter_plaintext(obj.name, obj.wrapped)) == plaintext
    store.verify(obj.name, obj.wrapped, obj.sha256)
    # Object names are random and say nothing about the client.
    assert "KH" not in obj.name and obj.name.startswith("o/")


def test_wrong_master_key_fails_loudly(store: ObjectStore) -> None:
    obj = store.put_file(io.BytesIO(b"secret page"))
    other = ObjectStore(store.client, store.bucket, parse_master_key(new_master_keyset()),
                        store.staging)
    with pytest.raises(WrongKey) as e:
        b"".join(other.iter_plaintext(obj.name, obj.wrapped))
    assert obj.wrapped.key_id in str(e.value)


def test_tampered_object_is_an_integrity_error(store: ObjectStore) -> None:
    data = bytes(range(256)) * 5000
    obj = store.put_file(io.BytesIO(data))
    raw = bytearray(store.raw_bytes(obj.name))
    raw[len(raw) // 2] ^= 0x01
    store.client.put_object(bucket_name=store.bucket, object_name=obj.name,
                            data=io.BytesIO(bytes(raw)), length=len(raw))
    with pytest.raises(IntegrityError):
        store.verify(obj.name, obj.wrapped, obj.sha256)


def test_wrapped_key_is_bound_to_its_object(store: ObjectStore) -> None:
    a = store.put_file(io.BytesIO(b"a" * 100))
    b = store.put_file(io.BytesIO(b"b" * 100))
    with pytest.raises(WrongKey):
        b"".join(store.iter_plaintext(b.name, a.wrapped))


def test_missing_object_is_an_integrity_error(store: ObjectStore) -> None:
    obj = store.put_file(io.BytesIO(b"gone soon"))
    store.delete(obj.name)
    with pytest.raises(IntegrityError):
        store.verify(obj.name, obj.wrapped, obj.sha256)
