"""The application factory: settings, extensions, blueprints, error pages, CLI."""

from __future__ import annotations

import ipaddress
import json
import logging
import sys
import time
from typing import Any, Mapping

from flask import Flask, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from config import INSTANCE_DIR, PROJECT_ROOT, Config
from db import db
from errors import DomainError, NotAllowed, NotFound

#: When a request that found the database unreachable tells its caller to try again (Retry-After).
DATABASE_RETRY_SECONDS = 30

login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()

MIGRATIONS_DIR = str(PROJECT_ROOT / "migrations")


def _import_models() -> None:
    """Import every model module so the metadata (and Alembic) sees every table."""
    import accounts.models  # noqa: F401
    import audit  # noqa: F401
    import bookings.models  # noqa: F401
    import inventory.models  # noqa: F401
    import notifications.hooks  # noqa: F401  (booking notifications: a session hook)
    import notifications.models  # noqa: F401
    import planning.models  # noqa: F401
    import reports.models  # noqa: F401


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    """Build a Kitshare application.

    ``config`` is a ``Config``, or a mapping of settings laid over the environment's (tests pass
    ``{"KITSHARE_ENV": "testing", "DATABASE_URL": ...}``), or None for the environment alone.
    """
    if config is None:
        settings_source = Config.from_env()
    elif isinstance(config, Config):
        settings_source = config
    else:
        settings_source = Config.from_env()
        known = {name for name in vars(settings_source) if name != "extra"}
        for key, value in config.items():
            if key in known:
                setattr(settings_source, key, value)
            else:
                settings_source.extra[key] = value
    settings = settings_source.flask_settings()  # raises ConfigError for unsafe settings

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings)
    if app.config["KITSHARE_PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["KITSHARE_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(exist_ok=True)
    _configure_logging(app)
    _register_url_limit(app)  # before anything else reads the request (CSRF, sign-in, rate limit)

    from accounts.service import HashCost, configure_password_hashing
    from timeutil import set_local_zone

    set_local_zone(app.config["KITSHARE_TIMEZONE"])
    from notifications.events import configure_base_url

    configure_base_url(app.config["KITSHARE_BASE_URL"])  # links in notices made outside a request
    configure_password_hashing(
        HashCost(app.config["PASSWORD_HASH_TIME_COST"], app.config["PASSWORD_HASH_MEMORY_KIB"])
    )

    _import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    _configure_login(app)
    _register_blueprints(app)
    _register_health_check(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    _register_security_headers(app)

    from cli import register_commands

    register_commands(app)
    return app


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


def _configure_logging(app: Flask) -> None:
    # Logs go to stdout (twelve-factor); the process manager keeps them.
    handler = logging.StreamHandler(sys.stdout)
    if app.config["KITSHARE_LOG_FORMAT"] == "json":
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
        from urllib.parse import quote

        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        raw = quote(path.encode("latin-1", "replace")) + (f"?{query}" if query else "")
    return len(raw)


def _register_url_limit(app: Flask) -> None:
    """Answer a URL longer than MAX_URL_LENGTH with the app's own 414 (a problem document on /api/,
    a plain page elsewhere), below the servers' limits, so no client meets a server's bare page."""
    from werkzeug.exceptions import RequestURITooLarge

    from config import MAX_URL_LENGTH

    @app.before_request
    def _refuse_long_urls() -> None:
        length = request_target_length(request.environ)
        if length > MAX_URL_LENGTH:
            raise RequestURITooLarge(
                f"The URL (path and query string) is {length:,} characters long; Kitshare accepts at most "
                f"{MAX_URL_LENGTH:,}. Send fewer or shorter parameters."
            )


def _configure_login(app: Flask) -> None:
    from accounts.service import user_for_session_token

    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    # "basic": a session seen from a new address or browser is marked not fresh. "strong" would
    # sign people out whenever a phone changes network, which they would not thank us for.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_token: str):
        return user_for_session_token(db.session, session_token)

    @login_manager.request_loader
    def load_user_from_single_sign_on(req):
        """Trust the SSO header only when enabled, and only from the configured proxies."""
        header = app.config["KITSHARE_SSO_HEADER"]
        if not header:
            return None
        peer = req.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", req.environ.get("REMOTE_ADDR", ""))
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return None
        if not any(address in network for network in app.config["KITSHARE_SSO_TRUSTED_PROXIES"]):
            return None
        value = req.environ.get(header) if header == "REMOTE_USER" else req.headers.get(header)
        from accounts.service import user_for_single_sign_on

        return user_for_single_sign_on(db.session, value or "")


def _register_blueprints(app: Flask) -> None:
    from accounts.views import admin_bp
    from accounts.views import bp as accounts_bp
    from bookings.views import bp as bookings_bp
    from dashboard.views import bp as dashboard_bp
    from inventory.views import bp as inventory_bp
    from notifications.views import bp as notifications_bp
    from planning.views import bp as planning_bp
    from reports.views import bp as reports_bp

    for blueprint in (
        accounts_bp, admin_bp, bookings_bp, dashboard_bp, inventory_bp, notifications_bp, reports_bp, planning_bp
    ):
        app.register_blueprint(blueprint)

    from api import api_v1, init_api

    csrf.exempt(api_v1)  # token-authenticated, never cookies: there is no session to forge requests in
    app.register_blueprint(api_v1)
    init_api(app)


def _register_health_check(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """For load balancers and monitoring: 200 when the database answers, 503 when not."""
        try:
            db.session.execute(db.select(1))
            db.session.rollback()
        except Exception:  # noqa: BLE001 - any failure means "not healthy", said plainly
            db.session.rollback()
            app.logger.exception("health check: the database does not answer")
            return jsonify(status="unavailable", database="unreachable"), 503
        return jsonify(status="ok", database="ok")


def _register_error_handlers(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("error.html", status=status, title=title, message=message), status

    def plain_page(
        status: int, title: str, message: str, headers: dict[str, str] | None = None, retry: bool = True
    ):
        """The error page that needs no database: rendered without the context processors, which
        load the signed-in person and their menu (error.html shows those)."""
        body = app.jinja_env.get_template("error_plain.html").render(
            status=status, title=title, message=message, request=request, url_for=url_for, retry=retry
        )
        return body, status, headers or {}

    def forget_the_transaction() -> None:
        try:
            db.session.rollback()
        except SQLAlchemyError:  # the connection is gone with the database: nothing to undo
            db.session.invalidate()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return page(
            400,
            "The form has expired",
            "This form was missing its security token or the token had expired. "
            "Go back, reload the page and submit it again.",
        )

    @app.errorhandler(NotAllowed)
    @app.errorhandler(403)
    def forbidden(error: Exception):
        message = error.message if isinstance(error, DomainError) else (
            "Your account does not have permission to see this page."
        )
        return page(403, "Not allowed", message)

    from api.problems import database_problem, error_problem, is_api_request

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def not_found(error: Exception):
        if is_api_request():  # an unknown /api/ address: answer as the API does, never with a page
            return error_problem(error)
        message = error.message if isinstance(error, DomainError) else (
            "There is no page at this address. Check the address, or start again from the home page."
        )
        return page(404, "Page not found", message)

    @app.errorhandler(405)
    def method_not_allowed(error: Exception):
        if is_api_request():
            return error_problem(error)
        return page(405, "Not possible here", "That action is not possible at this address.")

    @app.errorhandler(414)
    def uri_too_long(error: Exception):
        if is_api_request():
            return error_problem(error)
        # A plain page: nothing here needs the database or the signed-in person, and the address
        # cannot be tried again as it is.
        from config import MAX_URL_LENGTH

        return plain_page(
            414,
            "The address is too long",
            f"This address is longer than Kitshare accepts ({MAX_URL_LENGTH:,} characters), so the page was not "
            "opened. Go back and choose fewer options, or start again from the home page.",
            retry=False,
        )

    @app.errorhandler(413)
    def too_large(error: Exception):
        from inventory.media import format_size

        return page(413, "File too large", f"Uploads are limited to {format_size(app.config['MAX_CONTENT_LENGTH'])}.")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        # A rule refused what a form asked for: say why, back on the page the person came from.
        flash(error.message, "error")
        return redirect(request.referrer or url_for("dashboard.home"))

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # The database cannot be reached (restarting, or its connections dropped), or it gave up
        # on this request (a lock or statement timeout): nothing was written, and trying again
        # shortly is the answer. The page must not read the database to say so.
        forget_the_transaction()
        app.logger.error("database unavailable: %s", error.orig.__class__.__name__, exc_info=error)
        retry = {"Retry-After": str(DATABASE_RETRY_SECONDS)}
        if is_api_request():
            return database_problem(retry)
        return plain_page(
            503,
            "Kitshare is briefly unavailable",
            "Kitshare cannot reach its database just now, so nothing was changed. "
            "Please try again in a minute.",
            retry,
        )

    @app.errorhandler(500)
    def server_error(error: Exception):
        forget_the_transaction()
        title = "Something went wrong"
        message = (
            "Kitshare could not finish that request and nothing was changed. Please try again; "
            "if it keeps happening, tell your facility manager."
        )
        try:
            return page(500, title, message)
        except Exception:  # the full page needs the database and the signed-in person
            app.logger.exception("the error page could not be shown; showing the plain one")
            return plain_page(500, title, message)


def _register_template_helpers(app: Flask) -> None:
    from accounts.forms import SignOutForm
    from accounts.models import Role
    from money import format_hours, format_pounds, format_short_pounds, format_whole_pounds
    from timeutil import format_local, local_zone

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["pounds"] = format_pounds  # to the penny: prices, rates, forms
    app.jinja_env.filters["whole_pounds"] = format_whole_pounds  # summaries and figures on pages
    app.jinja_env.filters["short_pounds"] = format_short_pounds  # charts
    app.jinja_env.filters["hours"] = format_hours  # one decimal on pages
    app.jinja_env.filters["duration"] = format_minutes

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "Role": Role,
            "nav_items": _nav_items(app),
            "has_endpoint": lambda endpoint: endpoint in app.view_functions,
            "sign_out_form": SignOutForm(formdata=None) if current_user.is_authenticated else None,
            "university_name": app.config["KITSHARE_UNIVERSITY_NAME"],
            "zone_name": local_zone().key,
        }


# (label, endpoint, who sees it: a role, several, or None for everyone). An entry appears once its
# blueprint is registered.
NAV = [
    ("Find equipment", "inventory.catalogue_page", None),
    ("My bookings", "bookings.mine", None),
    ("Approvals", "bookings.approvals", "manager"),
    ("Loans", "bookings.loan_list", "manager"),
    ("Register", "inventory.register", "manager"),
    ("Reports", "reports.utilisation", ("finance", "manager")),
    ("Capital planning", "planning.index", ("finance", "manager")),
    ("Schools", "inventory.schools", None),
    ("People", "admin.users", "admin"),
]


def _nav_items(app: Flask) -> list[dict[str, Any]]:
    from accounts.models import Role

    if not current_user.is_authenticated:
        return []
    items = []
    for label, endpoint, role in NAV:
        if endpoint not in app.view_functions:
            continue
        wanted = (role,) if isinstance(role, str) else (role or ())
        visible = role is None or current_user.is_admin or any(current_user.has_role(Role(r)) for r in wanted)
        items.append(
            {"label": label, "url": url_for(endpoint), "endpoint": endpoint, "visible": visible}
        )
    return items


def format_minutes(minutes: int | None) -> str:
    """90 -> '1 hour 30 minutes'; 0 -> 'None'."""
    if not minutes:
        return "None"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((days, "day"), (hours, "hour"), (mins, "minute")) if n]
    return " ".join(parts)


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["KITSHARE_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
