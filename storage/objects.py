"""Encrypted objects in any S3 server through the ``minio`` client.

Object names are random (``o/ab/<uuid>``): they carry no client names or IDs.
Plaintext never touches disk here; the sealed bytes are staged in a private file so
the upload has a known length and can be retried without re-reading the source.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import tink
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import MinioException, S3Error
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

from papervault.config.errors import ConfigError
from papervault.storage import crypto, records
from papervault.storage.crypto import MasterKey, WrappedKey
from papervault.storage.errors import (
    DeletionRefused,
    DiskFull,
    IntegrityError,
    StorageUnavailable,
)

CHUNK = 1024 * 1024
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchVersion"}
# Outside the sealed objects and their records: orphans and recover never see it.
AUDIT_PREFIX = "audit/"
AUDIT_CHECKPOINT = AUDIT_PREFIX + "checkpoint.json"


@dataclass(frozen=True)
class Lock:
    """S3 Object Lock for originals: GOVERNANCE (an administrator may remove a mis-scan,
    with the bypass permission) or COMPLIANCE (nobody can, until the date)."""

    mode: str
    default_days: float

    def until(self, at: datetime | None) -> datetime:
        """Retain-until for a new original: ``default_days`` from ``at`` (now if None);
        the linked record's 保管期限 extends it later."""
        from datetime import UTC, timedelta

        return (at or datetime.now(UTC)) + timedelta(days=self.default_days)


@dataclass(frozen=True)
class StoredObject:
    """What the index must remember to read an object back."""

    name: str
    size: int
    wrapped: WrappedKey
    sha256: str


@dataclass(frozen=True)
class S3Location:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    secure: bool = False
    region: str | None = None


def make_client(loc: S3Location) -> Minio:
    """One client per process (minio's pool is not fork-safe) with short timeouts."""
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=3.0, read=120.0),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[502, 503, 504]),
        maxsize=8,
    )
    return Minio(
        endpoint=loc.endpoint,
        access_key=loc.access_key,
        secret_key=loc.secret_key,
        secure=loc.secure,
        region=loc.region,
        http_client=http,
    )


def new_object_name(kind: str = "o") -> str:
    """A random object name: nothing about the client can be read from it."""
    u = uuid.uuid4().hex
    return f"{kind}/{u[:2]}/{u}"


def _translate(e: Exception, what: str) -> Exception:
    """Turn the client's failures into ours: missing → integrity, the rest → retry."""
    if isinstance(e, S3Error):
        if e.code in _MISSING:
            return IntegrityError(detail=f"{what}: object is missing")
        if e.code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return StorageUnavailable(detail=f"{what}: access denied, check the S3 credentials")
        return StorageUnavailable(detail=f"{what}: {e.code}")
    # Staff read this in status: what happened, never the client library's class name.
    return StorageUnavailable(detail=f"{what}: no answer from the S3 server")


_TRANSIENT = (MinioException, urllib3.exceptions.HTTPError, OSError)


