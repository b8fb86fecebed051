"""Security review M4 (tokens outliving a reset, skipping the one-time-password gate) and
M9 (search snippets missing from the client's audit trail)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.access import Role
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.web.app import create_app
from tests.integration.test_access import ROLE_USERS, Office, office  # noqa: F401
from tests.integration.test_search_access import CLIENT, ingest_claim


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_reset_revokes_the_users_tokens(office: Office) -> None:  # noqa: F811
    """GIVEN an officer's token (made by an intruder with their session) WHEN an admin
    resets the officer's password THEN the token is refused at once."""
    token = office.tokens[Role.OFFICER]
    assert office.web.get("/api/me", headers=_bearer(token)).status_code == 200
    engine = make_engine(office.settings.db_url)
    with session_scope(engine) as s:
        users.reset_password(s, ROLE_USERS[Role.OFFICER])
    engine.dispose()
    assert office.web.get("/api/me", headers=_bearer(token)).status_code == 401


def test_token_of_a_user_who_must_change_the_password_is_refused(office: Office) -> None:  # noqa: F811
    engine = make_engine(office.settings.db_url)
    with session_scope(engine) as s:
        user, _ = users.add_user(s, "new.officer", frozenset({Role.OFFICER}), by="test")
        _, token = users.create_token(s, user, "before-first-sign-in")
    engine.dispose()
    assert office.web.get("/api/search?q=x", headers=_bearer(token)).status_code == 403


def test_search_snippets_count_as_reads_of_the_client(instance: Callable[..., Settings],
                                                      tmp_path: Path) -> None:
    s = instance(actor="li.officer")
    doc_id, _ = ingest_claim(s, tmp_path / "scans")
    with TestClient(create_app(s), client=("127.0.0.1", 5000)) as web:
        before = web.get("/api/audit", params={"client_id": CLIENT}).json()["total"]
        assert web.get("/api/search", params={"q": "理赔"}).json()["total"] == 1
        after = web.get("/api/audit", params={"client_id": CLIENT}).json()
    assert after["total"] == before + 1
    search = [e for e in after["entries"] if e["action"] == "search"]
    assert search and search[0]["detail"]["documents"] == [doc_id]


def test_cli_entries_name_the_os_account_beside_the_claimed_actor(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    """M7: PAPERVAULT_ACTOR claims a user; the OS account that ran the command is in the
    entry's origin, and auditors can filter on it."""
    import getpass
    import json

    from typer.testing import CliRunner

    from papervault.ingest.cli import app
    from tests.conftest import write_config

    s = instance(actor="li.officer")
    cfg = write_config(s, tmp_path / "pv.toml")
    runner = CliRunner()
    assert runner.invoke(app, ["-c", str(cfg), "search", "理赔"]).exit_code == 0
    res = runner.invoke(app, ["-c", str(cfg), "audit", "log", "--json", "--action", "search",
                              "--origin", f"cli {getpass.getuser()}@"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert rows and all(r["actor"] == "li.officer" for r in rows)
