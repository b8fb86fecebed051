"""One-file backups of what the object store does not hold: the index and the key material.

The archive is a tar of a consistent database dump (``pg_dump``'s single snapshot, or
SQLite's online backup API), the master keyset, the audit, session and PI keys, and a
manifest; it is encrypted with age (pyrage) to a passphrase or to recipients' public keys —
a vetted format, readable by the stock ``age`` tool too. The sealed objects themselves stay
in S3 (versioned); without the master key in some backup, they are unreadable forever.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papervault.config.errors import BadInput, ConfigError, DependencyMissing
from papervault.config.settings import Settings
from papervault.config.version import package_version

FORMAT = "papervault-backup/1"
DB_SQLITE = "index.sqlite"
DB_PG = "index.pgdump"


@dataclass(frozen=True)
class Encryption:
    """To whom the backup is sealed: a passphrase, or age/SSH public keys."""

    passphrase: str | None = None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, Any]


def key_files(s: Settings) -> dict[str, Path]:
    """The key material, by its name inside the archive."""
    files = {
        "audit.key": s.path(s.crypto.audit_key_file),
        "session.key": s.path(s.access.session_key_file),
        "pi.key": s.path(s.privacy.pi_key_file),
    }
    if s.crypto.master_key_file is not None:
        files["master-keyset.json"] = s.path(s.crypto.master_key_file)
    return files


def create_backup(s: Settings, out: Path, enc: Encryption) -> BackupResult:
    """Dump the index, add the keys and a manifest, encrypt, and write ``out`` (0600)."""
    with tempfile.TemporaryDirectory(prefix="pv-backup-") as tmp:
        work = Path(tmp)
        db_name = _dump_database(s, work)
        members = {db_name: work / db_name}
        for name, path in key_files(s).items():
            if path.exists():
                members[f"keys/{name}"] = path
        if (s.crypto.master_key is not None and "keys/master-keyset.json" not in members):
            keyset = work / "master-keyset.json"
            keyset.write_text(s.crypto.master_key.get_secret_value(), encoding="utf-8")
            members["keys/master-keyset.json"] = keyset
        if "keys/master-keyset.json" not in members:
            raise ConfigError(detail="no master key to back up (crypto.master_key_file)")
        manifest = {"format": FORMAT, "papervault": package_version(),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "database": db_name, "s3_bucket": s.s3.bucket,
                    "files": sorted(members)}
        plain = work / "backup.tar"
        with tarfile.open(plain, "w") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            for name, path in members.items():
                tar.add(path, arcname=name)
        _encrypt(plain, out, enc)
    return BackupResult(out, out.stat().st_size, manifest)


def _dump_database(s: Settings, work: Path) -> str:
    url = s.db_url
    if url.startswith("sqlite"):
        src_path = url.split("sqlite:///", 1)[1]
        dst = work / DB_SQLITE
        # The online backup API copies a consistent snapshot while writers go on.
        with sqlite3.connect(src_path) as src, sqlite3.connect(dst) as out:
            src.backup(out)
        return DB_SQLITE
    dst = work / DB_PG
    _pg_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(dst)], s)
    return DB_PG


def _pg_tool(argv: list[str], s: Settings) -> None:
    """Run a PostgreSQL client tool against ``db.url``; the password goes by environment,
    never on the command line."""
    from sqlalchemy.engine import make_url

    if shutil.which(argv[0]) is None:
        raise DependencyMissing(detail=f"{argv[0]} (apt-get install postgresql-client)")
    u = make_url(s.db.url)
    env = dict(os.environ)
    env.update({k: v for k, v in {
        "PGHOST": u.host, "PGPORT": str(u.port) if u.port else None, "PGUSER": u.username,
        "PGDATABASE": u.database}.items() if v})
    password = s.db.password.get_secret_value() if s.db.password else u.password
    if password:
        env["PGPASSWORD"] = password
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BadInput(detail=f"{argv[0]} failed: {done.stderr.strip()[-400:]}")


def _encrypt(plain: Path, out: Path, enc: Encryption) -> None:
    import pyrage

    if enc.passphrase and enc.recipients:
        raise BadInput(detail="choose a passphrase or recipients, not both")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        if enc.passphrase:
            f.write(pyrage.passphrase.encrypt(plain.read_bytes(), enc.passphrase))
        elif enc.recipients:
            with plain.open("rb") as src:
                pyrage.encrypt_io(src, f, [_recipient(r) for r in enc.recipients])
        else:
            out.unlink()
            raise BadInput(detail="a backup needs a passphrase or a recipient (--to)")


def _recipient(text: str) -> Any:
    import pyrage

    try:
        if text.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(text)
        return pyrage.ssh.Recipient.from_str(text)
    except pyrage.RecipientError as e:
        raise BadInput(detail=f"not an age or SSH public key: {text[:24]}…") from e


def decrypt_backup(src: Path, passphrase: str | None, identities: Sequence[Path]) -> bytes:
    """The tar inside ``src``."""
    import pyrage

    data = src.read_bytes()
    try:
        if passphrase:
            return bytes(pyrage.passphrase.decrypt(data, passphrase))
        ids = [pyrage.x25519.Identity.from_str(line.strip())
               for p in identities for line in p.read_text().splitlines()
               if line.strip().startswith("AGE-SECRET-KEY-")]
        if not ids:
            raise BadInput(detail="give --passphrase-file or an age identity file (--identity)")
        return bytes(pyrage.decrypt(data, ids))
    except pyrage.DecryptError as e:
        raise BadInput(detail="the backup cannot be decrypted with that passphrase or key") from e


def restore_backup(s: Settings, plain_tar: bytes, overwrite_keys: bool = False) -> dict[str, Any]:
    """Put the keys where ``s`` expects them and load the index into an empty database."""
    with tempfile.TemporaryDirectory(prefix="pv-restore-") as tmp:
        work = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(plain_tar)) as tar:
            tar.extractall(work, filter="data")
        manifest: dict[str, Any] = json.loads((work / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise BadInput(detail=f"not a papervault backup ({manifest.get('format')})")
        for name, dest in key_files(s).items():
            src = work / "keys" / name
            if not src.exists():
                continue
            if dest.exists() and dest.read_bytes() != src.read_bytes() and not overwrite_keys:
                raise BadInput(detail=f"{dest} exists and differs from the backup's "
                               "(move it away, or --overwrite-keys)")
            dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp_dest = dest.with_suffix(dest.suffix + ".restore")
            fd = os.open(tmp_dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(src.read_bytes())
            tmp_dest.replace(dest)
        _load_database(s, work / manifest["database"], manifest["database"])
    return manifest


def _load_database(s: Settings, dump: Path, kind: str) -> None:
    url = s.db_url
    if kind == DB_SQLITE:
        if not url.startswith("sqlite"):
            raise BadInput(detail="this backup holds an SQLite index; db.url is PostgreSQL")
        dst = Path(url.split("sqlite:///", 1)[1])
        if dst.exists() and dst.stat().st_size > 0:
            raise BadInput(detail=f"{dst} exists: restore into a new instance folder")
        dst.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(dump) as src, sqlite3.connect(dst) as out:
            src.backup(out)
        return
    if url.startswith("sqlite"):
        raise BadInput(detail="this backup holds a PostgreSQL index; db.url is SQLite")
    _require_empty(s)
    _pg_tool(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", "--dbname", _dbname_only(s), str(dump)], s)


def _dbname_only(s: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(s.db.url).database or ""


def _require_empty(s: Settings) -> None:
    from sqlalchemy import inspect

    from papervault.index.catalog.db import make_engine

    engine = make_engine(s.db_url)
    try:
        if inspect(engine).get_table_names():
            raise BadInput(detail="the database is not empty: restore into a new, empty one "
                           "(createdb -O <role> <name>)")
    finally:
        engine.dispose()
