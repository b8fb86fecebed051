"""Security review M2 and M8: X-Forwarded-For is believed only from configured proxies,
and the web app answers only to its own host names (DNS rebinding)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import httpx
import uvicorn
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from papervault.config.settings import Settings
from papervault.index.catalog.db import make_engine
from papervault.index.catalog.models import AuditEntry
from papervault.index.web.app import create_app
from papervault.storage.localserver import free_port
from tests.conftest import wait_until


def test_a_rebinding_host_name_is_refused_even_with_login_off(
    instance: Callable[..., Settings],
) -> None:
    """The review's ``Host: rebind.evil.example`` got the whole original with login off."""
    s = instance()  # login off: the UI acts as the local user
    with TestClient(create_app(s)) as web:
        assert web.get("/api/me", headers={"Host": "rebind.evil.example:8721"}
                       ).status_code == 400
        assert web.get("/api/me", headers={"Host": "127.0.0.1:8721"}).status_code == 200
        assert web.get("/api/me", headers={"Host": "localhost"}).status_code == 200


def _origins(s: Settings) -> list[str]:
    engine = make_engine(s.db_url)
    with Session(engine) as db:
        rows = db.exec(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    engine.dispose()
    return [r.origin for r in rows]


def _serve_and_guess(s: Settings, forwarded: str) -> list[str]:
    port = s.web.port
    server = uvicorn.Server(uvicorn.Config(create_app(s), host="127.0.0.1", port=port,
                                           log_level="warning", **s.web.uvicorn_options()))  # type: ignore[arg-type]
    t = threading.Thread(target=server.run, name="test-web")
    t.start()
    try:
        wait_until(lambda: server.started, timeout=30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
            assert m is not None
            r = c.post("/login", data={"username": "nobody", "password": "x",
                                       "csrf": m.group(1)},
                       headers={"X-Forwarded-For": forwarded})
            assert r.status_code == 401
    finally:
        server.should_exit = True
        t.join(timeout=30)
    return _origins(s)


def test_forwarded_for_from_a_local_client_is_ignored(instance: Callable[..., Settings]
                                                      ) -> None:
    """GIVEN no trusted proxy WHEN a loopback client claims X-Forwarded-For: 10.9.9.9
    THEN the audit origin is the real peer (throttle and origin cannot be forged)."""
    s = instance(access={"login": True}, web={"port": free_port()})
    assert _serve_and_guess(s, "10.9.9.9") == ["web 127.0.0.1"]


def test_forwarded_for_from_a_configured_proxy_is_used(instance: Callable[..., Settings]
                                                       ) -> None:
    s = instance(access={"login": True},
                 web={"port": free_port(), "trusted_proxies": ["127.0.0.1"]})
    assert _serve_and_guess(s, "10.9.9.9") == ["web 10.9.9.9"]
