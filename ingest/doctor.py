"""``papervault doctor``: every start-up precondition checked at once, each with its fix.

Nothing here changes the instance: the schema is compared with the newest migration, not
upgraded, and the bucket is read, not created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from papervault.config.errors import PapervaultError
from papervault.config.settings import Settings, available_cpus


@dataclass(frozen=True)
class Check:
    """One finding: ``ok`` False means papervault will not work until ``fix`` is done;
    ``warn`` marks advice that does not stop it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False


def run_checks(s: Settings) -> list[Check]:
    """All checks, in the order an administrator would fix them."""
    checks: list[Check] = []
    for fn in (_keys, _tools, _workers, _database, _s3):
        checks.extend(_guarded(fn, s))
    return checks


def _guarded(fn: Callable[[Settings], list[Check]], s: Settings) -> list[Check]:
    try:
        return fn(s)
    except PapervaultError as e:
        return [Check(fn.__name__.strip("_"), False, e.message("en"))]


def _mode_check(name: str, path: Path, required: bool) -> Check:
    if not path.exists():
        if required:
            return Check(name, False, f"{path} is missing",
                         "restore it from the backup (papervault restore); a new one cannot "
                         "open what the old one sealed")
        return Check(name, True, f"{path} not yet made (created on first use)", warn=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return Check(name, False, f"{path} has mode {mode:04o}: others can read it",
                     f"chmod 0600 {path}")
    return Check(name, True, f"{path} (mode {mode:04o})")


def _keys(s: Settings) -> list[Check]:
    out = []
    if s.crypto.master_key is not None:
        out.append(Check("master key", True, "from PAPERVAULT_CRYPTO__MASTER_KEY"))
    elif s.crypto.master_key_file is None:
        out.append(Check("master key", False, "no master key configured",
                         "set crypto.master_key_file"))
    else:
        out.append(_mode_check("master key", s.path(s.crypto.master_key_file), True))
    out.append(_mode_check("audit key", s.path(s.crypto.audit_key_file), False))
    out.append(_mode_check("session key", s.path(s.access.session_key_file), False))
    if s.privacy.mask_numbers:
        out.append(_mode_check("PI key", s.path(s.privacy.pi_key_file), False))
    return out


def _tools(s: Settings) -> list[Check]:
    from papervault.ingest.stages.ocr import check_tesseract
    from papervault.ingest.tools import poppler, tesseract

    check_tesseract(s.ocr.langs)  # raises DependencyMissing with the apt package to install
    out = [Check(tesseract.PROGRAM, True, f"languages {s.ocr.langs} installed")]
    for tool, found in poppler.located().items():
        out.append(Check(tool, found is not None, found or f"{tool} not found",
                         f"apt-get install {poppler.PACKAGE}"))
    return out


def _workers(s: Settings) -> list[Check]:
    cpus = available_cpus()
    if s.ocr.workers > cpus:
        return [Check("ocr workers", True, f"{s.ocr.workers} processes on {cpus} CPUs",
                      f"set ocr.workers <= {cpus}: more processes than CPUs only queue",
                      warn=True)]
    return [Check("ocr workers", True, f"{s.ocr.workers} processes, {cpus} CPUs available")]


def _database(s: Settings) -> list[Check]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from papervault.index.catalog.db import alembic_config, make_engine

    engine = make_engine(s.db_url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as e:
        return [Check("database", False, f"cannot connect ({type(e).__name__})",
                      "check db.url, the password file and that the server runs")]
    finally:
        engine.dispose()
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    out = [Check("database", True, "reachable")]
    if current == heads:
        out.append(Check("schema", True, f"migrated ({', '.join(sorted(heads))})"))
    else:
        out.append(Check("schema", False,
                         f"at {', '.join(sorted(current)) or 'nothing'}, newest "
                         f"{', '.join(sorted(heads))}",
                         "run any papervault command as an admin (e.g. papervault status): "
                         "it migrates; stop old versions first"))
    return out


def _s3(s: Settings) -> list[Check]:
    from papervault.storage.factory import open_store

    store = open_store(s)
    try:
        exists = store.client.bucket_exists(bucket_name=store.bucket)
    except Exception as e:
        return [Check("s3", False, f"{s.s3.endpoint} does not answer ({type(e).__name__})",
                      "check s3.endpoint and the S3 keys (or start the server)")]
    if not exists:
        return [Check("s3", True, f"bucket {store.bucket} not yet made (made at start-up)",
                      warn=True)]
    out = [Check("s3", True, f"bucket {store.bucket} on {s.s3.endpoint}")]
    status = store.versioning_status()
    out.append(Check("versioning", status == "Enabled" or not s.s3.versioning,
                     f"bucket versioning: {status or 'never enabled'}",
                     f"mc version enable ALIAS/{store.bucket}"))
    out.append(_lock_check(s, store.bucket_locked(), store.bucket))
    return out


def _lock_check(s: Settings, locked: bool, bucket: str) -> Check:
    mode = s.s3.object_lock
    if locked and mode != "off":
        return Check("object lock", True, f"enabled, originals kept under {mode} retention")
    if locked:
        return Check("object lock", True, "the bucket has Object Lock, s3.object_lock is off",
                     's3.object_lock = "GOVERNANCE" keeps originals under retention',
                     warn=True)
    if mode == "off":
        return Check("object lock", True, "off (s3.object_lock = \"off\")",
                     "originals can be deleted by anyone holding the S3 keys", warn=True)
    return Check(
        "object lock", True,
        f"bucket {bucket} was made without Object Lock: originals are stored UNLOCKED",
        "Object Lock cannot be switched on later for an existing bucket on every server "
        "(MinIO and SeaweedFS need it at creation): make a new bucket with it (papervault "
        "does when s3.bucket names one that does not exist, or mc mb --with-lock), copy "
        "the objects over with their versions (mc mirror), point s3.bucket at it, then run "
        "papervault verify, which puts every original under its retention", warn=True)
