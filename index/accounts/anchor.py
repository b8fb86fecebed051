"""The audit chain's anchor outside the database (security review H5).

A hash chain shows edited, inserted and reordered entries, but not the newest ones
deleted, nor the whole table emptied: what is left still chains. So the head of the chain
(last entry id, its hash, how many entries up to it) is kept, signed with the audit key,
where someone who can only change the database cannot reach it: in a local file after
every commit (id and hash only), and as a checkpoint in the (versioned) object store at
each intact ``audit verify``. Verify then insists the chain still reaches every anchor.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from papervault.index.catalog.models import AuditEntry, utcnow

_ANCHORS: weakref.WeakKeyDictionary[Engine, tuple[Path, bytes]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Checkpoint:
    last_id: int
    last_hash: str
    count: int
    at: str
    mac: str = ""

    def payload(self) -> bytes:
        return json.dumps(["pv-audit-checkpoint", self.last_id, self.last_hash, self.count,
                           self.at]).encode()


FORGED = Checkpoint(-1, "", 0, "", "forged")  # an anchor whose signature does not hold


def sign(key: bytes, last_id: int, last_hash: str, count: int) -> Checkpoint:
    cp = Checkpoint(last_id, last_hash, count, utcnow().isoformat())
    mac = hmac.new(key, cp.payload(), hashlib.sha256).hexdigest()
    return Checkpoint(cp.last_id, cp.last_hash, cp.count, cp.at, mac)


def to_bytes(cp: Checkpoint) -> bytes:
    return json.dumps(asdict(cp)).encode()


def parse(raw: bytes, key: bytes) -> Checkpoint | None:
    """The checkpoint if its signature holds, else ``None`` (forged or damaged)."""
    try:
        d = json.loads(raw)
        cp = Checkpoint(int(d["last_id"]), str(d["last_hash"]), int(d["count"]), str(d["at"]),
                        str(d["mac"]))
    except (ValueError, KeyError, TypeError):
        return None
    want = hmac.new(key, cp.payload(), hashlib.sha256).hexdigest()
    return cp if hmac.compare_digest(want, cp.mac) else None


def head(session: Session, key: bytes) -> Checkpoint | None:
    """A signed checkpoint of the chain as it stands, or ``None`` when it is empty."""
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    if last is None or last.id is None:
        return None
    n = int(session.exec(select(func.count()).select_from(AuditEntry)).one())
    return sign(key, last.id, last.hash, n)


def write_local(path: Path, cp: Checkpoint, key: bytes) -> None:
    """Replace the local anchor, never with an older head (writers race across processes:
    the lock and the comparison keep it monotonic)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = os.open(f"{path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = read_local(path, key)
        if old is not None and old.last_id >= cp.last_id:
            return
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(to_bytes(cp))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    finally:
        os.close(lock)


def read_local(path: Path, key: bytes) -> Checkpoint | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return parse(raw, key) or FORGED


def check(session: Session, anchors: dict[str, Checkpoint]) -> list[str]:
    """Problems with the chain against its anchors (``where → checkpoint``)."""
    problems: list[str] = []
    for where, cp in anchors.items():
        if cp.mac == "forged":
            problems.append(f"the {where} anchor does not carry a valid signature (forged)")
            continue
        entry = session.get(AuditEntry, cp.last_id)
        if entry is None:
            top = session.exec(select(func.max(AuditEntry.id))).one() or 0
            problems.append(f"entries after {top} up to {cp.last_id} are missing (the {where} "
                            f"anchor of {cp.at} names entry {cp.last_id})")
            continue
        if not hmac.compare_digest(entry.hash, cp.last_hash):
            problems.append(f"entry {cp.last_id} is not the one the {where} anchor of {cp.at} "
                            "names (the chain was replaced)")
        if cp.count < 0:
            continue
        n = int(session.exec(select(func.count()).select_from(AuditEntry)
                             .where(col(AuditEntry.id) <= cp.last_id)).one())
        if n != cp.count:
            problems.append(f"{cp.count - n} entries up to {cp.last_id} are missing "
                            f"(the {where} anchor counts {cp.count})")
    return problems


def follow_commits(engine: Engine, path: Path, key: bytes) -> None:
    """Write the local anchor after every commit that appended audit entries through
    sessions on ``engine`` (set up once per process, at the edges)."""
    _ANCHORS[engine] = (path, key)


def note_append(session: Session, entry: AuditEntry) -> None:
    """Called by :func:`audit.record`: remember the newest entry of this transaction."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine not in _ANCHORS:
        return
    if not session.info.get("pv_anchor_hooked"):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
        session.info["pv_anchor_hooked"] = True
    assert entry.id is not None  # flushed: the id and hash are final
    session.info["pv_anchor_head"] = (engine, entry.id, entry.hash)


def _after_rollback(session: Session) -> None:
    session.info.pop("pv_anchor_head", None)


def _after_commit(session: Session) -> None:
    pending = session.info.pop("pv_anchor_head", None)
    if pending is None:
        return
    engine, last_id, last_hash = pending
    path, key = _ANCHORS[engine]
    # No query here: the session's connection is still checked out, and a second one per
    # commit exhausted the pool under parallel sign-ins. The count (-1: not known) is for
    # checkpoints; the chain itself shows a missing middle entry.
    with contextlib.suppress(OSError):
        write_local(path, sign(key, last_id, last_hash, -1), key)
