"""People, roles, one-time passwords and API tokens (administrators)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlmodel import Session, col, select

from papervault.config.errors import BadInput
from papervault.config.settings import Settings
from papervault.index.accounts import audit, users
from papervault.index.accounts.access import parse_roles, roles_text
from papervault.index.catalog.db import make_engine, session_scope
from papervault.index.catalog.models import User
from papervault.ingest.cli.context import emit_json, out, settings_of
from papervault.ingest.runtime import audit_key

app = typer.Typer(help="用户与角色 / users and roles", no_args_is_help=True)


RolesOpt = Annotated[list[str], typer.Option(
    "--role", "-r", help="scanner | officer | auditor | admin (repeat for several)")]


DeptOpt = Annotated[list[str] | None, typer.Option(
    "--department", "-d", help="部门 / department the user works for (repeat; none: every one)")]
ClearanceOpt = Annotated[str | None, typer.Option(
    help="密级 / clearance (access.levels); default: the roles' own")]


def _roles(values: list[str]):  # type: ignore[no-untyped-def]
    try:
        return parse_roles(values)
    except ValueError as e:
        raise BadInput(detail=str(e)) from e


@contextmanager
def _db(s: Settings) -> Iterator[Session]:
    """A session on the index alone: these commands touch no stored object or key."""
    engine = make_engine(s.db_url)
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def _audit(s: Settings, session: Session, action: str, username: str,
           detail: dict[str, object] | None = None) -> None:
    audit.record(session, audit_key(s), s.actor, action, f"user:{username}", detail)


@app.command("list")
def list_users(ctx: typer.Context,
               as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every user with roles, state and last sign-in."""

    s = settings_of(ctx)
    with _db(s) as session:
        rows = list(session.exec(select(User).order_by(col(User.username))))
        tokens = {u.id: sum(1 for t in users.tokens_of(session, u) if t.revoked_at is None)
                  for u in rows}
    for u in rows:
        data = {"username": u.username, "display_name": u.display_name,
                "roles": u.roles.split(), "departments": users.departments_of(u),
                "clearance": u.clearance, "active": u.active, "locked": users.is_locked(u),
                "must_change_password": u.must_change_password,
                "last_login_at": u.last_login_at, "tokens": tokens[u.id]}
        if as_json:
            emit_json(data)
        else:
            state = "active" if u.active else "disabled"
            state += " locked" if data["locked"] else ""
            out.print(f"{u.username:<20} {u.roles:<28} {state:<16} tokens={tokens[u.id]} "
                      f"{_scope_text(u, s)}", markup=False, highlight=False)


@app.command("add")
def add(ctx: typer.Context, username: str, role: RolesOpt,
        name: Annotated[str, typer.Option(help="full name")] = "",
        no_password: Annotated[bool, typer.Option(
            "--no-password", help="no web sign-in: a local CLI or token-only account")] = False,
        department: DeptOpt = None,
        clearance: ClearanceOpt = None,
        ) -> None:
    """Add a user; prints a one-time password (changed at first sign-in)."""
    s = settings_of(ctx)
    wanted = _roles(role)
    with _db(s) as session:
        _, password = users.add_user(session, username, wanted, s.actor, name,
                                     with_password=not no_password)
        user = users.set_scope(session, username, department or [], clearance, s.access)
        _audit(s, session, "user.add", username, {"roles": roles_text(wanted),
                                                  **_scope_detail(user, s)})
    out.print(f"已添加 / added: {username} ({roles_text(wanted)}) {_scope_text(user, s)}")
    if password:
        out.print(f"一次性密码 / one-time password (shown only now): {password}",
                  markup=False, highlight=False)


@app.command("roles")
def set_roles(ctx: typer.Context, username: str, role: RolesOpt) -> None:
    """Replace a user's roles."""
    s = settings_of(ctx)
    wanted = _roles(role)
    with _db(s) as session:
        users.set_roles(session, username, wanted)
        _audit(s, session, "user.roles", username, {"roles": roles_text(wanted)})
    out.print(f"{username}: {roles_text(wanted)}")


