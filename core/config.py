"""Kitshare's settings, read from the environment (twelve-factor).

Every setting has a documented default, here and only here; the README lists them.
``Config.from_env()`` reads the process environment once, when the application is created (tests
lay their own values over it), and ``create_app`` keeps the result on ``app.extensions``:
views, the API, the CLI and the scheduler read it with ``current_settings()`` and pass services
the values they need. ``app.config`` holds only what Flask and its extensions read.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Files Kitshare writes (uploads, import files, the development database and mail folder):
#: KITSHARE_INSTANCE_DIR, else ``instance/`` beside the code (a checkout). An installed Kitshare
#: (docs/deployment.md) sets it, so nothing is written inside site-packages.
INSTANCE_DIR = Path(os.environ.get("KITSHARE_INSTANCE_DIR") or PROJECT_ROOT / "instance").resolve()

#: The site's public address when KITSHARE_BASE_URL is not set (the development server's).
DEFAULT_BASE_URL = "http://127.0.0.1:5000"

#: The placeholder key development runs with. Production refuses to start with it.
DEFAULT_SECRET_KEY = "kitshare-development-key-not-for-production"

ENVIRONMENTS = ("production", "development", "testing")

#: The longest URL (path and query string, as sent) the app answers; longer ones get a 414 from the
#: app itself (a problem document on /api/, a plain page elsewhere). It stays below every server
#: in front of it, so none of them answers first with its own page: gunicorn's request line
#: (4094 bytes by default, 8190 in gunicorn.conf.py, both including the method and protocol),
#: the development server's (65536) and nginx's (8 KB buffers by default).
MAX_URL_LENGTH = 4000


class ConfigError(RuntimeError):
    """The environment describes a configuration Kitshare must not run with."""


def normalise_database_url(url: str) -> str:
    """Accept the URL forms hosting platforms hand out and use psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"KITSHARE_SSO_TRUSTED_PROXIES: {exc}") from exc


