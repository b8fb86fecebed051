"""Envelope encryption against the real S3 server."""

from __future__ import annotations

import io

import pytest

from papervault.storage.crypto import new_master_keyset, parse_master_key
from papervault.storage.errors import IntegrityError, WrongKey
from papervault.storage.objects import ObjectStore


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


def test_overwritten_and_deleted_objects_keep_their_earlier_version(store: ObjectStore) -> None:
    """GIVEN the bucket as papervault sets it up WHEN a stored original is overwritten and
    then deleted behind papervault's back THEN the sealed original is still on the server and,
    copied back, verifies again."""
    store.ensure_bucket()
    assert store.versioning_status() == "Enabled"
    obj = store.put_file(io.BytesIO("理赔申请书 KH-2024-000123".encode() * 500))
    sealed = store.raw_bytes(obj.name)
    store.client.put_object(bucket_name=store.bucket, object_name=obj.name,
                            data=io.BytesIO(b"ransom note"), length=11)
    store.delete(obj.name)
    with pytest.raises(IntegrityError):
        store.verify(obj.name, obj.wrapped, obj.sha256)
    versions = [v for v in store.client.list_objects(bucket_name=store.bucket, prefix=obj.name,
                                                     include_version=True)
                if not v.is_delete_marker]
    assert len(versions) == 2
    earlier = []
    for v in versions:
        r = store.client.get_object(bucket_name=store.bucket, object_name=obj.name,
                                    version_id=v.version_id)
        earlier.append(r.read())
        r.close()
        r.release_conn()
    assert sealed in earlier
    store.client.put_object(bucket_name=store.bucket, object_name=obj.name,
                            data=io.BytesIO(sealed), length=len(sealed))
    store.verify(obj.name, obj.wrapped, obj.sha256)


def test_versioning_can_be_left_off(store: ObjectStore) -> None:
    plain = ObjectStore(store.client, store.bucket, store.master, store.staging,
                        versioning=False)
    plain.ensure_bucket()
    assert plain.versioning_status() is None
