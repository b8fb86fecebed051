"""``papervault init DIR``: a self-contained instance folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from papervault.config.errors import BadInput
from papervault.config.settings import Settings
from papervault.index.accounts.access import Role
from papervault.index.accounts.users import ensure_user
from papervault.index.catalog.db import make_engine, session_scope, upgrade
from papervault.storage.crypto import new_master_keyset, write_master_key_file
from papervault.storage.localserver import free_port

CONFIG_TEMPLATE = """\
# papervault instance: paths are relative to this file's folder.
# Any value can be overridden by PAPERVAULT_<SECTION>__<KEY> in the environment.
language = "zh"
staging = "staging"

[watch]
inbox = "inbox"
quarantine = "quarantine"
done = "done"
after_store = "delete"     # or "move" (to done/)
stable_seconds = 5.0
polling = false            # true for SMB/NFS shares (no inotify events)
rescan_interval = 60.0

[ocr]
langs = "chi_sim+eng"
dpi = 300

[db]
url = "sqlite:///papervault.db"

[s3]
local_server = true        # papervault starts a SeaweedFS S3 server on loopback
endpoint = "127.0.0.1:{port}"
bucket = "papervault"
access_key = "{access}"
secret_key = "{secret}"
local_data_dir = "s3data"
# The bucket is made with S3 Object Lock at first start: originals and their recovery
# records are kept under retention (保管期限). GOVERNANCE lets an administrator remove a
# mis-scan (papervault remove, audited); COMPLIANCE lets nobody before the date.
object_lock = "GOVERNANCE"

[crypto]
master_key_file = "keys/master-keyset.json"
audit_key_file = "keys/audit.key"

[web]
host = "127.0.0.1"
port = {web_port}
"""


def init_instance(folder: Path, web_port: int = 8700) -> Path:
    """Create config, keys (0600), inbox, quarantine and the index in ``folder``."""
    config = folder / "papervault.toml"
    if config.exists():
        raise BadInput(detail=f"{config} exists already; choose an empty folder")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Owner-only (security review H2): the index, keys and scans are personal data. An
    # office sharing the inbox with scanning staff points watch.inbox at a group folder.
    folder.chmod(0o700)
    for sub in ("inbox", "quarantine", "done", "staging", "run"):
        (folder / sub).mkdir(exist_ok=True, mode=0o700)
        (folder / sub).chmod(0o700)
    write_master_key_file(folder / "keys" / "master-keyset.json", new_master_keyset())
    write_master_key_file(folder / "keys" / "audit.key", secrets.token_hex(32))
    text = CONFIG_TEMPLATE.format(
        port=free_port(), access=secrets.token_hex(10), secret=secrets.token_urlsafe(30),
        web_port=web_port,
    )
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return config


def ensure_local_user(s: Settings, roles: frozenset[Role], by: str) -> None:
    """``s.actor`` as a user with exactly ``roles`` and no password: the identity of a
    service, a benchmark or a test acting locally (schema brought up to date first)."""
    engine = make_engine(s.db_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            ensure_user(session, s.actor, roles, by=by)
    finally:
        engine.dispose()
