"""Master-key rotation on the keyset file: add a new primary key, keep the old ones for
unwrapping until nothing uses them, then retire them.

Tink keysets already hold several keys with one primary; we edit the keyset's own JSON
form (keys and primaryKeyId) and write it atomically, 0600.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from papervault.config.errors import BadInput
from papervault.storage.crypto import MasterKey, new_master_keyset, parse_master_key


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def add_primary_key(key_file: Path) -> MasterKey:
    """Add a fresh AES-256-GCM key to the keyset file and make it the primary."""
    current = json.loads(key_file.read_text(encoding="utf-8"))
    fresh = json.loads(new_master_keyset())
    current["key"].extend(fresh["key"])
    current["primaryKeyId"] = fresh["primaryKeyId"]
    text = json.dumps(current)
    master = parse_master_key(text)  # refuse to write anything Tink cannot read back
    _write_atomic(key_file, text)
    return master


def retire_key(key_file: Path, key_id: str, in_use: set[str]) -> MasterKey:
    """Remove a non-primary key that no wrapped data key uses any more."""
    current = json.loads(key_file.read_text(encoding="utf-8"))
    numeric = int(key_id.removeprefix("mk-"))
    if numeric == current["primaryKeyId"]:
        raise BadInput(detail=f"{key_id} is the primary key; rotate first")
    if key_id in in_use:
        raise BadInput(detail=f"{key_id} still wraps data keys; finish 'keys rotate' first")
    keys = [k for k in current["key"] if k["keyId"] != numeric]
    if len(keys) == len(current["key"]):
        raise BadInput(detail=f"{key_id} is not in the keyset")
    current["key"] = keys
    text = json.dumps(current)
    master = parse_master_key(text)
    _write_atomic(key_file, text)
    return master
