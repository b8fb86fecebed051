"""Wiring at the edge: turn :class:`Settings` into engines, stores and stage configs.

The only module (besides the CLI and the web app factory) that reads the whole settings.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from papervault.config.errors import ConfigError
from papervault.config.settings import Settings
from papervault.index.accounts.anchor import follow_commits
from papervault.index.accounts.audit import load_audit_key
from papervault.index.catalog import doctypes
from papervault.index.catalog.db import make_engine, upgrade
from papervault.index.registers import retention
from papervault.ingest.daemon import WatchConfig
from papervault.ingest.permissions import secure_instance
from papervault.ingest.pipeline import CaptureContext
from papervault.ingest.stages.triage import Limits
from papervault.ingest.worker import WorkerConfig
from papervault.storage.errors import StorageUnavailable
from papervault.storage.factory import open_store
from papervault.storage.localserver import LocalS3, start_local_s3
from papervault.storage.objects import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    store: ObjectStore

    def capture_context(self) -> CaptureContext:
        s = self.settings
        return CaptureContext(
            engine=self.engine, store=self.store, limits=limits(s), inbox=s.inbox,
            quarantine_dir=s.quarantine_dir, done_dir=s.done_dir,
            after_store=s.watch.after_store,
        )

    def watch_config(self) -> WatchConfig:
        w = self.settings.watch
        return WatchConfig(
            inbox=self.settings.inbox, stable_seconds=w.stable_seconds, polling=w.polling,
            poll_interval=w.poll_interval, rescan_interval=w.rescan_interval,
            ignore_suffixes=tuple(w.ignore_suffixes), ignore_prefixes=tuple(w.ignore_prefixes),
            retry_initial=w.retry_initial, retry_max=w.retry_max,
            status_file=run_dir(self.settings) / "capture.json",
        )

    def worker_config(self) -> WorkerConfig:
        o = self.settings.ocr
        return WorkerConfig(
            langs=o.langs, dpi=o.dpi, processes=max(1, o.workers),
            page_timeout=o.page_timeout, text_layer_min_chars=o.text_layer_min_chars,
            lease_seconds=o.lease_seconds, max_attempts=o.max_attempts,
            client_patterns=tuple(self.settings.link.client_patterns),
            record_patterns=tuple(self.settings.link.record_patterns),
            date_patterns=tuple(self.settings.link.date_patterns),
            private_dir=self.settings.staging_dir / "ocr",
            min_dpi_warning=o.min_dpi_warning, low_confidence_warning=o.low_confidence_warning,
            pi_key=pi_key(self.settings), max_pixels=self.settings.limits.max_pixels,
            page_memory_mb=o.page_memory_mb,
            type_rules=doctypes.rules_from(self.settings.classify),
            retention=retention.defaults_from(self.settings.retention),
        )


def run_dir(settings: Settings) -> Path:
    d = settings.path(Path("run"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def limits(s: Settings) -> Limits:
    lim = s.limits
    return Limits(lim.max_bytes, lim.max_pages, lim.max_pixels, lim.max_page_points,
                  lim.min_pixels_side, lim.max_page_content_mb, lim.max_content_mb)


def open_runtime(s: Settings, migrate: bool = True) -> Runtime:
    """Engine (schema upgraded) and object store for one process; private paths of the
    instance are made owner-only first (security review H2)."""
    secure_instance(s)
    engine = make_engine(s.db_url)
    follow_commits(engine, s.path(s.crypto.audit_anchor_file), audit_key(s))
    if migrate:
        upgrade(engine)
    return Runtime(settings=s, engine=engine, store=open_store(s))


@contextlib.contextmanager
def local_s3(s: Settings, wait_bucket: bool = True) -> Iterator[LocalS3 | None]:
    """Start this instance's S3 server if configured and not already running (by ``up``)."""
    if not s.s3.local_server:
        yield None
        return
    host, _, port = s.s3.endpoint.rpartition(":")
    if host not in ("127.0.0.1", "localhost") or not port.isdigit():
        raise ConfigError(detail="s3.local_server needs s3.endpoint = 127.0.0.1:PORT")
    store = open_store(s)
    try:
        store.ping()
        yield None  # someone (papervault up) already runs it
        return
    except StorageUnavailable:
        pass
    server = start_local_s3(
        s.path(s.s3.local_data_dir), int(port), s.s3.access_key.get_secret_value(),
        s.s3.secret_key.get_secret_value(),
    )
    try:
        if wait_bucket:
            _wait_bucket(store, server)
        yield server
    finally:
        server.stop()


def _wait_bucket(store: ObjectStore, server: LocalS3, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            store.ensure_bucket()
            return
        except StorageUnavailable:
            if time.monotonic() > deadline or not server.alive():
                raise
            time.sleep(0.2)



def audit_key(s: Settings) -> bytes:
    return load_audit_key(s.path(s.crypto.audit_key_file))


def pi_key(s: Settings) -> bytes | None:
    """The key of the masked numbers' hashes, when masking is on (made on first use)."""
    if not s.privacy.mask_numbers:
        return None
    return load_audit_key(s.path(s.privacy.pi_key_file))
