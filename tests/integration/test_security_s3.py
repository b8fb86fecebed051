"""Security review H1: the local S3 server's master, volume and filer HTTP ports refuse
requests without this run's client certificate or a signed JWT, its gRPC ports refuse
clients without the certificate; S3 with the keys keeps working."""

from __future__ import annotations

import io
import os
import ssl
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from papervault.storage.localserver import LocalS3, weed_binary
from papervault.storage.objects import ObjectStore


def _status(method: str, url: str, data: bytes | None = None) -> int:
    """The HTTP status, or 0 when the server hung up on us (TLS without a client
    certificate, or plain HTTP to its TLS port)."""
    req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - loopback
                                 headers={"Accept": "application/json"})
    # An attacker would skip server verification too; only the client certificate matters.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:  # noqa: S310
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except urllib.error.URLError as e:
        if isinstance(e.reason, ssl.SSLError | ConnectionResetError):
            return 0
        raise
    except (ssl.SSLError, ConnectionResetError):  # TLS 1.3 alerts after the handshake;
        # plain HTTP to the TLS port is closed unread
        return 0


def _refused(status: int) -> bool:
    return status == 0 or status in (400, 401, 403)


def test_internal_ports_refuse_unauthenticated_requests_while_s3_works(
    s3_server: LocalS3, store: ObjectStore, tmp_path: Path,
) -> None:
    """GIVEN an object stored through S3 WHEN another local account lists, reads and
    deletes through the filer, volume and master HTTP APIs (the review's curl commands,
    and the master's collection delete) THEN every request is refused and the object
    is still there."""
    store.ensure_bucket()
    obj = store.put_file(io.BytesIO(b"client file " * 500))
    bucket = store.bucket
    filer = f"http://127.0.0.1:{s3_server.ports['filer']}"
    listing = f"{filer}/buckets/{bucket}/o/"
    assert _status("GET", listing) == 401
    assert _status("GET", f"{filer}/buckets/{bucket}/{obj.name}") == 401
    assert _status("DELETE", f"{filer}/buckets/{bucket}/{obj.name}?recursive=true") == 401
    assert _status("DELETE", f"{filer}/buckets/{bucket}?recursive=true") == 401
    for scheme in ("http", "https"):
        volume = f"{scheme}://127.0.0.1:{s3_server.ports['volume']}"
        master = f"{scheme}://127.0.0.1:{s3_server.ports['master']}"
        attempts = [
            ("POST", f"{volume}/1,01637037d6"), ("GET", f"{volume}/1,01637037d6"),
            ("DELETE", f"{volume}/1,01637037d6"),
            ("GET", f"{master}/col/delete?collection={bucket}"),
            ("POST", f"{master}/col/delete?collection={bucket}"),
            ("GET", f"{master}/vol/grow?count=1"), ("GET", f"{master}/dir/assign"),
            ("GET", f"{master}/dir/status"),
        ]
        for method, url in attempts:
            status = _status(method, url, data=b"x" if method == "POST" else None)
            assert _refused(status), (method, url, status)
    assert store.raw_bytes(obj.name)  # still stored, still readable with the keys
    # Everything stored since is readable too: the collection itself was not dropped.
    again = store.put_file(io.BytesIO(b"after the attempts " * 100))
    assert store.raw_bytes(again.name)


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


def test_local_sockets_are_closed_to_other_accounts(s3_server: LocalS3) -> None:
    """weed also serves its HTTP and gRPC handlers on unix sockets in /tmp; connecting
    to one needs write permission on it, which only the server's own account has."""
    ports = {s3_server.port, *s3_server.ports.values()}
    ports |= {p + 10000 for p in ports}
    ours = [path for path in Path("/tmp").glob("seaweedfs-*.sock")
            if int(path.stem.rsplit("-", 1)[1]) in ports
            and path.stat().st_uid == os.getuid()]
    assert ours, "weed made no local sockets: the check below would prove nothing"
    for path in ours:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & (stat.S_IWGRP | stat.S_IWOTH), (path, oct(mode))
