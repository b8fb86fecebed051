"""Users, passwords (argon2id), sign-in sessions and API tokens.

Only hashes reach the database: argon2id for passwords, SHA-256 for session cookies and API
tokens (both 256-bit random, so a fast hash is enough and lookups stay indexed). Tokens and
one-time passwords are returned once to the caller and never logged.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from papervault.config.errors import BadInput, Forbidden, NotFound, NotSignedIn
from papervault.config.settings import AccessSettings
from papervault.index.accounts.access import (
    Perm,
    Principal,
    Role,
    parse_roles,
    permissions,
    roles_text,
)
from papervault.index.accounts.audit import lock_chain
from papervault.index.accounts.scope import Scope, highest, make_scope
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import ApiToken, AuditEntry, LoginSession, User, utcnow

TOKEN_PREFIX = "pv_"
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_password() -> str:
    """A one-time password a person can type (about 95 bits)."""
    return secrets.token_urlsafe(12)


def check_password_rules(username: str, password: str, cfg: AccessSettings) -> None:
    if len(password) < cfg.min_password_length or password.lower() == username.lower():
        raise BadInput("password_weak", min=cfg.min_password_length)


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise NotFound(what=f"user {username}")
    return user


def user_roles(user: User) -> frozenset[Role]:
    return parse_roles(user.roles)


def departments_of(user: User) -> list[str]:
    return [d for d in user.departments.splitlines() if d.strip()]


def scope_of(user: User, cfg: AccessSettings) -> Scope:
    """The user's departments and clearance (their own, else their roles' highest)."""
    clearance = user.clearance or highest(
        cfg.levels, (cfg.role_clearance.get(r.value) for r in user_roles(user)))
    return make_scope(departments_of(user), clearance, cfg.levels, cfg.default_level,
                      cfg.type_levels)


def top_level(user: User, cfg: AccessSettings) -> str:
    """The highest 密级 the user may see (their own clearance, else their roles')."""
    scope = scope_of(user, cfg)
    return cfg.levels[-1] if scope.levels is None else max(scope.levels, key=cfg.levels.index)


def scope_detail(user: User, cfg: AccessSettings) -> dict[str, object]:
    """The user's scope for an audit entry (the CLI's and the web's ``user.scope``)."""
    scope = scope_of(user, cfg)
    return {"departments": departments_of(user) or "*",
            "clearance": user.clearance or "(roles)",
            "levels": sorted(scope.levels) if scope.levels is not None else "*"}


def split_departments(text: str) -> list[str]:
    """Departments typed in one box: separated by commas (either width), 、 or new lines."""
    return [d.strip() for d in re.split(r"[,，、;；\n]+", text) if d.strip()]


def set_scope(session: Session, username: str, departments: list[str],
              clearance: str | None, cfg: AccessSettings) -> User:
    """Limit a user to ``departments`` (empty: every department) and set their clearance
    (None: keep it; ``""``: back to their roles' clearance)."""
    user = get_user(session, username)
    user.departments = "\n".join(sorted({d.strip() for d in departments if d.strip()}))
    if clearance is not None:
        if clearance and clearance not in cfg.levels:
            raise BadInput("bad_clearance", clearance=clearance, levels=" ".join(cfg.levels))
        user.clearance = clearance or None
    session.add(user)
    return user


def principal_of(user: User, cfg: AccessSettings, via: str, session_id: int | None = None,
                 token_id: int | None = None) -> Principal:
    roles = user_roles(user)
    return Principal(username=user.username, roles=roles,
                     perms=permissions(roles, cfg.auditor_sees_content), via=via,
                     scope=scope_of(user, cfg),
                     # Tokens too (review M4): a one-time password not yet changed must
                     # not be worked around with a token. Password-less service accounts
                     # have nothing to change.
                     must_change_password=user.must_change_password
                     and user.password_hash is not None,
                     session_id=session_id, token_id=token_id,
                     display_name=user.display_name or "")


def count_users(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User)).one())


