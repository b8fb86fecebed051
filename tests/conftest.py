"""Shared fixtures: a real S3 server (SeaweedFS on loopback, once per session, a fresh
bucket per test), SQLite and PostgreSQL engines, instance settings, sample files."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from minio import Minio
from minio.deleteobjects import DeleteObject
from sqlalchemy import text
from sqlalchemy.engine import Engine

from papervault.config.settings import Settings, load_settings
from papervault.index.accounts.access import Role
from papervault.index.catalog.db import alembic_config, make_engine, upgrade
from papervault.ingest.instance import ensure_local_user
from papervault.storage.crypto import new_master_keyset, parse_master_key, write_master_key_file
from papervault.storage.localserver import LocalS3, free_port, start_local_s3
from papervault.storage.objects import ObjectStore, S3Location, make_client

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
if not TESTDATA.exists():
    TESTDATA = Path(os.environ.get("PAPERVAULT_TESTDATA", "/work/shared/testdata"))
PG_URL = os.environ.get("PAPERVAULT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
S3_ACCESS = "pvtest" + secrets.token_hex(4)
S3_SECRET = secrets.token_urlsafe(24)


def wait_until(predicate: Callable[[], object], timeout: float = 30.0,
               interval: float = 0.05) -> object:
    """Poll ``predicate`` until truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.exists():
        pytest.fail(f"shared test data not found at {TESTDATA}")
    return TESTDATA


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    server = start_local_s3(tmp_path_factory.mktemp("s3"), free_port(), S3_ACCESS, S3_SECRET)
    yield server
    server.stop()


@pytest.fixture
def s3_location(s3_server: LocalS3) -> Iterator[S3Location]:
    bucket = "t-" + uuid.uuid4().hex[:12]
    loc = S3Location(endpoint=s3_server.endpoint, bucket=bucket, access_key=S3_ACCESS,
                     secret_key=S3_SECRET)
    client = make_client(loc)
    deadline = time.monotonic() + 30
    while True:  # the volume server may still be registering right after start
        try:
            client.make_bucket(bucket_name=bucket)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    yield loc
    _remove_bucket(client, bucket)


def _remove_bucket(client: Minio, bucket: str) -> None:
    """Empty and drop a test's bucket. SeaweedFS gives every bucket its own volumes and
    sizes its volume count by the free disk, so a session that only ever adds buckets runs
    out of volumes part-way (uploads then fail with InternalError) on a fuller disk."""
    try:
        versions = [DeleteObject(o.object_name, o.version_id)
                    for o in client.list_objects(bucket_name=bucket, recursive=True,
                                                 include_version=True)
                    if o.object_name is not None]
        errors = list(client.remove_objects(bucket_name=bucket, delete_object_list=versions))
        if not errors:
            client.remove_bucket(bucket_name=bucket)
    except Exception as e:  # noqa: BLE001 - a test that stopped the server leaves it behind
        print(f"bucket {bucket} left in place: {e}")


@pytest.fixture(scope="session")
def master_keyset() -> str:
    return new_master_keyset()


@pytest.fixture
def store(s3_location: S3Location, master_keyset: str, tmp_path: Path) -> ObjectStore:
    return ObjectStore(make_client(s3_location), s3_location.bucket,
                       parse_master_key(master_keyset), tmp_path / "staging")


def _pg_available() -> bool:
    try:
        eng = make_engine(PG_URL)
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


_PG_TEMPLATE: list[str] = []  # this session's migrated template database, made on first use


