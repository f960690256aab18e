"""Command-line tasks: ``flask --app wsgi <command>``. Each calls the same services as the pages."""

from __future__ import annotations

import ctypes
import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

import scheduler
from accounts import service as accounts_service
from accounts.models import Role
from bookings import day_totals
from bookings.day_totals import fill_local_days
from core.config import current_settings
from core.db import db, refresh_planner_statistics, utcnow
from core.errors import DomainError
from core.timeutil import local_zone
from demo.seed import seed
from inventory.models import School
from reports.figures import ReportSettings, utilisation_report
from reports.figures_json import report_to_json
from reports.render import file_name, render_csv, render_xlsx


def register_commands(app: Flask) -> None:
    for command in (
        init_db,
        seed_demo,
        create_user,
        create_token,
        run_scheduler,
        serve,
        report,
        rebuild_booked_days,
    ):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database schema, or upgrade it to the newest version."""
    upgrade()
    refresh_planner_statistics(db.engine)
    click.echo("The database schema is up to date.")


@click.command("rebuild-booked-days")
@with_appcontext
def rebuild_booked_days() -> None:
    """Fill the calendar of local days for KITSHARE_TIMEZONE and work the day totals of booked
    time out again from the bookings, in one transaction: after a change of zone (until then
    the utilisation report reads the bookings themselves, and logs that it does)."""
    zone = local_zone()
    with db.engine.begin() as connection:
        fill_local_days(connection, zone)
        rows = day_totals.rebuild(connection)
    click.echo(f"Booked time by day rebuilt for {zone.key}: {rows} rows.")


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--password", default=None, help="One password for every demo account (default: a random one each)."
)
@click.option("--yes", is_flag=True, help="Do not ask before seeding a production database.")
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the demo sign-ins to this file (kept private to you), for later runs to show.",
)
def seed_demo(password: str | None, yes: bool, credentials_file: Path | None) -> None:
    """Fill the database with a demo university. Running it again adds nothing twice."""
    if current_settings().production and not yes:
        click.confirm("KITSHARE_ENV is production. Add demo Schools, people and bookings?", abort=True)
    result = seed(db.session, password=password)
    refresh_planner_statistics(db.engine)
    summary = result.summary()
    if credentials_file is None:
        click.echo(summary)
        return
    if result.created or not credentials_file.exists():
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text(summary + "\n")
        credentials_file.chmod(0o600)
    else:
        click.echo("The demo data is already there; nothing was added.")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([role.value for role in Role]),
    default=[Role.TECHNICIAN.value],
    show_default=True,
    help="Repeat for several roles. A manager manages the --school.",
)
@click.option(
    "--school", "school_code", default=None, help="Home School's code (and the School a manager manages)."
)
def create_user(
    email: str, name: str, password: str, roles: tuple[str, ...], school_code: str | None
) -> None:
    """Create a person with the given roles."""
    session = db.session
    school = None
    if school_code:
        school = session.scalar(select(School).where(func.lower(School.code) == school_code.lower()))
        if school is None:
            codes = ", ".join(session.scalars(select(School.code).order_by(School.code))) or "none yet"
            raise click.BadParameter(
                f"No School with code {school_code!r} (known: {codes}).", param_hint="--school"
            )
    role_set = [Role(role) for role in roles]
    try:
        user = accounts_service.create_user(  # a command: its own unit of work
            session,
            email=email,
            name=name,
            password=password,
            home_school=school,
            roles=role_set,
            managed_schools=[school] if school else [],
        )
    except DomainError as error:
        details = [
            f"{field}: {message}"
            for field, messages in getattr(error, "field_errors", {}).items()
            for message in messages
        ]
        raise click.ClickException("; ".join(details) or error.message) from error
    click.echo(f"Created {user.email} ({', '.join(role.value for role in user.roles)}).")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--name", default="Command-line token", show_default=True)
@click.option(
    "--days",
    default=accounts_service.DEFAULT_TOKEN_LIFETIME_DAYS,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="How many days the token works.",
)
def create_token(email: str, name: str, days: int) -> None:
    """Print a new personal API token for EMAIL. Only its hash is stored: copy it now.

    An admin's tool on the server (whoever runs it can read the database anyway), so it asks for
    no password; a person makes their own tokens on their profile page, with their password."""
    session = db.session
    user = accounts_service.find_user_by_email(session, email)
    if user is None:
        raise click.ClickException(f"No account with the email address {email}.")
    try:
        _token, secret = accounts_service.create_api_token(  # a command: its own unit of work
            session, user, name, expires_at=utcnow() + dt.timedelta(days=days)
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(secret)


@click.command("scheduler")
@with_appcontext
def run_scheduler() -> None:
    """Run the background jobs in this process (one scheduler per deployment)."""
    scheduler.run(current_app._get_current_object())  # type: ignore[attr-defined]


#: How long ``serve`` waits for its processes to stop after Ctrl-C before killing them.
SERVE_STOP_SECONDS = 10


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def serve(context: click.Context, host: str, port: int) -> None:
    """Run the development web server and the scheduler together (what `make run` does).

    Two child processes, `flask run` and `flask scheduler`, with this environment. Ctrl-C (or
    SIGTERM) stops both; if either stops on its own, the other is stopped too. In production run
    them separately, under a process manager (docs/deployment.md).
    """
    info = context.find_object(ScriptInfo)
    app_path = (info.app_import_path if info else None) or "wsgi"
    flask = [sys.executable, "-m", "flask", "--app", app_path]
    commands = {
        "web server": [*flask, "run", "--host", host, "--port", str(port)],
        "scheduler": [*flask, "scheduler"],
    }
    # The children get a session of their own, so a terminal's Ctrl-C reaches only this process,
    # which passes it on once; on Linux they are also stopped if this process is killed outright.
    children = {
        name: subprocess.Popen(command, start_new_session=True, preexec_fn=_stop_with_parent)
        for name, command in commands.items()
    }
    click.echo(
        f"Web server (pid {children['web server'].pid}) and scheduler (pid {children['scheduler'].pid}) "
        "started; Ctrl-C stops both."
    )

    def stop_on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    exit_code = 0
    try:
        while True:
            stopped = next((name for name, child in children.items() if child.poll() is not None), None)
            if stopped is not None:
                exit_code = children[stopped].returncode or 1
                click.echo(
                    f"The {stopped} stopped (exit code {children[stopped].returncode}); stopping the other.",
                    err=True,
                )
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        _stop_children(list(children.values()))
    sys.exit(exit_code)


def _stop_with_parent() -> None:  # runs in the child, before it executes flask
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _stop_children(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)  # as Ctrl-C would: both stop cleanly on it
    deadline = time.monotonic() + SERVE_STOP_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@click.command("report")
@with_appcontext
@click.option(
    "--from",
    "period_from",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day, e.g. 2026-09-01.",
)
@click.option(
    "--to",
    "period_to",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day (included), e.g. 2026-09-30.",
)
@click.option(
    "--school",
    "school_codes",
    multiple=True,
    help="A School's code; repeat for several. Default: every School.",
)
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write. Default: CSV to standard output; XLSX to utilisation-FROM-to-TO-SCHOOLS.xlsx in this folder.",
)
def report(
    period_from, period_to, school_codes: tuple[str, ...], file_format: str, output: Path | None
) -> None:
    """Write the utilisation report for a period (local dates, both included) as CSV or XLSX.

    The same figures as the report page, for every School or those given with --school.
    """
    session = db.session
    school_ids = None
    if school_codes:
        school_ids = set()
        for code in school_codes:
            school = session.scalar(select(School).where(func.lower(School.code) == code.strip().lower()))
            if school is None:
                codes = ", ".join(session.scalars(select(School.code).order_by(School.code))) or "none yet"
                raise click.BadParameter(
                    f"No School with code {code!r} (known: {codes}).", param_hint="--school"
                )
            school_ids.add(school.id)
    try:
        result = utilisation_report(
            session,
            period_from.date(),
            period_to.date(),
            school_ids,
            ReportSettings.from_config(current_settings()),
        )
    except DomainError as error:
        details = [
            message for messages in getattr(error, "field_errors", {}).values() for message in messages
        ]
        raise click.ClickException(" ".join(details) or error.message) from error
    figures = report_to_json(result)
    if file_format == "csv":
        text = render_csv(figures)
        if output is None:
            click.echo(text, nl=False)
            return
        output.write_text(text, encoding="utf-8", newline="")
    else:
        output = output or Path(file_name(figures, "xlsx"))
        output.write_bytes(render_xlsx(figures))
    click.echo(f"Wrote {output}.", err=True)