def add_user(session: Session, username: str, roles: frozenset[Role], by: str,
             display_name: str = "", with_password: bool = True) -> tuple[User, str | None]:
    """Create a user; returns it and its one-time password (to show once) if it has one."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise BadInput("bad_username")
    if not roles:
        raise BadInput("no_roles", roles=", ".join(r.value for r in Role))
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise BadInput("user_exists", user=username)
    password = new_password() if with_password else None
    user = User(username=username, display_name=display_name, roles=roles_text(roles),
                password_hash=_hasher.hash(password) if password else None,
                must_change_password=True, created_by=by)
    session.add(user)
    session.flush()
    return user, password


def _admins(session: Session) -> list[User]:
    return [u for u in session.exec(select(User).where(col(User.active)))
            if Role.ADMIN in user_roles(u)]


def set_roles(session: Session, username: str, roles: frozenset[Role]) -> User:
    user = get_user(session, username)
    if not roles:
        raise BadInput("no_roles", roles=", ".join(r.value for r in Role))
    if Role.ADMIN in user_roles(user) and Role.ADMIN not in roles and len(_admins(session)) <= 1:
        raise Forbidden("last_admin")
    user.roles = roles_text(roles)
    session.add(user)
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    user = get_user(session, username)
    if not active and user.active and Role.ADMIN in user_roles(user) \
            and len(_admins(session)) <= 1:
        raise Forbidden("last_admin")
    user.active = active
    session.add(user)
    if not active:
        end_sessions(session, user)
    return user


def reset_password(session: Session, username: str) -> str:
    """A new one-time password (shown once); every session and API token of the user
    ends: a reset answers a suspected compromise, and a token the intruder made would
    otherwise outlive it (review M4)."""
    user = get_user(session, username)
    password = new_password()
    user.password_hash = _hasher.hash(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    end_sessions(session, user)
    now = utcnow()
    for t in tokens_of(session, user):
        if t.revoked_at is None:
            t.revoked_at = now
            session.add(t)
    return password


def unlock(session: Session, username: str) -> User:
    user = get_user(session, username)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    ok: bool
    reason: str  # "ok" | "unknown_user" | "bad_password" | "locked" | "disabled" | "locked_now"


def check_login(engine: Engine, username: str, password: str, cfg: AccessSettings,
                now: datetime | None = None) -> LoginResult:
    """Verify a password, counting failures and locking the account after too many.

    The attempt is counted *before* the ~150 ms argon2 check, in its own transaction under
    a row lock (security review H4): read-check-write around the hash let 30 parallel
    guesses all be checked and leave the account unlocked. So at most
    ``max_failed_logins`` guesses are ever checked per lockout period.
    """
    now = now or utcnow()
    with session_scope(engine) as session:
        user, n, verdict = _reserve_attempt(session, username.strip(), cfg, now)
        if user is not None:
            session.expunge(user)
    if verdict is not None:
        if verdict == "unknown_user":
            _verify(_DUMMY_HASH, password)  # same time as a wrong password
        return LoginResult(user, False, verdict)
    assert user is not None and user.password_hash is not None
    ok = _verify(user.password_hash, password)
    with session_scope(engine) as session:
        row = _locked_row(session, user.username)
        assert row is not None
        if not ok:
            reason = "bad_password"
            if n >= cfg.max_failed_logins:
                row.locked_until = now + timedelta(minutes=cfg.lockout_minutes)
                row.failed_logins = 0
                reason = "locked_now"
            session.add(row)
            session.flush()
            session.expunge(row)
            return LoginResult(row, False, reason)
        if not row.active:
            session.expunge(row)
            return LoginResult(row, False, "disabled")
        row.failed_logins = 0
        row.locked_until = None
        row.last_login_at = now
        if _hasher.check_needs_rehash(user.password_hash):
            row.password_hash = _hasher.hash(password)
        session.add(row)
        session.flush()
        session.expunge(row)
        return LoginResult(row, True, "ok")


def _locked_row(session: Session, username: str) -> User | None:
    """The user's row, locked until the transaction ends: ``FOR UPDATE`` on PostgreSQL;
    on SQLite a write first, which takes the database's write lock before the read."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().execute(
            update(User).where(col(User.username) == username).values(
                failed_logins=User.failed_logins))
    return session.exec(
        select(User).where(User.username == username).with_for_update()).first()


def _reserve_attempt(session: Session, username: str, cfg: AccessSettings, now: datetime
                     ) -> tuple[User | None, int, str | None]:
    """Count this attempt; the verdict is set when the password must not be checked."""
    user = _locked_row(session, username)
    if user is None or not user.password_hash:
        return user, 0, "unknown_user"
    if is_locked(user, now):
        return user, 0, "locked"
    if user.locked_until is not None:  # a lock that has run out starts a fresh count
        user.locked_until = None
        user.failed_logins = 0
    if user.failed_logins >= cfg.max_failed_logins:
        # Guesses already in flight used every attempt: lock without checking this one.
        user.locked_until = now + timedelta(minutes=cfg.lockout_minutes)
        user.failed_logins = 0
        session.add(user)
        return user, 0, "locked_now"
    user.failed_logins += 1
    session.add(user)
    session.flush()
    return user, user.failed_logins, None


def address_throttled(session: Session, origin: str, cfg: AccessSettings,
                      now: datetime | None = None) -> bool:
    """Whether ``origin`` ("web 10.0.0.7") has too many sign-ins that did not succeed
    lately, whatever the user names. Counted from the audit trail under its append lock,
    with attempts still being checked included (``login.attempt`` is written before the
    password is checked), so parallel guesses cannot all slip under the limit (H4)."""
    lock_chain(session)
    since = (now or utcnow()) - timedelta(minutes=cfg.lockout_minutes)

    def n(action: str) -> int:
        return int(session.exec(
            select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.origin == origin,
                col(AuditEntry.at) >= since)
        ).one())

    return n("login.attempt") - n("login") >= cfg.max_failed_logins_per_address


