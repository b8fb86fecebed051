"""Errors of the storage layer: the S3 server and the envelope encryption."""

from __future__ import annotations

from papervault.config.errors import PapervaultError, TransientError


class StorageUnavailable(TransientError):
    """The S3 server cannot be reached or answered with a server error: retry later."""

    key = "storage_unavailable"


class IntegrityError(PapervaultError):
    """A stored object is missing, unreadable or does not match its checksum."""

    exit_code = 4
    key = "integrity_mismatch"


class WrongKey(PapervaultError):
    """The master key cannot unwrap a data key: never return garbage, fail loudly."""

    exit_code = 5
    key = "wrong_key"


class NoMasterKey(PapervaultError):
    """No master key is configured."""

    exit_code = 78
    key = "no_master_key"


class DiskFull(TransientError):
    """The staging area ran out of space: the source stays, processing resumes later."""

    key = "disk_full"


class DeletionRefused(PapervaultError):
    """The S3 server refused to delete a stored version: it is still under retention or a
    legal hold (Object Lock doing its job, not an outage)."""

    exit_code = 4
    key = "deletion_refused"
