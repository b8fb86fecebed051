"""Who is asking (session cookie, API token or the login-less local user) and CSRF tokens.

CSRF: every form carries ``HMAC(session key, seed)`` where the seed is the session cookie,
or, before sign-in, a random ``pv_csrf`` cookie (double submit). Nothing of it is stored.
API calls with a bearer token carry no ambient authority and need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from sqlmodel import Session

from papervault.config.errors import NotSignedIn, PapervaultError
from papervault.config.settings import Settings
from papervault.index.accounts.access import Principal
from papervault.index.accounts.users import local_principal, principal_of, session_user, token_user

SESSION_COOKIE = "pv_session"
CSRF_COOKIE = "pv_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(PapervaultError):
    exit_code = 77
    http_status = 403
    key = "csrf_failed"


def identify(request: Request, session: Session) -> Principal | None:
    """The principal behind ``request``, or None when nobody is signed in.

    A bearer token that is wrong or revoked is an error at once (integrations must learn),
    while a stale cookie only means "not signed in".
    """
    settings: Settings = request.app.state.settings
    cfg = settings.access
    if not cfg.login:
        return local_principal(session, settings.actor, cfg)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user, token = token_user(session, auth[7:].strip())
        return principal_of(user, cfg, via="token", token_id=token.id)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            user, row = session_user(session, cookie, cfg)
        except NotSignedIn:
            return None
        return principal_of(user, cfg, via="session", session_id=row.id)
    return None


def _seed(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)


def _sign(request: Request, seed: str) -> str:
    key: bytes = request.app.state.session_key
    return hmac.new(key, b"csrf|" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token for this browser's forms; makes a ``pv_csrf`` seed when it has none yet."""
    seed = getattr(request.state, "new_csrf_seed", None) or _seed(request)
    if seed is None:
        seed = secrets.token_urlsafe(32)
        request.state.new_csrf_seed = seed
    return _sign(request, seed)


def new_csrf_seed(request: Request) -> str | None:
    """A seed made while rendering this response (the caller sets it as a cookie)."""
    return getattr(request.state, "new_csrf_seed", None)


def check_csrf(request: Request, submitted: str | None) -> None:
    """CsrfFailed unless ``submitted`` (form field or header) matches this browser's token."""
    seed = _seed(request)
    if not seed or not submitted or not hmac.compare_digest(_sign(request, seed), submitted):
        raise CsrfFailed()