def _check_planning(config: Config) -> None:
    """Refuse capital-planning settings the planning rules cannot use (planning/lifecycle.py)."""
    start = config.KITSHARE_FINANCIAL_YEAR_START.strip()
    try:
        month, day = (int(part) for part in start.split("-"))
        datetime.date(2001, month, day)  # 2001: not a leap year, so 02-29 is refused
    except ValueError:
        raise ConfigError(
            f"KITSHARE_FINANCIAL_YEAR_START must be a month and day as MM-DD, such as 08-01 (not 02-29), not {start!r}."
        ) from None
    try:
        rate = Decimal(str(config.KITSHARE_INFLATION_RATE).strip())
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
        raise ConfigError(
            "KITSHARE_INFLATION_RATE is a yearly fraction written as a decimal, such as 0.03 for 3 %: at least 0, under 1."
        )
    if not 1 <= config.KITSHARE_DEFAULT_USEFUL_LIFE_YEARS <= 100:
        raise ConfigError("KITSHARE_DEFAULT_USEFUL_LIFE_YEARS must be a whole number of years from 1 to 100.")
    if not 0 <= config.KITSHARE_PLANNING_NEAR_END_MONTHS <= 120:
        raise ConfigError("KITSHARE_PLANNING_NEAR_END_MONTHS must be a whole number of months from 0 to 120.")
    if not 0 <= config.KITSHARE_PLANNING_WELL_USED <= 1:
        raise ConfigError("KITSHARE_PLANNING_WELL_USED is a fraction of the available hours (0.50 is 50 %).")
    if config.KITSHARE_PLANNING_INVEST_SCHOOLS < 1:
        raise ConfigError("KITSHARE_PLANNING_INVEST_SCHOOLS must be 1 or more Schools.")
    if config.KITSHARE_PLANNING_FAILED_INSPECTIONS < 1:
        raise ConfigError("KITSHARE_PLANNING_FAILED_INSPECTIONS must be 1 or more failed inspections.")


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    """Settings with their defaults. Names match the environment variables that set them."""

    KITSHARE_ENV: str = "production"
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    KITSHARE_TIMEZONE: str = "Europe/London"
    KITSHARE_BASE_URL: str = DEFAULT_BASE_URL
    KITSHARE_UNIVERSITY_NAME: str = "Kitshare University"
    # Mail: in development, mails are written as .eml files to MAIL_OUTBOX_DIR instead of sent.
    MAIL_SERVER: str = "localhost"
    MAIL_PORT: int = 25
    MAIL_USERNAME: str = ""
    MAIL_PASSWORD: str = ""
    MAIL_USE_TLS: bool = False
    MAIL_USE_SSL: bool = False
    MAIL_FROM: str = "Kitshare <kitshare@localhost>"
    MAIL_OUTBOX_DIR: str = ""
    # How many hours before a confirmed booking starts its reminder is sent.
    KITSHARE_REMINDER_HOURS: int = 24
    # How long a freed slot is held for the person at the head of its waitlist, in minutes.
    KITSHARE_WAITLIST_OFFER_MINUTES: int = 120
    # Argon2id cost; tests lower it so hashing does not dominate the suite.
    PASSWORD_HASH_TIME_COST: int = 3
    PASSWORD_HASH_MEMORY_KIB: int = 65536
    KITSHARE_PHOTO_MAX_BYTES: int = 5 * 1024 * 1024
    # Register imports from .xlsx (inventory/transfer/xlsx_limits.py): checked before the workbook is parsed,
    # so a small file that unpacks to a huge one is refused, not read. The most any one part of
    # the zip, and all parts together, may unpack to; how many parts it may have; how many rows
    # (empty ones too) and cells a sheet may have; and how many characters a cell may hold
    # (32,767 is Excel's own limit). The import itself takes at most 20,000 rows of assets.
    KITSHARE_XLSX_MAX_PART_BYTES: int = 50 * 1024 * 1024
    KITSHARE_XLSX_MAX_TOTAL_BYTES: int = 100 * 1024 * 1024
    KITSHARE_XLSX_MAX_PARTS: int = 1_000
    KITSHARE_XLSX_MAX_ROWS: int = 100_000
    KITSHARE_XLSX_MAX_CELLS: int = 1_000_000
    KITSHARE_XLSX_MAX_CELL_CHARS: int = 32_767
    # equipment.data.ac.uk: the Wikipedia URL of the nearest town (Uniquip "Location"), who takes
    # questions and corrections about the published data, and the university's URI in the
    # Organisation Profile Document.
    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto (0: not behind one).
    KITSHARE_PROXY_COUNT: int = 0
    # Single sign-on: trust this header (e.g. REMOTE_USER, as mod_shib sets it) from these proxy
    # addresses only (comma-separated IPs or networks). Empty: off.
    KITSHARE_SSO_HEADER: str = ""
    KITSHARE_SSO_TRUSTED_PROXIES: str = ""
    # Logs: one JSON object per line (production default) or plain text.
    KITSHARE_LOG_FORMAT: str = ""
    KITSHARE_UNIQUIP_LOCATION_URL: str = ""
    KITSHARE_DATA_CONTACT: str = ""
    KITSHARE_ORGANISATION_URI: str = ""
    # The JSON API's rate limit per personal token ("120/minute", "5000/hour"; empty: no limit), and
    # where the counters live: memory:// counts per process; use redis://host:6379 with several workers.
    KITSHARE_API_RATE_LIMIT: str = "120/minute"
    KITSHARE_RATELIMIT_STORAGE_URI: str = "memory://"
    # Utilisation reports: under the idle threshold an asset is a candidate for sharing or
    # disposal (unless saturated); at or above the saturated one it is a candidate for investment
    # (fractions: 0.10 is 10 %), and so it is when demand turned away for want of free time
    # (refused for overlap, or waitlisted and never served) comes to at least
    # KITSHARE_SATURATED_MIN_UNMET_HOURS hours from at least KITSHARE_SATURATED_MIN_PEOPLE people.
    # A cancellation is late when made less than this many working hours (Monday to Friday)
    # before the booking starts: 24 is one working day.
    KITSHARE_IDLE_THRESHOLD: float = 0.10
    KITSHARE_SATURATED_THRESHOLD: float = 0.80
    KITSHARE_SATURATED_MIN_UNMET_HOURS: float = 8.0
    KITSHARE_SATURATED_MIN_PEOPLE: int = 2
    KITSHARE_LATE_CANCEL_HOURS: int = 24
    # How many connections one report read from the page, its downloads and the API may use at
    # once (reports.aggregate.Clipper.start): the database works on one read while Python adds up
    # another. 1 reads one after the other; 0, as suits the database (``report_readers``).
    KITSHARE_REPORT_READERS: int = 0
    # Capital planning (planning/): the financial year starts on this day (MM-DD; UK: 1 August);
    # replacement costs rise by this fraction a year, compounding (a decimal string: "0.03" is
    # 3 %); assets whose category gives no useful life are expected to last this many years.
    # Recommendations: "near end of life" is within this many months; "well used" is utilisation
    # of at least this fraction; "invest" needs unmet demand from at least this many Schools;
    # "failing inspections" is a latest inspection that failed, or this many failures in a year.
    KITSHARE_FINANCIAL_YEAR_START: str = "08-01"
    KITSHARE_INFLATION_RATE: str = "0.03"
    KITSHARE_DEFAULT_USEFUL_LIFE_YEARS: int = 10
    KITSHARE_PLANNING_NEAR_END_MONTHS: int = 12
    KITSHARE_PLANNING_WELL_USED: float = 0.50
    KITSHARE_PLANNING_INVEST_SCHOOLS: int = 2
    KITSHARE_PLANNING_FAILED_INSPECTIONS: int = 2
    # Keys for Flask and its extensions given to ``create_app`` beside Kitshare's own (tests).
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra" or f.name not in environ:
                continue
            raw = environ[f.name]
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("bool", bool):
                values[f.name] = _bool(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        return cls(**values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Config:
        """These settings with ``overrides`` laid over them: a setting's name sets it (the value
        as it would be after reading the environment: ints as ints), and any other key is kept in
        ``extra`` for Flask and its extensions (tests pass ``WTF_CSRF_ENABLED``)."""
        known = {f.name for f in fields(self)} - {"extra"}
        extra = dict(self.extra)
        extra.update({key: value for key, value in overrides.items() if key not in known})
        return replace(self, **{key: value for key, value in overrides.items() if key in known}, extra=extra)

    # --- Values worked out from the settings (each default still lives once, above) ------------

    @property
    def production(self) -> bool:
        return self.KITSHARE_ENV == "production"

    @property
    def base_url(self) -> str:
        """The site's public address, without a trailing slash."""
        return (self.KITSHARE_BASE_URL or DEFAULT_BASE_URL).rstrip("/")

    @property
    def database_uri(self) -> str:
        """SQLAlchemy's URL: DATABASE_URL (psycopg 3 for PostgreSQL), else a SQLite file under instance/."""
        return normalise_database_url(self.DATABASE_URL or f"sqlite:///{INSTANCE_DIR / 'kitshare.db'}")

    @property
    def report_readers(self) -> int:
        """How many connections a report reads on at once: KITSHARE_REPORT_READERS, or by default
        3 on PostgreSQL (whose server works on the reads on other cores while Python adds up)
        and 2 on SQLite (which works out each read in one step without Python's lock,
        ``reports.sql.read_all``, while Python adds up another: at full size a yearly report took
        1.5 s on two, 2.2 s on one; more threads only contend for the lock)."""
        if self.KITSHARE_REPORT_READERS:
            return self.KITSHARE_REPORT_READERS
        return 3 if self.database_uri.startswith("postgresql") else 2

    @property
    def mail_outbox_dir(self) -> str:
        """Where mails are written instead of sent: MAIL_OUTBOX_DIR, else instance/mail outside production."""
        return self.MAIL_OUTBOX_DIR or ("" if self.production else str(INSTANCE_DIR / "mail"))

    @property
    def log_format(self) -> str:
        return self.KITSHARE_LOG_FORMAT or ("json" if self.production else "text")

    @cached_property  # read on every signed-in page when single sign-on is on
    def sso_trusted_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return _networks(self.KITSHARE_SSO_TRUSTED_PROXIES)

    def check(self) -> None:
        """Raise ConfigError for a combination Kitshare must not run with."""
        if self.KITSHARE_ENV not in ENVIRONMENTS:
            raise ConfigError(
                f"KITSHARE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.KITSHARE_ENV!r}."
            )
        secret = self.SECRET_KEY
        if self.production and (not secret or secret == DEFAULT_SECRET_KEY or len(secret) < 32):
            raise ConfigError(
                "Refusing to start in production without a SECRET_KEY of at least 32 random "
                "characters. Generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        try:
            ZoneInfo(self.KITSHARE_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"KITSHARE_TIMEZONE {self.KITSHARE_TIMEZONE!r} is not a known zone") from exc

        if self.KITSHARE_SSO_HEADER and not self.KITSHARE_SSO_TRUSTED_PROXIES:
            raise ConfigError(
                "KITSHARE_SSO_HEADER is set but KITSHARE_SSO_TRUSTED_PROXIES is empty: anyone could "
                "send the header. Name the addresses of the single sign-on proxy."
            )
        _networks(self.KITSHARE_SSO_TRUSTED_PROXIES)  # ConfigError for an address that is not one
        if self.KITSHARE_REMINDER_HOURS < 1:
            raise ConfigError("KITSHARE_REMINDER_HOURS must be a whole number of hours, at least 1.")
        if self.KITSHARE_WAITLIST_OFFER_MINUTES < 1:
            raise ConfigError(
                "KITSHARE_WAITLIST_OFFER_MINUTES must be a whole number of minutes, at least 1."
            )

        if not 0 <= self.KITSHARE_IDLE_THRESHOLD <= self.KITSHARE_SATURATED_THRESHOLD <= 1:
            raise ConfigError(
                "KITSHARE_IDLE_THRESHOLD and KITSHARE_SATURATED_THRESHOLD are fractions (0.10 is 10 %), "
                "the idle one no higher than the saturated one."
            )
        if self.KITSHARE_SATURATED_MIN_UNMET_HOURS < 0 or self.KITSHARE_SATURATED_MIN_PEOPLE < 1:
            raise ConfigError(
                "KITSHARE_SATURATED_MIN_UNMET_HOURS must be 0 or more hours, KITSHARE_SATURATED_MIN_PEOPLE 1 or more people."
            )
        xlsx_limits = [
            name
            for name in (
                "KITSHARE_XLSX_MAX_PART_BYTES",
                "KITSHARE_XLSX_MAX_TOTAL_BYTES",
                "KITSHARE_XLSX_MAX_PARTS",
                "KITSHARE_XLSX_MAX_ROWS",
                "KITSHARE_XLSX_MAX_CELLS",
                "KITSHARE_XLSX_MAX_CELL_CHARS",
            )
            if getattr(self, name) < 1
        ]
        if xlsx_limits:
            raise ConfigError(f"{', '.join(xlsx_limits)} must be a whole number, at least 1.")
        if self.KITSHARE_LATE_CANCEL_HOURS < 0:
            raise ConfigError("KITSHARE_LATE_CANCEL_HOURS must be 0 or more working hours.")
        if not 0 <= self.KITSHARE_REPORT_READERS <= 8:
            raise ConfigError("KITSHARE_REPORT_READERS must be a whole number from 0 to 8.")
        _check_planning(self)

    def flask_settings(self) -> dict[str, Any]:
        """Check the settings (ConfigError), then give the keys Flask and its extensions read.
        Kitshare's own settings are not among them: code reads them from this object
        (``current_settings()``), which ``create_app`` keeps on ``app.extensions``."""
        self.check()
        settings: dict[str, Any] = {
            "TESTING": self.KITSHARE_ENV == "testing",
            "SECRET_KEY": self.SECRET_KEY or DEFAULT_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": self.database_uri,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            # Cookies: HttpOnly and SameSite always; Secure wherever the site is served over HTTPS,
            # which is everywhere but a developer's own machine.
            "SESSION_COOKIE_NAME": "kitshare_session",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.production,
            "REMEMBER_COOKIE_NAME": "kitshare_remember",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.production,
            "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 14,
            "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
            "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
            "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        }
        settings.update(self.extra)
        return settings


#: Where ``create_app`` keeps the application's ``Config``.
EXTENSION_KEY = "kitshare"


def current_settings() -> Config:
    """The running application's settings (inside an app or request context): for views, the API,
    the CLI and the scheduler, which hand services the values they need."""
    settings: Config = current_app.extensions[EXTENSION_KEY]
    return settings


# Links made outside any app context (a test's own session, a script) use the address
# ``create_app`` last configured: one public address per process, as there is one site.
_configured_site_url = DEFAULT_BASE_URL


def configure_site_url(base_url: str) -> None:
    """Remember the site's public address for links made outside an app context (``create_app``
    gives it the app's ``Config.base_url``)."""
    global _configured_site_url
    _configured_site_url = (base_url or DEFAULT_BASE_URL).rstrip("/")


def site_url(path: str = "") -> str:
    """The site's public address (KITSHARE_BASE_URL, no trailing slash) followed by ``path``: for
    every absolute link (notices, e-mails, feeds, exports). Inside an app context the running
    app's; outside one the address ``configure_site_url`` was last given."""
    base = _configured_site_url
    if has_app_context() and EXTENSION_KEY in current_app.extensions:
        base = current_settings().base_url
    return base + path
