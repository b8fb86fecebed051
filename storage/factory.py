"""Build the object store from settings (used by the CLI, workers and the web app)."""

from __future__ import annotations

from papervault.config.settings import Settings
from papervault.storage.crypto import load_master_key
from papervault.storage.objects import Lock, ObjectStore, S3Location, make_client


def s3_location(s: Settings) -> S3Location:
    return S3Location(
        endpoint=s.s3.endpoint, bucket=s.s3.bucket,
        access_key=s.s3.access_key.get_secret_value(),
        secret_key=s.s3.secret_key.get_secret_value(), secure=s.s3.secure, region=s.s3.region,
    )


def open_store(s: Settings) -> ObjectStore:
    """The store for this process: master key from env or file, a private staging folder."""
    master = load_master_key(
        s.path(s.crypto.master_key_file) if s.crypto.master_key_file else None,
        s.crypto.master_key.get_secret_value() if s.crypto.master_key else None,
    )
    lock = None if s.s3.object_lock == "off" else Lock(s.s3.object_lock,
                                                        s.s3.lock_default_days)
    return ObjectStore(make_client(s3_location(s)), s.s3.bucket, master, s.staging_dir / "seal",
                       versioning=s.s3.versioning, lock=lock)
