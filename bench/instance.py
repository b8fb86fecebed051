"""Throw-away papervault instances for the benchmark: a home folder, a master key, a
config file (for ``papervault worker`` subprocesses), a bucket on a local S3 server."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from papervault.config.settings import Settings, load_settings
from papervault.index.accounts.access import Role
from papervault.index.catalog.db import make_engine
from papervault.ingest.instance import ensure_local_user
from papervault.storage.crypto import new_master_keyset, write_master_key_file
from papervault.storage.localserver import LocalS3, free_port, start_local_s3
from papervault.storage.objects import S3Location, make_client

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class S3:
    server: LocalS3
    access: str
    secret: str


@contextmanager
def local_s3(folder: Path) -> Iterator[S3]:
    """A SeaweedFS S3 server on a free loopback port for the whole benchmark run."""
    access, secret = "bench" + secrets.token_hex(4), secrets.token_urlsafe(24)
    server = start_local_s3(folder, free_port(), access, secret)
    try:
        yield S3(server, access, secret)
    finally:
        server.stop()


def new_bucket(s3: S3) -> str:
    bucket = "b-" + uuid.uuid4().hex[:12]
    client = make_client(S3Location(s3.server.endpoint, bucket, s3.access, s3.secret))
    deadline = time.monotonic() + 60
    while True:  # the volume server may still be registering right after start
        try:
            client.make_bucket(bucket_name=bucket)
            return bucket
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def make_instance(home: Path, s3: S3, db_url: str, processes: int, langs: str,
                  dpi: int) -> tuple[Settings, Path]:
    """Settings for a fresh instance in ``home`` and the config file that names them."""
    home.mkdir(parents=True)
    write_master_key_file(home / "keys" / "master-keyset.json", new_master_keyset())
    bucket = new_bucket(s3)
    config = home / "papervault.toml"
    config.write_text(f"""home = "{home}"
[db]
url = "{db_url}"
[s3]
endpoint = "{s3.server.endpoint}"
bucket = "{bucket}"
access_key = "{s3.access}"
secret_key = "{s3.secret}"
[ocr]
workers = {processes}
langs = "{langs}"
dpi = {dpi}
""", encoding="utf-8")
    config.chmod(0o600)
    settings = load_settings(config)
    # The workers run as this local user.
    ensure_local_user(settings, frozenset({Role.ADMIN, Role.SCANNER}), by="bench")
    return settings, config


def fresh_pg_database() -> str:
    name = "pvbench_" + uuid.uuid4().hex[:10]
    admin = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
