"""Typed settings: a TOML file with ``PAPERVAULT_*`` environment overrides.

Loaded once by :func:`load_settings` at the edge (CLI, web app factory) and passed in.
Nothing here runs at import time.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from papervault.config.errors import ConfigError

CONFIG_ENV = "PAPERVAULT_CONFIG"

DEFAULT_CLIENT_PATTERNS = [r"KH-\d{4}-\d{6}", r"(?<![A-Z0-9])BD\d{10}(?!\d)"]
DEFAULT_RECORD_PATTERNS = [r"DA-\d{4}-[A-Z]{2,4}-\d{4,6}"]
# A document's own date (文件日期): the first labelled date found, read with spaces removed
# (OCR spaces out Chinese). Groups y, m, d; earlier patterns win.
DEFAULT_DATE_PATTERNS = [
    r"(?:出险日期|出险时间|事故日期|申请日期|投保日期|签发日期|签署日期|填表日期|报案日期)"
    r"[:：]?(?P<y>(?:19|20)\d{2})[年./-](?P<m>\d{1,2})[月./-](?P<d>\d{1,2})",
]


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 ``cpu.max``
    quota (Docker's ``cpus:``, systemd's CPUQuota=) rounded up."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota(Path("/sys/fs/cgroup/cpu.max"))
    if quota is not None:
        cpus = min(cpus, quota)
    return max(cpus, 1)


def cgroup_cpu_quota(cpu_max: Path) -> int | None:
    """Whole CPUs allowed by a cgroup v2 ``cpu.max`` file ("150000 100000" → 2), or None
    when there is no file or no limit ("max 100000")."""
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, -(-int(quota) // int(period)))
    except (ValueError, ZeroDivisionError):
        return None


class WatchSettings(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)  # nan seconds would never settle a file
    inbox: Path = Path("inbox")
    quarantine: Path = Path("quarantine")
    done: Path = Path("done")
    after_store: Literal["delete", "move"] = "delete"
    stable_seconds: float = Field(5.0, ge=0)
    polling: bool = False  # SMB/NFS shares deliver no inotify events
    poll_interval: float = Field(2.0, gt=0)
    rescan_interval: float = Field(60.0, gt=0)
    ignore_suffixes: list[str] = [".tmp", ".part", ".crdownload", ".swp", ".error.json"]
    ignore_prefixes: list[str] = ["~$", "."]
    retry_initial: float = Field(2.0, gt=0)
    retry_max: float = Field(120.0, gt=0)


class LimitSettings(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)
    max_bytes: int = Field(1024 * 1024 * 1024, gt=0)
    max_pages: int = Field(2000, gt=0)
    max_pixels: int = Field(200_000_000, gt=0)
    max_page_points: float = Field(14_400.0, gt=0)  # 200 inches: larger is a broken MediaBox
    min_pixels_side: int = Field(16, ge=1)
    # Decoded page content (content streams and forms; images excluded), review M6: a
    # scanned page draws one image in ~100 bytes, a dense vector page a few MB.
    max_page_content_mb: int = Field(32, gt=0)
    max_content_mb: int = Field(512, gt=0)  # the whole document, a shared stream per page


class OcrSettings(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)
    langs: str = "chi_sim+eng"
    dpi: int = Field(300, ge=50, le=1200)  # beyond 1200 a page bitmap is gigabytes
    # One tesseract process per CPU this process may use: a container's quota (cgroup
    # cpu.max, what `cpus:` sets) rather than the host's cores os.cpu_count() reports.
    workers: int = Field(default_factory=available_cpus, ge=1)
    # Wall-clock limit of each tool run on one page (pdftotext, pdftoppm, tesseract).
    page_timeout: float = Field(120.0, gt=0)
    # Address-space limit of a page process and the tools it starts (RLIMIT_AS), in MB.
    page_memory_mb: int = Field(3072, ge=256)
    text_layer_min_chars: int = Field(8, ge=0)
    lease_seconds: float = Field(300.0, gt=0)
    max_attempts: int = Field(3, ge=1)
    min_dpi_warning: int = Field(300, ge=0)
    low_confidence_warning: float = Field(40.0, ge=0, le=100)


class S3Settings(BaseModel):
    endpoint: str = "127.0.0.1:9000"
    bucket: str = "papervault"
    access_key: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr("")
    # Docker secrets and systemd credentials are files: read by papervault itself, so every
    # process (healthchecks and `docker compose exec` too) sees the same credentials.
    access_key_file: Path | None = None
    secret_key_file: Path | None = None
    secure: bool = False
    region: str | None = None
    # Bucket versioning, turned on at start-up: overwritten or deleted objects keep their
    # earlier versions (expire noncurrent versions with the server's lifecycle rules).
    versioning: bool = True
    # S3 Object Lock mode for originals and their recovery records. A new bucket is made
    # with Object Lock on (it cannot be switched on later for an existing bucket on every
    # server: `papervault doctor` says what to do). GOVERNANCE lets an administrator remove
    # a mis-scan (`papervault remove`, audited); COMPLIANCE lets nobody, until the date.
    # "off": no lock (a bucket made then has none).
    object_lock: Literal["off", "GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    # Retention of a new original before its record's 保管期限 is known: 5 years, the
    # Insurance Law art. 87 minimum after a one-year policy ends.
    lock_default_days: float = Field(1825, gt=0)
    # When set, papervault starts and stops a SeaweedFS S3 server for this instance.
    local_server: bool = False
    local_data_dir: Path = Path("s3data")


class DbSettings(BaseModel):
    url: str = "sqlite:///papervault.db"
    # The PostgreSQL password, kept out of the URL (and so out of any printed setting).
    password: SecretStr | None = None
    password_file: Path | None = None


class CryptoSettings(BaseModel):
    master_key_file: Path | None = Path("keys/master-keyset.json")
    # Alternative to the file: the keyset JSON in PAPERVAULT_CRYPTO__MASTER_KEY.
    master_key: SecretStr | None = None
    # Keys the audit chain's HMAC; kept beside the master key, never in the database.
    audit_key_file: Path = Path("keys/audit.key")
    # The audit chain's signed head, rewritten after every commit (security review H5).
    audit_anchor_file: Path = Path("keys/audit-anchor.json")


class LinkSettings(BaseModel):
    client_patterns: list[str] = DEFAULT_CLIENT_PATTERNS
    record_patterns: list[str] = DEFAULT_RECORD_PATTERNS
    date_patterns: list[str] = DEFAULT_DATE_PATTERNS

    @field_validator("client_patterns", "record_patterns", "date_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        # Refused at start-up, not when the first document reaches the linker.
        for p in patterns:
            try:
                re.compile(p)
            except re.error as e:
                raise ValueError(f"{p!r} is not a regular expression ({e})") from e
        return patterns

    @field_validator("date_patterns")
    @classmethod
    def _has_date_groups(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            if not {"y", "m", "d"} <= set(re.compile(p).groupindex):
                raise ValueError(f"{p!r} needs the groups (?P<y>…), (?P<m>…) and (?P<d>…)")
        return patterns


class WebSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8700, ge=1, le=65535)
    enabled: bool = True
    # Addresses of reverse proxies whose X-Forwarded-For is believed (review M2). Empty:
    # the header is ignored, whoever sends it (uvicorn trusted any loopback client).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Host names the UI answers to besides localhost/127.0.0.1/::1 (review M8: a page
    # on another name rebinding to this address is refused).
    allowed_hosts: list[str] = Field(default_factory=list)

    def uvicorn_options(self) -> dict[str, object]:
        """The proxy settings uvicorn gets, from the one ``trusted_proxies`` setting."""
        return {"proxy_headers": bool(self.trusted_proxies),
                "forwarded_allow_ips": ",".join(self.trusted_proxies) or None}

    def hosts(self) -> list[str]:
        """Host header values the app accepts."""
        names = ["localhost", "127.0.0.1", "::1", "[::1]", *self.allowed_hosts]
        if self.host not in ("0.0.0.0", "::", ""):  # noqa: S104 - a comparison
            names.append(self.host)
        return list(dict.fromkeys(names))
    # Prometheus metrics at /metrics (no sign-in: keep it on an internal network).
    metrics: bool = False
    # Pages show times in the office's zone; the index keeps UTC.
    time_zone: str = "Asia/Shanghai"


class LogSettings(BaseModel):
    # "json": one JSON object per line, for Loki/ELK/journald; "text" for people.
    format: Literal["text", "json"] = "text"


class CoverageSettings(BaseModel):
    # Default for `papervault coverage --fail-under`: exit 5 when the verified share of
    # paper records is below this percentage (a nightly job can alert on it). None: never.
    fail_under: float | None = Field(None, ge=0, le=100)


class AccessSettings(BaseModel):
    # The web UI asks for a sign-in; with it off the UI acts as ``actor`` and binds to
    # loopback only.
    login: bool = True
    session_hours: float = Field(12.0, gt=0)
    idle_minutes: float = Field(30.0, gt=0)
    max_failed_logins: int = Field(5, ge=1)
    lockout_minutes: float = Field(15.0, ge=0)
    # Failed sign-ins from one address (any user names) within lockout_minutes before that
    # address is refused without a password check: per-account lockout alone lets one
    # machine try a common password against every account.
    max_failed_logins_per_address: int = Field(20, ge=1)
    min_password_length: int = Field(12, ge=8)
    # Auditors see document metadata only, unless the office decides otherwise.
    auditor_sees_content: bool = False
    # Mark the session cookie Secure (set when a TLS proxy sits in front).
    secure_cookies: bool = False
    # Keys the session's CSRF tokens; beside the master key, made on first use.
    session_key_file: Path = Path("keys/session.key")
    # Sensitivity levels (密级), lowest first. A document above a user's clearance is
    # invisible to them; one not yet classified is held at ``default_level``.
    levels: list[str] = Field(default_factory=lambda: ["公开", "内部", "机密"], min_length=1)
    default_level: str = "内部"
    # Each role's clearance unless the user has their own. Auditors sample every kind of
    # scan for the spot check (DA/T 31), so they hold the top level.
    role_clearance: dict[str, str] = Field(default_factory=lambda: {
        "scanner": "公开", "officer": "内部", "auditor": "机密", "admin": "公开"})
    # A document type's level when neither a person nor the paper record set one.
    type_levels: dict[str, str] = Field(default_factory=lambda: {
        "身份证复印件": "机密", "医疗费用清单": "机密", "银行账户信息": "机密"})

    @model_validator(mode="after")
    def _known_levels(self) -> AccessSettings:
        named = [self.default_level, *self.role_clearance.values(), *self.type_levels.values()]
        unknown = sorted({n for n in named if n not in self.levels})
        if unknown:
            raise ValueError(f"levels {unknown} are not in access.levels {self.levels}")
        return self


class DocTypeRule(BaseModel):
    """A document type and the words that name it near the top of a page."""

    name: str = Field(min_length=1, max_length=64)
    keywords: list[str] = Field(min_length=1)


def _default_types() -> list[DocTypeRule]:
    pairs = [("投保单", ["投保单", "投保书"]), ("保单", ["保险单", "保单正本", "保险合同"]),
             ("理赔申请书", ["理赔申请书", "索赔申请书", "理赔申请"]),
             ("身份证复印件", ["居民身份证", "身份证复印件", "公民身份号码"]),
             ("医疗费用清单", ["医疗费用清单", "医疗费用", "住院费用清单"]),
             ("授权委托书", ["授权委托书", "委托书"]),
             ("银行账户信息", ["银行账户信息", "银行账户", "开户银行"])]
    return [DocTypeRule(name=n, keywords=k) for n, k in pairs]


class ClassifySettings(BaseModel):
    # The first lines of OCR text a type's keywords are looked for in (a title sits on
    # top; lower down a claim form names the policy, which is not what it is).
    first_lines: int = Field(8, ge=1)
    types: list[DocTypeRule] = Field(default_factory=_default_types)


class CompletenessSettings(BaseModel):
    # Document types a client file of each department must hold.
    departments: dict[str, list[str]] = Field(default_factory=lambda: {
        "理赔部": ["理赔申请书", "身份证复印件", "医疗费用清单", "银行账户信息"],
        "承保部": ["投保单", "保单", "身份证复印件"]})
    # Per document type of the paper record (its 题名 classified by the same rules): wins
    # over the department's list.
    record_types: dict[str, list[str]] = Field(default_factory=dict)
    # A register row or newest document older than this is stale (contact details, …).
    stale_days: int = Field(365, ge=1)


class RetentionSettings(BaseModel):
    """How long originals are kept when the register's 保管期限 says nothing or less.

    Insurance Law art. 87: kept at least 5 years after a contract of one year or less ends,
    at least 10 years after a longer one. The office may raise both, never go below."""

    short_term_years: int = Field(5, ge=5)
    long_term_years: int = Field(10, ge=10)
    # Document types of contracts of one year or less (short-term accident, travel …). A type
    # not named here gets the long term: the length of its contract is unknown, and keeping
    # a file longer than required is the lawful mistake.
    short_types: list[str] = Field(default_factory=list)
    # Years per document type, over both of the above (e.g. {"理赔申请书" = 10}).
    type_years: dict[str, int] = Field(default_factory=dict)

    @field_validator("type_years")
    @classmethod
    def _at_least_the_law(cls, v: dict[str, int]) -> dict[str, int]:
        low = sorted(t for t, n in v.items() if n < 5)
        if low:
            raise ValueError(f"type_years {low}: below the 5 years of Insurance Law art. 87")
        return v


class PrivacySettings(BaseModel):
    # PIPL minimisation: national ID and bank card numbers in the stored search text keep
    # their last 4 digits; a full-number query still finds them through a keyed hash.
    mask_numbers: bool = False
    pi_key_file: Path = Path("keys/pi.key")


class Settings(BaseSettings):
    """Everything papervault needs to know, for one instance."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERVAULT_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Path()
    staging: Path = Path("staging")
    log_level: str = "INFO"
    log: LogSettings = LogSettings()
    language: Literal["zh", "en"] = "zh"
    actor: str = Field(default_factory=lambda: os.environ.get("USER", "local"))
    watch: WatchSettings = WatchSettings()
    limits: LimitSettings = LimitSettings()
    ocr: OcrSettings = OcrSettings()
    s3: S3Settings = S3Settings()
    db: DbSettings = DbSettings()
    crypto: CryptoSettings = CryptoSettings()
    link: LinkSettings = LinkSettings()
    web: WebSettings = WebSettings()
    access: AccessSettings = AccessSettings()
    privacy: PrivacySettings = PrivacySettings()
    coverage: CoverageSettings = CoverageSettings()
    classify: ClassifySettings = ClassifySettings()
    completeness: CompletenessSettings = CompletenessSettings()
    retention: RetentionSettings = RetentionSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    def path(self, p: Path) -> Path:
        """Resolve a configured path against the instance folder."""
        return p if p.is_absolute() else (self.home / p)

    @property
    def inbox(self) -> Path:
        return self.path(self.watch.inbox)

    @property
    def quarantine_dir(self) -> Path:
        return self.path(self.watch.quarantine)

    @property
    def done_dir(self) -> Path:
        return self.path(self.watch.done)

    @property
    def staging_dir(self) -> Path:
        return self.path(self.staging)

    @property
    def db_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the instance, and
        the password from ``db.password`` (or its file) filled in."""
        prefix = "sqlite:///"
        url = self.db.url
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(Path(url[len(prefix) :])).resolve())
        if self.db.password is not None:
            from sqlalchemy.engine import make_url

            parsed = make_url(url).set(password=self.db.password.get_secret_value())
            return parsed.render_as_string(hide_password=False)
        return url


def find_config(explicit: Path | None) -> Path | None:
    """The config file named on the command line, else in ``PAPERVAULT_CONFIG``, else none."""
    if explicit is not None:
        return explicit
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    candidate = Path("papervault.toml")
    return candidate if candidate.exists() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings once: TOML file, then environment, then ``overrides``."""
    data: dict[str, Any] = {}
    path = find_config(config_file)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ConfigError(detail=f"{path} does not exist (papervault init makes one)") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(detail=f"{path}: {e}") from e
        data.setdefault("home", str(path.resolve().parent))
    data.update(overrides)
    try:
        settings = Settings(**data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(detail=f"{where}: {first['msg']}") from e
    settings = read_secret_files(settings)
    try:
        check_folders(settings)
    except ValueError as e:  # a NUL character in a folder name
        raise ConfigError(detail=f"a folder setting cannot be used: {e}") from e
    return settings


def check_folders(settings: Settings) -> None:
    """Refuse folder layouts where the watcher would eat its own output."""
    folders = {
        "inbox": settings.inbox.resolve(),
        "quarantine": settings.quarantine_dir.resolve(),
        "done": settings.done_dir.resolve(),
        "staging": settings.staging_dir.resolve(),
    }
    inbox = folders["inbox"]
    for name, folder in folders.items():
        if name == "inbox":
            continue
        if folder == inbox or folder.is_relative_to(inbox) or inbox.is_relative_to(folder):
            raise ConfigError(detail=f"watch.inbox and {name} must not be inside one another")


def read_secret_files(settings: Settings) -> Settings:
    """Fill the database password and S3 keys from their ``*_file`` settings.

    A file named but unreadable is an error that names the file, never a silent fallback
    to empty credentials.
    """
    def read(path: Path, name: str) -> SecretStr:
        full = settings.path(path)
        try:
            return SecretStr(full.read_text(encoding="utf-8").strip())
        except OSError as e:
            raise ConfigError(
                detail=f"{name}: cannot read {full} ({e.strerror}); the file must exist and be "
                f"readable by uid {os.getuid()} (chown it, chmod 0600)") from e

    s3, db = settings.s3, settings.db
    s3_update: dict[str, SecretStr] = {}
    if s3.access_key_file is not None:
        s3_update["access_key"] = read(s3.access_key_file, "s3.access_key_file")
    if s3.secret_key_file is not None:
        s3_update["secret_key"] = read(s3.secret_key_file, "s3.secret_key_file")
    update: dict[str, Any] = {}
    if s3_update:
        update["s3"] = s3.model_copy(update=s3_update)
    if db.password_file is not None:
        update["db"] = db.model_copy(
            update={"password": read(db.password_file, "db.password_file")})
    return settings.model_copy(update=update) if update else settings