def _pg_template() -> str:
    """A database migrated once per test session: new databases are copies of it.

    About 80 tests each ran the whole Alembic history on a fresh database; ``CREATE DATABASE
    … TEMPLATE`` copies the migrated files instead. The name is per session, so test runs
    side by side (several engineers on one server) never share or drop each other's.
    """
    if not _PG_TEMPLATE:
        name = "pvt_tpl_" + uuid.uuid4().hex[:10]
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        eng = make_engine(PG_URL.rsplit("/", 1)[0] + "/" + name)
        upgrade(eng)
        eng.dispose()  # a template must have no open connections when copied
        _PG_TEMPLATE.append(name)
    return _PG_TEMPLATE[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    for name in _PG_TEMPLATE:
        drop_pg(PG_URL.rsplit("/", 1)[0] + "/" + name)


def fresh_pg_url() -> str:
    """A new database on the local PostgreSQL (one per test), already migrated to head."""
    template = _pg_template()
    name = "pvt_" + uuid.uuid4().hex[:10]
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def empty_pg_url() -> str:
    """A new, empty database (no schema): for restores, and for a role that must own it all."""
    name = "pvt_" + uuid.uuid4().hex[:10]
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextlib.contextmanager
def engine_at(db: str, tmp_path: Path, revision: str) -> Iterator[Engine]:
    """A new database (``sqlite`` or ``postgres``) migrated up to ``revision`` only: the
    archive a migration test upgrades from."""
    if db == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        if not _pg_available():
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (database test)")
        url = empty_pg_url()
    eng = make_engine(url)
    command.upgrade(alembic_config(eng), revision)
    try:
        yield eng
    finally:
        eng.dispose()
        if db == "postgres":
            drop_pg(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'index.db'}"
        return
    if not _pg_available():
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (database test)")
    url = fresh_pg_url()
    yield url
    drop_pg(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def instance(tmp_path: Path, s3_location: S3Location, db_url: str,
             master_keyset: str) -> Callable[..., Settings]:
    """Settings for a self-contained instance in ``tmp_path`` on the shared S3 server."""
    home = tmp_path / "inst"
    home.mkdir()
    write_master_key_file(home / "keys" / "master-keyset.json", master_keyset)

    def make(**overrides: object) -> Settings:
        base: dict[str, object] = {
            "home": str(home),
            "db": {"url": db_url},
            "s3": {"endpoint": s3_location.endpoint, "bucket": s3_location.bucket,
                   "access_key": S3_ACCESS, "secret_key": S3_SECRET},
            "watch": {"stable_seconds": 0.3, "rescan_interval": 1.0, "retry_initial": 0.5,
                      "retry_max": 2.0},
            "ocr": {"workers": 2},
            # Starlette's TestClient sends Host: testserver (the app checks Host, M8).
            "web": {"allowed_hosts": ["testserver"]},
            # Tests of the archive itself act as one local user holding every role; the
            # access-control tests turn login on and make one user per role.
            "access": {"login": False},
        }
        for k, v in overrides.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                base[k] = {**base[k], **v}  # type: ignore[dict-item]
            else:
                base[k] = v
        settings = load_settings(None, **base)
        ensure_local_user(settings, frozenset(Role), by="tests")
        return settings

    return make


@pytest.fixture
def copy_sample(testdata: Path) -> Callable[[str, Path], Path]:
    def copy(rel: str, dest_dir: Path, name: str | None = None) -> Path:
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / (name or Path(rel).name)
        shutil.copyfile(testdata / rel, dest)
        return dest

    return copy


def write_config(s: Settings, path: Path, **watch: float) -> Path:
    """A 0600 papervault.toml for instance settings ``s`` (for CLI subprocesses)."""
    watch_lines = "".join(f"{k} = {v}\n" for k, v in watch.items())
    path.write_text(f"""home = "{s.home}"
actor = "{s.actor}"
[access]
login = {str(s.access.login).lower()}
[watch]
{watch_lines}[db]
url = "{s.db.url}"
[s3]
endpoint = "{s.s3.endpoint}"
bucket = "{s.s3.bucket}"
access_key = "{s.s3.access_key.get_secret_value()}"
secret_key = "{s.s3.secret_key.get_secret_value()}"
""", encoding="utf-8")
    path.chmod(0o600)
    return path


def bucket_ready(store: ObjectStore) -> bool:
    """True once the S3 server accepts the bucket (it may still be starting)."""
    try:
        store.ensure_bucket()
        return True
    except Exception:
        return False


@pytest.fixture(autouse=True, scope="session")
def _private_umask() -> Iterator[None]:
    """Folders tests make are private, as under ``papervault`` itself (its entry point sets
    umask 077 first thing; in-process CLI runs never pass through it)."""
    old = os.umask(0o077)
    yield
    os.umask(old)
