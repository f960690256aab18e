"""Story tests: a real served app, driven the way a person would, on the demo university.

``demo`` gives each test its own copy of a database that ``seed-demo`` filled once per run (SQLite:
a copy of the file; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``), served over real HTTP by a
threaded Werkzeug server, with CSRF on as in production. Every demo person's password is
``DEMO_PASSWORD``. ``browser``/``new_page`` come from tests/e2e (Debian's Chromium, never
downloaded); use ``demo.page()`` for a browser page on the demo app.

A story that needs a world of its own can use the plain ``live_server`` and ``new_page`` fixtures
(empty tables) and build it through the pages and the API.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from core.db import db
from tests.conftest import TEST_DB, settings_for_tests
from tests.e2e.conftest import VIEWPORTS, new_page, screenshot, sign_in_as  # noqa: F401  (new_page: a fixture)
from web.app import create_app

DEMO_PASSWORD = "demo-password-1234"


def _demo_email(name: str) -> str:
    from demo.world import PEOPLE

    for person in PEOPLE:
        if person.email_name == name:
            return person.email
    raise KeyError(name)


def _postgres_admin(url: str) -> tuple[sa.Engine, sa.URL]:
    target = sa.make_url(url)
    return sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT"), target


def _create_app(url: str, **overrides: Any) -> Flask:
    settings = settings_for_tests(url, WTF_CSRF_ENABLED=True)
    settings.update(overrides)
    return create_app(settings)


@pytest.fixture(scope="session")
def demo_template(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated and seeded with the demo university once per run: the template."""
    if TEST_DB == "postgresql":
        admin, target = _postgres_admin(database_url)
        name = f"{target.database}_demo_template"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = target.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo-template.db'}"
    app = _create_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        from core.db import refresh_planner_statistics
        from demo.seed import seed

        upgrade()
        seed(db.session, password=DEMO_PASSWORD)
        refresh_planner_statistics(db.engine)
        db.session.remove()
        db.engine.dispose()
    if TEST_DB == "sqlite":
        checkpoint = sa.create_engine(url)
        with checkpoint.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpoint.dispose()
    return url


def _copy_database(template_url: str, tmp_path: Path) -> str:
    if TEST_DB == "postgresql":
        admin, target = _postgres_admin(template_url)
        name = target.database.removesuffix("_template") + "_" + str(os.getpid())
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{target.database}"')
        admin.dispose()
        return target.set(database=name).render_as_string(hide_password=False)
    source = Path(sa.make_url(template_url).database)
    copy = tmp_path / "demo.db"
    shutil.copyfile(source, copy)
    return f"sqlite:///{copy}"


@dataclass
class Demo:
    """The demo university served for one test."""

    app: Flask
    url: str
    database_url: str
    _new_page: Any = None
    _sessions: list[Session] = field(default_factory=list)

    password: str = DEMO_PASSWORD

    @staticmethod
    def email(name: str) -> str:
        """A demo person's address from the part before the @: ``demo.email("manager.chem")``."""
        return _demo_email(name)

    def session(self) -> Session:
        """A database session of the test's own (apart from the server's), for arranging and
        checking. Call ``see_committed`` before reading what requests wrote."""
        with self.app.app_context():
            engine = db.engine
        session = Session(engine, expire_on_commit=False)
        self._sessions.append(session)
        return session

    def page(self, viewport: str = "desktop", sign_in: str | None = None):
        """A fresh browser page on this app (``viewport``: desktop 1280 px or phone 390 px),
        signed in as the demo person ``sign_in`` (e.g. "tom.whitfield") when given."""
        page = self._new_page(viewport)
        if sign_in:
            sign_in_as(page, self.email(sign_in), DEMO_PASSWORD)
        return page

    def close(self) -> None:
        for session in self._sessions:
            session.close()


def serve(app: Flask) -> tuple[str, Any, threading.Thread]:
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{httpd.server_port}", httpd, thread


@pytest.fixture
def demo(demo_template: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Demo]:
    """A fresh copy of the seeded demo university, served over HTTP for this test alone."""
    database_url = _copy_database(demo_template, tmp_path)
    app = _create_app(database_url, **getattr(request, "param", {}))
    url, httpd, thread = serve(app)
    contexts: list[Any] = []

    def new_page(viewport: str = "desktop"):  # noqa: F811  (the demo's own, shadowing the e2e fixture)
        browser = request.getfixturevalue("browser")
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            base_url=url,
            bypass_csp=True,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    world = Demo(app=app, url=url, database_url=database_url, _new_page=new_page)
    yield world
    for context in contexts:
        context.close()
    world.close()
    httpd.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if TEST_DB == "postgresql":
        admin, target = _postgres_admin(database_url)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        admin.dispose()