def audit_name(session: Session, typed: str) -> str:
    """``typed`` if it names an account, else a short hash of it."""
    if session.exec(select(User.id).where(User.username == typed)).first() is not None:
        return typed
    return "unknown:" + sha256(typed)[:12]


def recently(session: Session, action: str, origin: str, seconds: float) -> bool:
    """Whether ``origin`` has an ``action`` entry in the last ``seconds``."""
    since = utcnow() - timedelta(seconds=seconds)
    return session.exec(select(AuditEntry.id).where(
        AuditEntry.action == action, AuditEntry.origin == origin,
        col(AuditEntry.at) >= since).limit(1)).first() is not None


def change_password(session: Session, user: User, current: str, new: str,
                    cfg: AccessSettings) -> None:
    if not user.password_hash or not _verify(user.password_hash, current):
        raise BadInput("current_password_wrong")
    if new == current:
        raise BadInput("password_same")
    check_password_rules(user.username, new, cfg)
    user.password_hash = _hasher.hash(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.add(user)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and _aware(user.locked_until) > (now or utcnow())


def _aware(t: datetime) -> datetime:
    from datetime import UTC

    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


# -- sessions ------------------------------------------------------------------------------


def start_session(session: Session, user: User, cfg: AccessSettings, origin: str) -> str:
    """A fresh session for ``user``: its cookie value (never reused from before sign-in)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(LoginSession(token_hash=sha256(token), user_id=user.id or 0, created_at=now,
                             last_seen_at=now, origin=origin[:128],
                             expires_at=now + timedelta(hours=cfg.session_hours)))
    session.flush()
    return token


def session_user(session: Session, token: str, cfg: AccessSettings) -> tuple[User, LoginSession]:
    """The user behind a session cookie, or NotSignedIn (expired, idle, revoked, disabled)."""
    row = session.exec(select(LoginSession).where(LoginSession.token_hash == sha256(token))
                       ).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now \
            or _aware(row.last_seen_at) + timedelta(minutes=cfg.idle_minutes) <= now:
        raise NotSignedIn()
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise NotSignedIn()
    # Write the idle clock at most once a minute: every page view need not be a write.
    if now - _aware(row.last_seen_at) > timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)
    return user, row


def end_session(session: Session, session_id: int) -> None:
    row = session.get(LoginSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)


def end_sessions(session: Session, user: User, keep: int | None = None) -> None:
    """End every session of ``user`` (except ``keep``): after a password change or reset."""
    for row in session.exec(select(LoginSession).where(LoginSession.user_id == user.id,
                                                       col(LoginSession.revoked_at).is_(None))):
        if row.id != keep:
            row.revoked_at = utcnow()
            session.add(row)


# -- API tokens -----------------------------------------------------------------------------


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the token itself (shown once)."""
    name = name.strip() or "api"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id or 0, name=name[:128], token_hash=sha256(token),
                   prefix=token[:10])
    session.add(row)
    session.flush()
    return row, token


def token_user(session: Session, token: str) -> tuple[User, ApiToken]:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == sha256(token))).first()
    if row is None or row.revoked_at is not None:
        raise NotSignedIn()
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise NotSignedIn()
    now = utcnow()
    if row.last_used_at is None or now - _aware(row.last_used_at) > timedelta(minutes=1):
        row.last_used_at = now
        session.add(row)
    return user, row


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id)
                             .order_by(col(ApiToken.id))))


def revoke_token(session: Session, token_id: int, owner: User | None = None) -> ApiToken:
    """Revoke a token (only the owner's own, when ``owner`` is given)."""
    row = session.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner.id):
        raise NotFound(what=f"token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
    return row


def local_principal(session: Session, username: str, cfg: AccessSettings) -> Principal:
    """The CLI's (or the login-less web UI's) named local user."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise Forbidden("unknown_local_user", user=username)
    return principal_of(user, cfg, via="local")


def require(principal: Principal, perm: Perm) -> None:
    if not principal.can(perm):
        raise Forbidden("forbidden", user=principal.username,
                        roles=" ".join(sorted(principal.roles)) or "-", perm=perm.value)


def ensure_user(session: Session, username: str, roles: frozenset[Role], by: str) -> User:
    """``username`` with exactly ``roles``, made without a password if missing (service and
    test accounts acting locally)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user, _ = add_user(session, username, roles, by, with_password=False)
        return user
    user.roles = roles_text(roles)
    user.active = True
    session.add(user)
    return user
