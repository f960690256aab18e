"""Rate limiting per personal token, with Flask-Limiter.

Each token has its own budget (``KITSHARE_API_RATE_LIMIT``, such as "120/minute"; empty turns
limiting off) shared by every API endpoint. Counters live in ``KITSHARE_RATELIMIT_STORAGE_URI``:
``memory://`` counts per process, so a deployment with several workers points it at Redis
(``redis://host:6379``) to count per token across them. Requests without a token are not counted:
they are refused at once with a 401 and cost nothing.
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from limits import parse_many

from core.config import ConfigError, current_settings

EXTENSION_KEY = "kitshare_api_limiter"


def presented_token() -> str | None:
    """The bearer token the request carries, if any (valid or not)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_key() -> str:
    """Whose budget a request spends: its token's, by hash (the token itself is never kept)."""
    token = presented_token() or ""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()


def init_limiter(app: Flask, blueprint: Blueprint, setting: str, storage_uri: str) -> Limiter:
    """Give ``app`` its own limiter for the API blueprint (so test apps do not share counters):
    ``setting`` is KITSHARE_API_RATE_LIMIT (empty: no limit), ``storage_uri`` where the counters
    live (KITSHARE_RATELIMIT_STORAGE_URI)."""
    if setting:
        try:
            parse_many(setting)
        except ValueError as error:
            raise ConfigError(
                f"KITSHARE_API_RATE_LIMIT {setting!r} is not a rate such as '120/minute' or '5000/hour'."
            ) from error
    limiter = Limiter(
        key_func=token_key,
        storage_uri=storage_uri,
        headers_enabled=True,
        retry_after="delta-seconds",
        key_prefix="kitshare-api",
    )
    limiter.init_app(app)
    limiter.shared_limit(
        lambda: current_settings().KITSHARE_API_RATE_LIMIT,
        scope="api-token",
        exempt_when=lambda: presented_token() is None,
    )(blueprint)
    app.extensions[EXTENSION_KEY] = limiter
    return limiter


def seconds_until_reset() -> int:
    """How long the current token must wait before its budget refills (at least a second)."""
    limiter: Limiter | None = current_app.extensions.get(EXTENSION_KEY)
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))
