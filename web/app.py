"""The application factory: settings, extensions, blueprints, error pages, CLI. ``wsgi.py`` calls it."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, jsonify
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

import accounts.models
import bookings.models
import core.audit
import inventory.models
import notifications.models
import people.models
import planning.models
import reports.models
from accounts.forms import SignOutForm
from accounts.models import Role
from accounts.service import (
    HashCost,
    configure_password_hashing,
    user_for_session_token,
    user_for_single_sign_on,
)
from accounts.views import admin_bp
from accounts.views import bp as accounts_bp
from api import api_v1, init_api
from api.problems import is_api_request
from bookings.views import bp as bookings_bp
from bookings.waitlist import configure_offer_window
from cli import register_commands
from core.config import (
    EXTENSION_KEY,
    INSTANCE_DIR,
    PROJECT_ROOT,
    Config,
    configure_site_url,
    current_settings,
)
from core.db import db
from core.money import format_hours, format_pounds, format_short_pounds, format_whole_pounds
from core.timeutil import format_local, format_minutes, local_zone, set_local_zone
from dashboard.views import bp as dashboard_bp
from inventory.views import bp as inventory_bp
from notifications.views import bp as notifications_bp
from people.views import bp as people_bp
from planning.views import bp as planning_bp
from reports.views import bp as reports_bp
from web.error_pages import register_error_handlers
from web.navigation import nav_items
from web.request_log import configure_logging, register_url_limit
from web.security import register_security_headers

login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()

MIGRATIONS_DIR = str(PROJECT_ROOT / "migrations")


#: Every model module (core.audit holds the audit log table), imported above so the metadata
#: (and Alembic) sees every table.
MODEL_MODULES = (
    accounts.models,
    bookings.models,
    core.audit,
    inventory.models,
    notifications.models,
    people.models,
    planning.models,
    reports.models,
)


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    """Build a Kitshare application.

    ``config`` is a ``Config``, or a mapping of settings laid over the environment's (tests pass
    ``{"KITSHARE_ENV": "testing", "DATABASE_URL": ...}``), or None for the environment alone.
    """
    if not isinstance(config, Config):
        config = Config.from_env().with_overrides(config or {})
    flask_settings = config.flask_settings()  # raises ConfigError for unsafe settings

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(flask_settings)
    app.extensions[EXTENSION_KEY] = config  # Kitshare's own settings: core.config.current_settings()
    if config.KITSHARE_PROXY_COUNT:
        count = config.KITSHARE_PROXY_COUNT
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(exist_ok=True)
    configure_logging(app, config.log_format)
    register_url_limit(app)  # before anything else reads the request (CSRF, sign-in, rate limit)

    # Process-wide, as there is one university per deployment: its zone, its public address (for
    # links in notices made outside a request), the password hasher's cost and how long a waitlist
    # offer stays open (both used deep inside commands that many callers reach).
    set_local_zone(config.KITSHARE_TIMEZONE)
    configure_site_url(config.base_url)
    configure_password_hashing(HashCost(config.PASSWORD_HASH_TIME_COST, config.PASSWORD_HASH_MEMORY_KIB))
    configure_offer_window(config.KITSHARE_WAITLIST_OFFER_MINUTES)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    _configure_login(app)
    _register_blueprints(app, config)
    _register_health_check(app)
    register_error_handlers(app)
    _register_template_helpers(app, config)
    register_security_headers(app, hsts=config.production)

    register_commands(app)
    return app


class NoSessionForTheApi(SecureCookieSessionInterface):
    """The JSON API never reads or sets cookies: its requests get an empty session that is never
    saved, so a browser's sign-in cookie sent along is neither believed nor rewritten (not even
    marked not fresh by session protection). The pages keep Flask's signed-cookie session."""

    def open_session(self, app, request):  # type: ignore[no-untyped-def]
        return self.session_class() if is_api_request() else super().open_session(app, request)

    def save_session(self, app, session, response) -> None:  # type: ignore[no-untyped-def]
        if not is_api_request():
            super().save_session(app, session, response)


def _configure_login(app: Flask) -> None:
    app.session_interface = NoSessionForTheApi()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    # "basic": a session seen from a new address or browser is marked not fresh. "strong" would
    # sign people out whenever a phone changes network, which they would not thank us for.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_token: str):
        if is_api_request():  # a remember-me cookie sent to the API: its only key is the token
            return None
        return user_for_session_token(db.session, session_token)

    @login_manager.request_loader
    def load_user_from_request(req):
        """The API: the token's user, found by ``api.auth.authenticate`` (None before it, or on the
        public views). The pages: trust the SSO header only when enabled, and only from the
        configured proxies."""
        if is_api_request():
            return g.get("api_user")
        settings = current_settings()
        header = settings.KITSHARE_SSO_HEADER
        if not header:
            return None
        peer = req.environ.get("werkzeug.proxy_fix.orig", {}).get(
            "REMOTE_ADDR", req.environ.get("REMOTE_ADDR", "")
        )
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return None
        if not any(address in network for network in settings.sso_trusted_networks):
            return None
        value = req.environ.get(header) if header == "REMOTE_USER" else req.headers.get(header)
        return user_for_single_sign_on(db.session, value or "")


def _register_blueprints(app: Flask, config: Config) -> None:
    for blueprint in (
        accounts_bp,
        admin_bp,
        bookings_bp,
        dashboard_bp,
        inventory_bp,
        notifications_bp,
        reports_bp,
        planning_bp,
        people_bp,
    ):
        app.register_blueprint(blueprint)

    csrf.exempt(api_v1)  # token-authenticated, never cookies: there is no session to forge requests in
    app.register_blueprint(api_v1)
    init_api(app, config)


def _register_health_check(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """For load balancers and monitoring: 200 when the database answers, 503 when not."""
        try:
            db.session.execute(db.select(1))
            db.session.rollback()
        except Exception:
            db.session.rollback()
            app.logger.exception("health check: the database does not answer")
            return jsonify(status="unavailable", database="unreachable"), 503
        return jsonify(status="ok", database="ok")


def _register_template_helpers(app: Flask, config: Config) -> None:
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
            "nav_items": nav_items(app),
            "has_endpoint": lambda endpoint: endpoint in app.view_functions,
            "sign_out_form": SignOutForm(formdata=None) if current_user.is_authenticated else None,
            "university_name": config.KITSHARE_UNIVERSITY_NAME,
            "zone_name": local_zone().key,
        }
