"""Request logging: logs to stdout (JSON for collectors, or plain text), one line per request
with its time taken, and the app's refusal of URLs longer than it accepts (414)."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Flask, g, request
from werkzeug.exceptions import RequestURITooLarge

from core.config import MAX_URL_LENGTH


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (and people with jq)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(app: Flask, log_format: str) -> None:
    """``log_format``: "json" (one object per line) or anything else for plain text."""
    # Logs go to stdout (twelve-factor); the process manager keeps them.
    handler = logging.StreamHandler(sys.stdout)
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("kitshare", app.logger.name):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False

    request_log = logging.getLogger("kitshare.requests")

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.pop("request_started", None)
        if started is not None and not request.path.startswith("/static/"):
            request_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "fields": {
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        # Only a person this request already loaded: a log line must not query
                        # the database (which may be the very thing that failed).
                        "user_id": getattr(g.get("_login_user"), "id", None),
                    }
                },
            )
        return response


def request_target_length(environ: Mapping[str, Any]) -> int:
    """How long the URL (path and query string) the client sent is: the raw request target when
    the server gives it (gunicorn, Werkzeug), else rebuilt from the decoded path, encoded again."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        raw = quote(path.encode("latin-1", "replace")) + (f"?{query}" if query else "")
    return len(raw)


def register_url_limit(app: Flask) -> None:
    """Answer a URL longer than MAX_URL_LENGTH with the app's own 414 (a problem document on /api/,
    a plain page elsewhere), below the servers' limits, so no client meets a server's bare page."""

    @app.before_request
    def _refuse_long_urls() -> None:
        length = request_target_length(request.environ)
        if length > MAX_URL_LENGTH:
            raise RequestURITooLarge(
                f"The URL (path and query string) is {length:,} characters long; Kitshare accepts at most "
                f"{MAX_URL_LENGTH:,}. Send fewer or shorter parameters."
            )
