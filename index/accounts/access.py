"""Who may do what: the one permission matrix for the web UI, the REST API and the CLI.

Each web route (``"METHOD /path"``) and each CLI command (``"keys rotate"``) has exactly one
rule here. The web app checks it in one dependency (``index.web.gate.authorize``), the CLI in
``ingest.cli.settings_of``; a route or command without a rule is refused, and the tests walk
the router and the command tree so a new one without a rule fails them.

Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from papervault.index.accounts.scope import Scope


class Role(StrEnum):
    SCANNER = "scanner"    # 扫描员: drops scans, watches the queue
    OFFICER = "officer"    # 档案员: searches, reads, downloads, links
    AUDITOR = "auditor"    # 审计员: coverage, verification, spot checks, the audit trail
    ADMIN = "admin"        # 管理员: users, roles, keys, running the services


class Perm(StrEnum):
    INGEST = "ingest"
    STATUS = "status"
    SEARCH = "search"
    VIEW_METADATA = "view_metadata"
    VIEW_CONTENT = "view_content"
    DOWNLOAD = "download"
    LINK = "link"
    REGISTERS = "registers"
    PAPER_REGISTER = "paper_register"
    COVERAGE = "coverage"
    VERIFY = "verify"
    QA = "qa"
    AUDIT_LOG = "audit_log"
    DISPOSE = "dispose"  # propose destroying expired records, and run an approved proposal
    APPROVE_DISPOSAL = "approve_disposal"  # a different person: the auditor
    USERS = "users"
    KEYS = "keys"
    OPERATE = "operate"


class Open(StrEnum):
    """Rules that are not a permission."""

    PUBLIC = "public"          # no login: the login page itself, static files
    SIGNED_IN = "signed_in"    # any signed-in user: their own account, sign-out, the landing page
    BOOTSTRAP = "bootstrap"    # CLI only: creating an instance (no users exist yet)
    PROBE = "probe"            # health and metrics probes: nobody is identified at all


Rule = Perm | Open

GRANTS: dict[Role, frozenset[Perm]] = {
    Role.SCANNER: frozenset({Perm.INGEST, Perm.STATUS}),
    Role.OFFICER: frozenset({Perm.STATUS, Perm.SEARCH, Perm.VIEW_METADATA, Perm.VIEW_CONTENT,
                             Perm.DOWNLOAD, Perm.LINK, Perm.REGISTERS,
                             Perm.PAPER_REGISTER, Perm.DISPOSE}),
    # Auditors keep the paper register: it is what coverage is measured against.
    Role.AUDITOR: frozenset({Perm.STATUS, Perm.VIEW_METADATA, Perm.COVERAGE, Perm.VERIFY,
                             Perm.QA, Perm.AUDIT_LOG, Perm.PAPER_REGISTER,
                             Perm.APPROVE_DISPOSAL}),
    Role.ADMIN: frozenset({Perm.STATUS, Perm.USERS, Perm.KEYS, Perm.OPERATE}),
}

# Where each role lands after signing in (the first it may open).
HOME_PAGES: tuple[tuple[Perm, str], ...] = (
    (Perm.SEARCH, "/"), (Perm.COVERAGE, "/coverage"), (Perm.USERS, "/admin/users"),
    (Perm.INGEST, "/intake"), (Perm.STATUS, "/status"),
)

ROUTES: dict[str, Rule] = {
    # orchestrators and monitoring (index.web.routes.ops): up/down and counts only
    "GET /healthz": Open.PROBE,
    "GET /readyz": Open.PROBE,
    "GET /metrics": Open.PROBE,  # mounted only with web.metrics = true
    # signing in and one's own account
    "GET /login": Open.PUBLIC,
    "POST /login": Open.PUBLIC,
    "POST /logout": Open.SIGNED_IN,
    "GET /password": Open.SIGNED_IN,
    "POST /password": Open.SIGNED_IN,
    "GET /account": Open.SIGNED_IN,
    "POST /account/tokens": Open.SIGNED_IN,
    "POST /account/tokens/{token_id}/revoke": Open.SIGNED_IN,
    "GET /api/me": Open.SIGNED_IN,
    # records officers
    "GET /": Open.SIGNED_IN,  # the search page, or the role's own home page
    "GET /api/search": Perm.SEARCH,
    "GET /documents/{doc_id}": Perm.VIEW_METADATA,
    "GET /api/documents/{doc_id}": Perm.VIEW_METADATA,
    "GET /documents/{doc_id}/original": Perm.DOWNLOAD,
    "GET /documents/{doc_id}/searchable": Perm.DOWNLOAD,
    "GET /api/documents/{doc_id}/original": Perm.DOWNLOAD,
    "GET /api/documents/{doc_id}/searchable": Perm.DOWNLOAD,
    "GET /documents/{doc_id}/pages/{page_no}.jpg": Perm.VIEW_CONTENT,
    "GET /clients/{client_id}": Perm.SEARCH,
    "GET /api/clients/{client_id}": Perm.SEARCH,
    "POST /documents/{doc_id}/classify": Perm.LINK,  # within the officer's own scope
    "GET /review": Perm.LINK,
    "GET /review/matches": Perm.LINK,  # search-as-you-type over the registers (htmx)
    "POST /review/{doc_id}/link": Perm.LINK,
    "POST /review/bulk": Perm.LINK,  # several documents of one client linked at once
    # scanning staff
    "GET /status": Perm.STATUS,
    "GET /api/status": Perm.STATUS,
    "GET /intake": Perm.STATUS,
    "GET /intake/list": Perm.STATUS,  # the page's polled fragment
    "POST /intake/upload": Perm.INGEST,
    # the API's schema: route names are no secret, but nothing is served to strangers
    "GET /openapi.json": Open.SIGNED_IN,
    # auditors
    "GET /coverage": Perm.COVERAGE,
    "GET /coverage/flagged.csv": Perm.COVERAGE,
    "GET /coverage/coversheets.pdf": Perm.COVERAGE,
    "GET /api/coverage": Perm.COVERAGE,
    "GET /qa": Perm.QA,
    "GET /qa/{doc_id}/pages/{page_no}.jpg": Perm.QA,  # sampled documents only
    "POST /qa/{doc_id}": Perm.QA,
    "POST /qa/sample": Perm.QA,
    "GET /qa/{doc_id}": Perm.QA,  # sampled documents only
    "POST /audit/verify": Perm.AUDIT_LOG,
    # clients register additionally needs REGISTERS (checked in the route)
    "GET /registers": Perm.PAPER_REGISTER,
    "POST /registers/preview": Perm.PAPER_REGISTER,
    "POST /registers/confirm": Perm.PAPER_REGISTER,
    "GET /disposal": Perm.VIEW_METADATA,  # proposals within the caller's scope
    "GET /disposal/{disposal_id}.csv": Perm.VIEW_METADATA,  # the 销毁清册
    "POST /disposal/{disposal_id}/approve": Perm.APPROVE_DISPOSAL,
    "POST /disposal/{disposal_id}/reject": Perm.APPROVE_DISPOSAL,
    "GET /audit": Perm.AUDIT_LOG,
    "GET /audit.csv": Perm.AUDIT_LOG,
    "GET /api/audit": Perm.AUDIT_LOG,
    # administrators
    "GET /admin/users": Perm.USERS,
    "POST /admin/users": Perm.USERS,
    "POST /admin/users/{username}/roles": Perm.USERS,
    "POST /admin/users/{username}/scope": Perm.USERS,
    "POST /admin/users/{username}/active": Perm.USERS,
    "POST /admin/users/{username}/password": Perm.USERS,
    "POST /admin/users/{username}/unlock": Perm.USERS,
    "GET /admin/users/{username}/confirm/{action}": Perm.USERS,
    "GET /admin/settings": Perm.OPERATE,
    "GET /admin/settings/test": Perm.OPERATE,
}

COMMANDS: dict[str, Rule] = {
    "init": Open.BOOTSTRAP,
    "up": Perm.OPERATE,
    "watch": Perm.OPERATE,
    "worker": Perm.OPERATE,
    "ocr retry": Perm.OPERATE,
    "serve": Perm.OPERATE,
    "ingest": Perm.INGEST,
    "status": Perm.STATUS,
    "clients import": Perm.REGISTERS,
    "paper import": Perm.PAPER_REGISTER,
    "review": Perm.LINK,
    "classify list": Perm.LINK,
    "classify set": Perm.LINK,
    # officers chase the missing papers, auditors report on them: both see metadata
    "completeness": Perm.VIEW_METADATA,
    "search": Perm.SEARCH,
    "show": Perm.VIEW_METADATA,
    "get": Perm.DOWNLOAD,
    "verify": Perm.VERIFY,
    "coverage": Perm.COVERAGE,
    "coversheets": Perm.COVERAGE,
    "qa sample": Perm.QA,
    "qa mark": Perm.QA,
    "qa report": Perm.QA,
    "audit verify": Perm.AUDIT_LOG,
    "audit log": Perm.AUDIT_LOG,
    "keys status": Perm.KEYS,
    "keys rotate": Perm.KEYS,
    "keys retire": Perm.KEYS,
    "recover": Perm.KEYS,
    "privacy mask-existing": Perm.KEYS,
    # retention and disposal (销毁): officers propose and run, auditors approve; an
    # administrator removes a mis-scan under GOVERNANCE, with a reason
    "retention report": Perm.VIEW_METADATA,
    "disposal propose": Perm.DISPOSE,
    "disposal approve": Perm.APPROVE_DISPOSAL,
    "disposal reject": Perm.APPROVE_DISPOSAL,
    "disposal run": Perm.DISPOSE,
    "disposal list": Perm.VIEW_METADATA,
    "disposal export": Perm.VIEW_METADATA,
    "remove": Perm.OPERATE,
    "orphans list": Perm.VERIFY,
    "orphans delete": Perm.OPERATE,
    # operations: health reads a local heartbeat file and doctor only reads, so neither
    # needs a user (nor migrates the schema); backup carries the master key: keys holders
    "health": Open.BOOTSTRAP,
    "doctor": Open.BOOTSTRAP,
    "keys new": Open.BOOTSTRAP,
    "backup": Perm.KEYS,
    "restore": Open.BOOTSTRAP,  # into an empty index, where no user exists yet
    "users list": Perm.USERS,
    "users add": Perm.USERS,
    "users roles": Perm.USERS,
    "users scope": Perm.USERS,
    "users disable": Perm.USERS,
    "users enable": Perm.USERS,
    "users reset-password": Perm.USERS,
    "users unlock": Perm.USERS,
    "users token-create": Perm.USERS,
    "users token-list": Perm.USERS,
    "users token-revoke": Perm.USERS,
}


def permissions(roles: frozenset[Role], auditor_sees_content: bool = False) -> frozenset[Perm]:
    """Everything ``roles`` together allow (auditors may be given content by setting)."""
    perms: set[Perm] = set()
    for role in roles:
        perms |= GRANTS[role]
    if auditor_sees_content and Role.AUDITOR in roles:
        perms |= {Perm.SEARCH, Perm.VIEW_CONTENT}
    return frozenset(perms)


def parse_roles(values: list[str] | str) -> frozenset[Role]:
    """Role names (``"officer auditor"`` or a list) → roles; ValueError names a wrong one."""
    names = values.replace(",", " ").split() if isinstance(values, str) else values
    out: set[Role] = set()
    for name in names:
        try:
            out.add(Role(name.strip().lower()))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {name!r} (roles: {allowed})") from None
    return frozenset(out)


def roles_text(roles: frozenset[Role]) -> str:
    """Roles as stored: sorted, space-separated."""
    return " ".join(sorted(r.value for r in roles))


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user, a user's API token, or the CLI's local user."""

    username: str
    roles: frozenset[Role]
    perms: frozenset[Perm]
    via: str  # "session" | "token" | "local"
    scope: Scope  # departments and clearance: what of the archive exists for them
    must_change_password: bool = False
    session_id: int | None = None
    token_id: int | None = None
    display_name: str = ""  # 李娜 beside li.na on every page

    def can(self, perm: Perm) -> bool:
        return perm in self.perms

    def home(self) -> str:
        for perm, url in HOME_PAGES:
            if self.can(perm):
                return url
        return "/account"


def allows(rule: Rule, principal: Principal | None) -> bool:
    """Whether ``principal`` (None: nobody signed in) may pass ``rule``."""
    if rule in (Open.PUBLIC, Open.BOOTSTRAP, Open.PROBE):
        return True
    if principal is None:
        return False
    if rule is Open.SIGNED_IN:
        return True
    assert isinstance(rule, Perm)
    return principal.can(rule)