class ObjectStore:
    """Put, verify and read encrypted objects."""

    def __init__(self, client: Minio, bucket: str, master: MasterKey, staging: Path,
                 versioning: bool = True, lock: Lock | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.master = master
        self.staging = staging
        self.versioning = versioning
        self.lock = lock
        self._lock_on: bool | None = None  # the bucket's Object Lock, asked once

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist, with versioning on: an object overwritten
        or deleted (by mistake, a script or ransomware holding the S3 keys) keeps its
        earlier versions on the server."""
        try:
            if not self.client.bucket_exists(bucket_name=self.bucket):
                # Object Lock can only be chosen when the bucket is made (it needs versions).
                self.client.make_bucket(bucket_name=self.bucket,
                                        object_lock=self.lock is not None)
                self._lock_on = self.lock is not None
            if self.versioning and self.versioning_status() != ENABLED:
                self.client.set_bucket_versioning(bucket_name=self.bucket,
                                                  config=VersioningConfig(ENABLED))
        except S3Error as e:
            if e.code in {"NotImplemented", "InvalidRequest", "MethodNotAllowed"}:
                raise ConfigError(detail=(
                    f"the S3 server cannot keep object versions ({e.code}): use one that "
                    "can, or set s3.versioning = false to store without earlier versions"
                )) from e
            raise _translate(e, "bucket") from e
        except _TRANSIENT as e:
            raise _translate(e, "bucket") from e

    def versioning_status(self) -> str | None:
        """"Enabled", "Suspended" or None (never turned on)."""
        try:
            return self.client.get_bucket_versioning(bucket_name=self.bucket).status
        except _TRANSIENT as e:
            raise _translate(e, "bucket versioning") from e

    def bucket_locked(self) -> bool:
        """Whether the bucket was made with Object Lock (asked once per store). A bucket
        made without it cannot hold retention: originals then go unlocked, and
        ``papervault doctor`` says so."""
        if self._lock_on is None:
            try:
                self.client.get_object_lock_config(bucket_name=self.bucket)
                self._lock_on = True
            except S3Error as e:
                if e.code in _MISSING | {"NoSuchBucket"}:
                    raise _translate(e, "bucket object lock") from e
                self._lock_on = False  # ObjectLockConfigurationNotFoundError and kin
            except _TRANSIENT as e:
                raise _translate(e, "bucket object lock") from e
        return self._lock_on

    def active_lock(self) -> Lock | None:
        """The configured lock when the bucket can hold it, else None."""
        return self.lock if self.lock is not None and self.bucket_locked() else None

    def ping(self) -> None:
        """Raise :class:`StorageUnavailable` unless the server answers."""
        self.ensure_bucket()

    def put_file(self, src: BinaryIO, kind: str = "o",
                 details: dict[str, Any] | None = None) -> StoredObject:
        """Seal ``src`` under a fresh data key, upload it and return what to record.

        With ``details`` (an original's file details) a recovery record goes beside it,
        completed with the SHA-256 and size read here."""
        name = new_object_name(kind)
        data_key, wrapped = crypto.new_data_key(self.master, name)
        self.staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        plain_size = 0
        try:
            with tempfile.NamedTemporaryFile(dir=self.staging, prefix="seal-") as tmp:
                # The encrypting stream closes its destination; keep our own fd open.
                with (
                    open(tmp.fileno(), "wb", closefd=False) as raw,
                    crypto.encrypting_stream(data_key, raw, name) as sealed,
                ):
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        plain_size += len(chunk)
                        sealed.write(chunk)
                size = os.fstat(tmp.fileno()).st_size
                tmp.seek(0)
                try:
                    self.client.put_object(
                        bucket_name=self.bucket, object_name=name,
                        data=tmp.file,  # type: ignore[arg-type]
                        length=size,
                        content_type="application/octet-stream",
                    )
                except _TRANSIENT as e:
                    raise _translate(e, "upload") from e
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise DiskFull() from e
            raise
        except tink.TinkError as e:
            # Tink's C++ stream reports the failed write of its destination as its own error.
            if "No space left" in str(e) or shutil.disk_usage(self.staging).free < CHUNK:
                raise DiskFull() from e
            raise
        if details is not None:
            full = {**details, "sha256": digest.hexdigest(), "size": plain_size}
            self._put_record(name, records.seal(name, data_key, wrapped, full))
        lock = self.active_lock() if details is not None else None
        if lock is not None:  # originals: write once
            self.retain(name, lock.until(None))
        return StoredObject(name=name, size=size, wrapped=wrapped, sha256=digest.hexdigest())

    def write_record(self, name: str, wrapped: WrappedKey, details: dict[str, Any]) -> None:
        """(Re)write an object's recovery record, e.g. after its data key was re-wrapped."""
        data_key = crypto.unwrap(self.master, wrapped, name)
        self._put_record(name, records.seal(name, data_key, wrapped, details))

    def _put_record(self, name: str, raw: bytes) -> None:
        try:
            self.client.put_object(bucket_name=self.bucket,
                                   object_name=records.record_name(name),
                                   data=io.BytesIO(raw), length=len(raw),
                                   content_type="application/json")
        except _TRANSIENT as e:
            raise _translate(e, "recovery record") from e

    def read_record(self, name: str) -> records.RecoveryRecord:
        """An object's recovery record, opened (details decrypted) with the master key."""
        return records.open_record(self.master, name, self._record_bytes(name))

    def record_key_id(self, name: str) -> str | None:
        """The master key id of an object's recovery record; None if it has none."""
        try:
            return records.key_id_of(self._record_bytes(name))
        except IntegrityError:  # no record
            return None

    def _record_bytes(self, name: str) -> bytes:
        try:
            resp = self.client.get_object(bucket_name=self.bucket,
                                          object_name=records.record_name(name))
        except _TRANSIENT as e:
            raise _translate(e, f"{name} recovery record") from e
        try:
            return bytes(resp.read())
        finally:
            resp.close()
            resp.release_conn()

    def object_size(self, name: str) -> int:
        """The sealed size of a stored object."""
        try:
            return int(self.client.stat_object(bucket_name=self.bucket, object_name=name).size
                       or 0)
        except _TRANSIENT as e:
            raise _translate(e, name) from e

    def list_records(self) -> Iterator[str]:
        """The object names that have a recovery record."""
        try:
            for obj in self.client.list_objects(bucket_name=self.bucket,
                                                prefix=records.PREFIX, recursive=True):
                if obj.object_name is not None:
                    yield records.object_of(obj.object_name)
        except _TRANSIENT as e:
            raise _translate(e, "record listing") from e

    @contextlib.contextmanager
    def open_plaintext(self, name: str, wrapped: WrappedKey) -> Iterator[BinaryIO]:
        """A readable plaintext stream of a stored object, decrypted as it is read."""
        data_key = crypto.unwrap(self.master, wrapped, name)
        try:
            resp = self.client.get_object(bucket_name=self.bucket, object_name=name)
        except _TRANSIENT as e:
            raise _translate(e, name) from e
        try:
            yield crypto.decrypting_stream(data_key, resp, name)  # type: ignore[arg-type]
        finally:
            resp.close()
            resp.release_conn()

    def iter_plaintext(self, name: str, wrapped: WrappedKey) -> Iterator[bytes]:
        """Plaintext chunks of an object; a tampered object raises :class:`IntegrityError`."""
        with self.open_plaintext(name, wrapped) as stream:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except tink.TinkError as e:
                    raise IntegrityError(detail=f"{name}: authentication failed") from e
                except _TRANSIENT as e:
                    raise _translate(e, name) from e
                if not chunk:
                    return
                yield chunk

    def verify(self, name: str, wrapped: WrappedKey, sha256: str) -> None:
        """Read an object back, decrypt it and compare its SHA-256; raise on any mismatch."""
        digest = hashlib.sha256()
        for chunk in self.iter_plaintext(name, wrapped):
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise IntegrityError(detail=f"{name}: checksum differs from the index")

    def download(self, name: str, wrapped: WrappedKey, dest: Path) -> str:
        """Decrypt an object into ``dest`` (a private path) and return its SHA-256."""
        digest = hashlib.sha256()
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in self.iter_plaintext(name, wrapped):
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()

    def retain(self, name: str, until: datetime | None) -> None:
        """Put an original and its recovery record under retention until ``until`` (a legal
        hold when None: 永久). Retention only grows: a date before the one the server holds
        (a record whose term ran out before it was scanned) leaves that one standing."""
        lock = self.active_lock()
        if lock is None:
            return
        try:
            for obj in (name, records.record_name(name)):
                held = self.retention_of(obj)[1]
                if until is not None and held is not None and held >= until:
                    continue
                if until is None:
                    self.client.enable_object_legal_hold(bucket_name=self.bucket,
                                                         object_name=obj)
                else:
                    self.client.set_object_retention(
                        bucket_name=self.bucket, object_name=obj,
                        config=Retention(lock.mode, until))
        except _TRANSIENT as e:
            raise _translate(e, f"{name} retention") from e

    def retention_of(self, name: str) -> tuple[str | None, datetime | None]:
        """The lock mode and retain-until date the server holds for an object."""
        try:
            got = self.client.get_object_retention(bucket_name=self.bucket, object_name=name)
        except S3Error as e:
            if e.code in {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"}:
                return None, None
            raise _translate(e, f"{name} retention") from e
        except _TRANSIENT as e:
            raise _translate(e, f"{name} retention") from e
        if got is None:
            return None, None
        return got.mode, got.retain_until_date

    def legal_hold_of(self, name: str) -> bool:
        """Whether the server holds a legal hold (永久) on an object."""
        try:
            return bool(self.client.is_object_legal_hold_enabled(bucket_name=self.bucket,
                                                                 object_name=name))
        except S3Error as e:
            if e.code in {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError",
                          "NoSuchObjectLegalHold", "InvalidRequest"}:
                return False
            raise _translate(e, f"{name} legal hold") from e
        except _TRANSIENT as e:
            raise _translate(e, f"{name} legal hold") from e

    def destroy(self, name: str, bypass_governance: bool = False) -> int:
        """Delete every version of an object and of its recovery record, for good (a
        disposal after retain-until, or an administrator's mis-scan removal). The server
        refuses a version still under COMPLIANCE, under a legal hold, or under GOVERNANCE
        without ``bypass_governance``: nothing here lifts a hold. Returns the versions
        deleted; raises :class:`DeletionRefused` naming what was refused."""
        from minio.deleteobjects import DeleteObject

        try:
            gone = 0
            for obj in (records.record_name(name), name):
                versions = [DeleteObject(v.object_name, v.version_id)
                            for v in self.client.list_objects(
                                bucket_name=self.bucket, prefix=obj, include_version=True)
                            if v.object_name == obj]
                if not versions:
                    continue
                errors = list(self.client.remove_objects(
                    bucket_name=self.bucket, delete_object_list=versions,
                    bypass_governance_mode=bypass_governance))
                if errors:
                    raise DeletionRefused(name=obj, code=str(errors[0].code))
                gone += len(versions)
            return gone
        except _TRANSIENT as e:
            raise _translate(e, f"{name} deletion") from e

    def delete(self, name: str) -> None:
        """Remove an object and its recovery record (if it has one). The record goes first:
        an object left without one is still listed as an orphan, a record left without its
        object would only fail ``recover``."""
        try:
            self.client.remove_object(bucket_name=self.bucket,
                                      object_name=records.record_name(name))
            self.client.remove_object(bucket_name=self.bucket, object_name=name)
        except _TRANSIENT as e:
            raise _translate(e, name) from e

    def list_objects(self) -> Iterator[tuple[str, datetime | None, int]]:
        """Every sealed object in the bucket (not the recovery records): name, last modified,
        size."""
        try:
            for obj in self.client.list_objects(bucket_name=self.bucket, recursive=True):
                if obj.object_name is not None \
                        and not obj.object_name.startswith((records.PREFIX, AUDIT_PREFIX)):
                    yield obj.object_name, obj.last_modified, obj.size or 0
        except _TRANSIENT as e:
            raise _translate(e, "bucket listing") from e

    def put_audit_checkpoint(self, raw: bytes) -> None:
        """The audit chain's signed checkpoint; the bucket is versioned, so each one is
        kept even when a later one replaces it."""
        try:
            self.client.put_object(bucket_name=self.bucket, object_name=AUDIT_CHECKPOINT,
                                   data=io.BytesIO(raw), length=len(raw),
                                   content_type="application/json")
        except _TRANSIENT as e:
            raise _translate(e, "audit checkpoint") from e

    def audit_checkpoint(self) -> bytes | None:
        """The newest audit checkpoint, or ``None`` if none was ever written."""
        try:
            resp = self.client.get_object(bucket_name=self.bucket, object_name=AUDIT_CHECKPOINT)
        except S3Error as e:
            if e.code in _MISSING:
                return None
            raise _translate(e, "audit checkpoint") from e
        except _TRANSIENT as e:
            raise _translate(e, "audit checkpoint") from e
        try:
            return bytes(resp.read())
        finally:
            resp.close()
            resp.release_conn()

    def raw_bytes(self, name: str) -> bytes:
        """The sealed bytes as stored (for audits and tests: they must hold no plaintext)."""
        try:
            resp = self.client.get_object(bucket_name=self.bucket, object_name=name)
        except _TRANSIENT as e:
            raise _translate(e, name) from e
        try:
            return bytes(resp.read())
        finally:
            resp.close()
            resp.release_conn()