def _scope_detail(user: User, s: Settings) -> dict[str, object]:
    return users.scope_detail(user, s.access)


def _scope_text(user: User, s: Settings) -> str:
    deps = ",".join(users.departments_of(user)) or "*"
    top = users.top_level(user, s.access)
    return f"departments={deps} clearance={top}"


@app.command("scope")
def set_scope(ctx: typer.Context, username: str, department: DeptOpt = None,
              clearance: ClearanceOpt = None,
              every: Annotated[bool, typer.Option(
                  "--all-departments", help="lift the department limit")] = False) -> None:
    """Limit a user to departments (replaces theirs) and/or set their clearance."""
    s = settings_of(ctx)
    if not department and not every and clearance is None:
        raise BadInput(detail="give --department, --all-departments or --clearance")
    with _db(s) as session:
        user = users.get_user(session, username)
        deps = [] if every else (department or users.departments_of(user))
        user = users.set_scope(session, username, deps, clearance, s.access)
        _audit(s, session, "user.scope", username, _scope_detail(user, s))
    out.print(f"{username}: {_scope_text(user, s)}", markup=False, highlight=False)


def _set_active(ctx: typer.Context, username: str, active: bool) -> None:
    s = settings_of(ctx)
    with _db(s) as session:
        users.set_active(session, username, active)
        _audit(s, session, "user.enable" if active else "user.disable", username)
    out.print(f"{username}: {'active' if active else 'disabled'}")


@app.command("disable")
def disable(ctx: typer.Context, username: str) -> None:
    """Disable a user (their sessions end at once; tokens stop working)."""
    _set_active(ctx, username, False)


@app.command("enable")
def enable(ctx: typer.Context, username: str) -> None:
    """Enable a disabled user again."""
    _set_active(ctx, username, True)


@app.command("reset-password")
def reset_password(ctx: typer.Context, username: str) -> None:
    """A new one-time password (sessions end; the user must change it at sign-in)."""
    s = settings_of(ctx)
    with _db(s) as session:
        password = users.reset_password(session, username)
        _audit(s, session, "user.reset_password", username)
    out.print(f"一次性密码 / one-time password (shown only now): {password}",
              markup=False, highlight=False)


@app.command("unlock")
def unlock(ctx: typer.Context, username: str) -> None:
    """Lift a lockout after too many failed sign-ins."""
    s = settings_of(ctx)
    with _db(s) as session:
        users.unlock(session, username)
        _audit(s, session, "user.unlock", username)
    out.print(f"{username}: unlocked")


@app.command("token-create")
def token_create(ctx: typer.Context, username: str,
                 name: Annotated[str, typer.Option(help="what it is for, e.g. crm")]) -> None:
    """An API token acting as USERNAME (with their roles); printed once."""
    s = settings_of(ctx)
    with _db(s) as session:
        user = users.get_user(session, username)
        row, token = users.create_token(session, user, name)
        audit.record(session, audit_key(s), s.actor, "token.create", f"token:{row.id}",
                     {"user": username, "name": row.name})
    out.print(f"令牌 / token {row.id} for {username} (shown only now): {token}",
              markup=False, highlight=False)


@app.command("token-list")
def token_list(ctx: typer.Context, username: str) -> None:
    """A user's tokens (prefix only) and when each was last used."""
    s = settings_of(ctx)
    with _db(s) as session:
        rows = users.tokens_of(session, users.get_user(session, username))
    for t in rows:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        out.print(f"{t.id:>5} {t.prefix}… {t.name:<20} {state:<18} {used}", markup=False,
                  highlight=False)


@app.command("token-revoke")
def token_revoke(ctx: typer.Context, token_id: int) -> None:
    """Revoke a token at once."""
    s = settings_of(ctx)
    with _db(s) as session:
        users.revoke_token(session, token_id)
        audit.record(session, audit_key(s), s.actor, "token.revoke", f"token:{token_id}")
    out.print(f"已吊销 / revoked: {token_id}")
