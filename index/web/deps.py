"""What every route may ask for: the instance's settings, engine and store, the caller and
the request's language, and the audit trail.

Routes take them as typed parameters (``engine: EngineDep``) or call :func:`ui` and
:func:`audit`; ``request.app.state`` is read here and nowhere else in the routers.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from papervault.config.messages import CATALOGUE, Lang, text
from papervault.config.settings import Settings
from papervault.index.accounts.access import Perm, Principal
from papervault.index.archive import Auditor
from papervault.storage.objects import ObjectStore

LANG_COOKIE = "pv_lang"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def store_of(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.store
    return store


def principal_of(request: Request) -> Principal:
    """The signed-in caller (the gate has run: routes with a rule always have one)."""
    principal: Principal = request.state.principal
    return principal


SettingsDep = Annotated[Settings, Depends(settings_of)]
EngineDep = Annotated[Engine, Depends(engine_of)]
StoreDep = Annotated[ObjectStore, Depends(store_of)]
PrincipalDep = Annotated[Principal, Depends(principal_of)]


@dataclass(frozen=True)
class Ui:
    """Per-request language, actor and audit origin."""

    lang: Lang
    actor: str
    origin: str
    principal: Principal | None = None

    def can(self, perm: str) -> bool:
        return self.principal is not None and self.principal.can(Perm(perm))

    def t(self, key: str, **params: object) -> str:
        """Catalogue text in this request's language (the key itself if unknown)."""
        return text(key, self.lang, **params) if key in CATALOGUE else key


def request_lang(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in ("zh", "en"):
        return "en" if asked == "en" else "zh"
    return settings_of(request).language


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def ui(request: Request) -> Ui:
    """The :class:`Ui` of ``request``: language, the acting user, origin."""
    principal: Principal | None = getattr(request.state, "principal", None)
    kind = "api" if request.url.path.startswith("/api/") else "web"
    if principal is not None and principal.via == "token":
        kind += f" token:{principal.token_id}"
    return Ui(lang=request_lang(request), actor=principal.username if principal else "-",
              origin=f"{kind} {client_ip(request)}", principal=principal)


UiDep = Annotated[Ui, Depends(ui)]


def audit(request: Request, session: Session, action: str, target: str = "",
          detail: dict[str, object] | None = None, actor: str | None = None) -> None:
    """Record ``action`` by the caller (or ``actor``) in the audit trail, in ``session``."""
    u = ui(request)
    auditor: Auditor = request.app.state.auditor
    auditor.record(session, actor or u.actor, action, target, detail, origin=u.origin)


def single_valued(request: Request) -> None:
    """API routes refuse a query parameter given twice: FastAPI reads the last one, a proxy
    or log may read the first (parameter pollution), and the schema names each once."""
    from papervault.config.errors import BadInput

    twice = sorted({k for k, _ in request.query_params.multi_items()
                    if len(request.query_params.getlist(k)) > 1})
    if twice:
        raise BadInput(detail=f"given more than once: {', '.join(twice)}")
