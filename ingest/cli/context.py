"""What every command shares: settings, the local user's gate, consoles, JSON output."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from papervault.config.errors import Forbidden
from papervault.config.logging import setup_logging
from papervault.config.settings import Settings, load_settings
from papervault.index.accounts import audit, users
from papervault.index.accounts.access import COMMANDS, Open, Principal, allows
from papervault.index.accounts.scope import Hidden
from papervault.index.catalog.db import make_engine, session_scope, upgrade
from papervault.ingest.runtime import Runtime, audit_key

InputFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]

out = Console(soft_wrap=True)  # long paths, hashes and messages stay on one line for scripts
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("papervault")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="PAPERVAULT_CONFIG", help="papervault.toml"),
]


class State:
    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None
        self.authorized = False
        self.principal: Principal | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
            setup_logging(self._settings.log_level, self._settings.log.format)
        return self._settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings, once the local user is allowed to run this command (the CLI's gate)."""
    state: State = ctx.find_root().obj
    s = state.settings
    if not state.authorized:
        state.principal = authorize_command(s, command_key(ctx))
        state.authorized = True
    return s


def principal_of(ctx: typer.Context) -> Principal:
    """Who runs this command (after :func:`settings_of` let them)."""
    state: State = ctx.find_root().obj
    assert state.principal is not None, "settings_of(ctx) first"
    return state.principal


def command_key(ctx: typer.Context) -> str:
    """``"keys rotate"`` for ``papervault keys rotate``: the key of ``index.access.COMMANDS``."""
    names: list[str] = []
    c: typer.Context | None = ctx
    while c is not None and c.parent is not None:
        names.append(c.info_name or "")
        c = c.parent  # type: ignore[assignment]
    return " ".join(reversed(names))


def authorize_command(s: Settings, key: str) -> Principal | None:
    """Apply ``index.access.COMMANDS`` to ``s.actor`` (the named local user); audit refusals.

    The first ``users add`` on an instance without users is allowed: it makes the first admin.
    """

    rule = COMMANDS.get(key)
    if rule is Open.BOOTSTRAP:
        return None
    engine = make_engine(s.db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        if key == "users add" and users.count_users(session) == 0:
            return None
        if rule is None:
            raise Forbidden("forbidden", user=s.actor, roles="-", perm="(no rule)")
        try:
            principal = users.local_principal(session, s.actor, s.access)
        except Forbidden:
            audit.record(session, audit_key(s), s.actor, "access.denied", key,
                         {"needs": str(rule), "reason": "unknown user"})
            session.commit()
            raise
        if not allows(rule, principal):
            audit.record(session, audit_key(s), s.actor, "access.denied", key,
                         {"needs": str(rule)})
            session.commit()
            users.require(principal, rule)  # type: ignore[arg-type]  # raises Forbidden
        return principal


@contextmanager
def hidden_audited(s: Settings) -> Iterator[None]:
    """Audit an attempt, by ID, at something outside the user's scope or clearance (the
    user is told only "not found")."""
    try:
        yield
    except Hidden as e:
        engine = make_engine(s.db_url)
        try:
            with session_scope(engine) as session:
                audit.record(session, audit_key(s), s.actor, "access.filtered",
                             str(e.params.get("target", "")), {"reason": "scope"})
        finally:
            engine.dispose()
        raise


def emit_json(obj: Any) -> None:
    out.file.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    out.file.flush()


def audit_run(rt: Runtime, action: str, target: str, detail: dict[str, object]) -> None:
    """One audit entry for a command that changed or reported on the archive."""
    s = rt.settings
    with session_scope(rt.engine) as session:
        audit.record(session, audit_key(s), s.actor, action, target, detail)
