"""Kitshare's settings, read from the environment (twelve-factor).

Every setting has a documented default; the README lists them. ``Config.from_env()`` reads the
process environment once, when the application is created, so tests can pass their own mapping.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

#: The placeholder key development runs with. Production refuses to start with it.
DEFAULT_SECRET_KEY = "kitshare-development-key-not-for-production"

ENVIRONMENTS = ("production", "development", "testing")


class ConfigError(RuntimeError):
    """The environment describes a configuration Kitshare must not run with."""


def normalise_database_url(url: str) -> str:
    """Accept the URL forms hosting platforms hand out and use psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"KITSHARE_SSO_TRUSTED_PROXIES: {exc}") from exc


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Config:
    """Settings with their defaults. Names match the environment variables that set them."""

    KITSHARE_ENV: str = "production"
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    KITSHARE_TIMEZONE: str = "Europe/London"
    KITSHARE_BASE_URL: str = "http://127.0.0.1:5000"
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
    # Argon2id cost; tests lower it so hashing does not dominate the suite.
    PASSWORD_HASH_TIME_COST: int = 3
    PASSWORD_HASH_MEMORY_KIB: int = 65536
    KITSHARE_PHOTO_MAX_BYTES: int = 5 * 1024 * 1024
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
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
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
            else:
                values[f.name] = raw
        return cls(**values)

    def flask_settings(self) -> dict[str, Any]:
        """Translate into the keys Flask and its extensions read, and check the combination."""
        if self.KITSHARE_ENV not in ENVIRONMENTS:
            raise ConfigError(
                f"KITSHARE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.KITSHARE_ENV!r}."
            )
        production = self.KITSHARE_ENV == "production"
        secret = self.SECRET_KEY
        if production and (not secret or secret == DEFAULT_SECRET_KEY or len(secret) < 32):
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
        database_url = self.DATABASE_URL or f"sqlite:///{INSTANCE_DIR / 'kitshare.db'}"
        mail_outbox = self.MAIL_OUTBOX_DIR or (
            "" if production else str(INSTANCE_DIR / "mail")
        )
        settings: dict[str, Any] = {
            "KITSHARE_ENV": self.KITSHARE_ENV,
            "TESTING": self.KITSHARE_ENV == "testing",
            "SECRET_KEY": secret or DEFAULT_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "KITSHARE_TIMEZONE": self.KITSHARE_TIMEZONE,
            "KITSHARE_BASE_URL": self.KITSHARE_BASE_URL.rstrip("/"),
            "KITSHARE_UNIVERSITY_NAME": self.KITSHARE_UNIVERSITY_NAME,
            "MAIL_SERVER": self.MAIL_SERVER,
            "MAIL_PORT": self.MAIL_PORT,
            "MAIL_USERNAME": self.MAIL_USERNAME,
            "MAIL_PASSWORD": self.MAIL_PASSWORD,
            "MAIL_USE_TLS": self.MAIL_USE_TLS,
            "MAIL_USE_SSL": self.MAIL_USE_SSL,
            "MAIL_FROM": self.MAIL_FROM,
            "MAIL_OUTBOX_DIR": mail_outbox,
            "PASSWORD_HASH_TIME_COST": self.PASSWORD_HASH_TIME_COST,
            "PASSWORD_HASH_MEMORY_KIB": self.PASSWORD_HASH_MEMORY_KIB,
            # Cookies: HttpOnly and SameSite always; Secure wherever the site is served over HTTPS,
            # which is everywhere but a developer's own machine.
            "SESSION_COOKIE_NAME": "kitshare_session",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_NAME": "kitshare_remember",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 14,
            "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
            "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
            "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
            "KITSHARE_PHOTO_MAX_BYTES": self.KITSHARE_PHOTO_MAX_BYTES,
            "KITSHARE_PROXY_COUNT": self.KITSHARE_PROXY_COUNT,
            "KITSHARE_SSO_HEADER": self.KITSHARE_SSO_HEADER,
            "KITSHARE_SSO_TRUSTED_PROXIES": _networks(self.KITSHARE_SSO_TRUSTED_PROXIES),
            "KITSHARE_LOG_FORMAT": self.KITSHARE_LOG_FORMAT or ("json" if production else "text"),
            "KITSHARE_UNIQUIP_LOCATION_URL": self.KITSHARE_UNIQUIP_LOCATION_URL,
            "KITSHARE_DATA_CONTACT": self.KITSHARE_DATA_CONTACT,
            "KITSHARE_ORGANISATION_URI": self.KITSHARE_ORGANISATION_URI,
        }
        settings.update(self.extra)
        return settings
