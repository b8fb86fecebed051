"""Security review H1: the local S3 server's filer and volume ports refuse unsigned
requests and its gRPC ports refuse clients without this run's certificate; S3 with the
keys keeps working."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from papervault.storage.localserver import LocalS3, weed_binary
from papervault.storage.objects import ObjectStore


def _status(method: str, url: str, data: bytes | None = None) -> int:
    req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - loopback
                                 headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_internal_ports_refuse_unsigned_requests_while_s3_works(
    s3_server: LocalS3, store: ObjectStore, tmp_path: Path,
) -> None:
    """GIVEN an object stored through S3 WHEN another local account lists, reads and
    deletes it through the filer and volume HTTP APIs (the review's curl commands)
    THEN every request is refused and the object is still there."""
    store.ensure_bucket()
    obj = store.put_file(io.BytesIO(b"client file " * 500))
    bucket = store.bucket
    filer = f"http://127.0.0.1:{s3_server.ports['filer']}"
    volume = f"http://127.0.0.1:{s3_server.ports['volume']}"
    listing = f"{filer}/buckets/{bucket}/o/"
    assert _status("GET", listing) == 401
    assert _status("GET", f"{filer}/buckets/{bucket}/{obj.name}") == 401
    assert _status("DELETE", f"{filer}/buckets/{bucket}/{obj.name}?recursive=true") == 401
    assert _status("DELETE", f"{filer}/buckets/{bucket}?recursive=true") == 401
    assert _status("POST", f"{volume}/1,01637037d6", data=b"x") == 401
    assert _status("GET", f"{volume}/1,01637037d6") == 401
    assert store.raw_bytes(obj.name)  # still stored, still readable with the keys


@pytest.mark.timeout(90)
def test_grpc_refuses_a_client_without_the_certificate(s3_server: LocalS3,
                                                        tmp_path: Path) -> None:
    """``weed shell`` is the tool any local account has; without this run's client
    certificate it cannot even list the collections."""
    env = {k: v for k, v in os.environ.items() if k != "HOME"} | {"HOME": str(tmp_path)}
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv
            [weed_binary(), "shell", f"-master=127.0.0.1:{s3_server.ports['master']}"],
            input=b"collection.list\nexit\n", capture_output=True, timeout=20,
            cwd=tmp_path, env=env, check=False,
        ).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
    assert b"collection:" not in out


def test_security_files_are_private(s3_server: LocalS3) -> None:
    for path in [s3_server.data_dir / "security.toml",
                 *(s3_server.data_dir / "tls").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
