"""Test set-up: the whole suite runs once per database.

``make test`` runs pytest on SQLite, then again with ``KITSHARE_TEST_DB=postgresql`` against
``TEST_DATABASE_URL``. The schema is built by the Alembic migrations (so they are tested too), and
every test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.config import EXTENSION_KEY, Config
from core.db import db
from web.app import create_app

TEST_DB = os.environ.get("KITSHARE_TEST_DB", "sqlite")
TEST_SECRET = "test-secret-key-" + "x" * 32
PASSWORD = "correct horse battery"


def pytest_report_header(config: pytest.Config) -> str:
    return f"Kitshare test database: {TEST_DB}"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.exit("KITSHARE_TEST_DB=postgresql needs TEST_DATABASE_URL (a PostgreSQL URL)", returncode=1)
    from core.config import normalise_database_url

    url = normalise_database_url(url)
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    except sa.exc.OperationalError as error:
        # In CI this is a failure, never a skip: the PostgreSQL pass must really run.
        pytest.exit(f"PostgreSQL at {target.render_as_string()} cannot be reached: {error}", returncode=1)
    finally:
        admin.dispose()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DB == "postgresql":
        return _postgres_url()
    if TEST_DB != "sqlite":
        pytest.exit(f"KITSHARE_TEST_DB must be sqlite or postgresql, not {TEST_DB!r}", returncode=1)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'kitshare-test.db'}"


def settings_of(app: Flask) -> Config:
    """The app's Kitshare settings (what ``core.config.current_settings()`` gives inside it)."""
    settings: Config = app.extensions[EXTENSION_KEY]
    return settings


def change_settings(app: Flask, monkeypatch: pytest.MonkeyPatch, **changes: object) -> None:
    """Change some of the running app's Kitshare settings for one test (undone after it)."""
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, replace(settings_of(app), **changes))  # type: ignore[arg-type]


def settings_for_tests(database_url: str, **overrides: object) -> dict[str, object]:
    settings: dict[str, object] = {
        "KITSHARE_ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        "MAIL_OUTBOX_DIR": "",
        "WTF_CSRF_ENABLED": False,
    }
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(settings_for_tests(database_url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app


def _empty_all_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        # Reference data the migrations write (the calendar of local days) stays; the totals the
        # triggers keep go after the rows they are kept from (whose deletes move them).
        kept = [t for t in reversed(db.metadata.sorted_tables) if not t.info.get("reference_data")]
        tables = [t.name for t in kept if not t.info.get("kept_by_triggers")]
        tables += [t.name for t in kept if t.info.get("kept_by_triggers")]
        with db.engine.begin() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            tables += [name for name in ("scheduler_jobs",) if name in existing]
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    "TRUNCATE " + ", ".join(f'"{name}"' for name in tables) + " RESTART IDENTITY CASCADE"
                )
            else:
                for name in tables:
                    conn.exec_driver_sql(f'DELETE FROM "{name}"')


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that touches the database starts with empty tables."""
    yield
    if "app" in request.fixturenames:
        _empty_all_tables(request.getfixturevalue("app"))


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session of the test's own for arranging and asserting, apart from the requests' sessions
    (as a person's browser is apart from the server). Requests each get their own app context."""
    with app.app_context():
        engine = db.engine
    with Session(engine, expire_on_commit=False) as test_session:
        yield test_session


@pytest.fixture
def client(app: Flask, session: sa.orm.Session) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, remember: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/sign-in", data=data)


def see_committed(session: Session) -> None:
    """Forget what the test's session has cached and end its transaction, so the next read sees
    what requests have committed since (SQLite keeps a reader on its snapshot until then)."""
    session.rollback()
    session.expire_all()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port, one thread per request."""
    import threading

    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright, one for the whole run: tests/e2e, tests/stories and
    every other browser test share it (a second sync Playwright in the same thread cannot start).
    Without it these tests skip on a developer's machine and fail in CI."""
    from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()
