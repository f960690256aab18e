"""The error pages: HTML for people, problem documents for the API, and a plain page that needs
no database when the database is what failed."""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from api.problems import database_problem, error_problem, is_api_request
from core.config import MAX_URL_LENGTH
from core.db import db
from core.errors import DomainError, NotAllowed, NotFound
from inventory.media import format_size

#: When a request that found the database unreachable tells its caller to try again (Retry-After).
DATABASE_RETRY_SECONDS = 30


def register_error_handlers(app: Flask) -> None:
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
        message = (
            error.message
            if isinstance(error, DomainError)
            else ("Your account does not have permission to see this page.")
        )
        return page(403, "Not allowed", message)

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def not_found(error: Exception):
        if is_api_request():  # an unknown /api/ address: answer as the API does, never with a page
            return error_problem(error)
        message = (
            error.message
            if isinstance(error, DomainError)
            else ("There is no page at this address. Check the address, or start again from the home page.")
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
        return plain_page(
            414,
            "The address is too long",
            f"This address is longer than Kitshare accepts ({MAX_URL_LENGTH:,} characters), so the page was not "
            "opened. Go back and choose fewer options, or start again from the home page.",
            retry=False,
        )

    @app.errorhandler(413)
    def too_large(error: Exception):

        return page(
            413, "File too large", f"Uploads are limited to {format_size(app.config['MAX_CONTENT_LENGTH'])}."
        )

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
