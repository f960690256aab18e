"""The database layer every package shares: the declarative Base, UTC times, units of work.

Times are aware UTC datetimes everywhere inside Kitshare. ``UTCDateTime`` keeps them so on
SQLite, which has no time zone type, and refuses naive datetimes rather than guessing.

One transaction rule, the same for every public command (a service function that writes):

    A command owns its unit of work. It opens ``atomic(session, actor)`` itself, around its
    reads and its writes, so when it returns everything it did is committed, and when it
    raises nothing it did is left. Callers (views, the API, the CLI, scheduler jobs, tests)
    call it bare, never inside an ``atomic`` of their own.

Consequences, not exceptions:

* A command may call another command: ``atomic`` inside ``atomic`` joins the outer unit, so the
  inner one commits with the outer, all or nothing (``accept_offer`` books through
  ``request_booking``). A caller holding an ``atomic`` around one command is therefore harmless
  but pointless.
* A page that must show a manager what a change would affect before making it holds one unit
  around the listing, the command and the check that every affected booking has a decision
  (``inventory.views.affected.require_decisions``, whose ``ConfirmationNeeded`` rolls it all
  back); the command joins it. So does the API's asset update, which makes an edit and a status
  change one whole. These are the only callers holding a unit, and each says why.
* A command that must record something after its own failure (a refused request becomes unmet
  demand) does it in a second unit after the first rolled back; both are its own.
* A batch job that processes items one by one (``reports.delivery.deliver_due``,
  ``notifications.service.send_due``) owns one unit per item, so that one bad item does not undo
  the others; it cannot be joined to a caller's unit, and raises if called inside one.
* Helpers that only make one step of a command (``bookings.service.change_status``,
  ``record_unmet_demand``) are not commands: they run inside the unit of the command calling
  them. Reads need no unit.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, registry
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC

# Stable constraint names, so Alembic migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database; naive values are a programming error."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: convert to UTC at the edge")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


# Objects keep their loaded state when a transaction commits: a request that has just written a
# booking goes on to show it without reading every row back (four statements a booking). Each
# request has its own session, so nothing stale outlives the request.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC. Tests move the clock with time-machine."""
    return dt.datetime.now(UTC)


# --- SQLite: real transactions --------------------------------------------------------------
# Python's sqlite3 begins transactions lazily, so a read followed by a write can race with another
# writer. Following SQLAlchemy's SQLite dialect documentation we take over BEGIN ourselves; a unit
# of work (``atomic``) asks for BEGIN IMMEDIATE, which takes SQLite's write lock before its first
# read, so concurrent writers queue (busy_timeout) instead of interleaving.


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


#: The execution option that makes a connection's transactions BEGIN IMMEDIATE on SQLite (a
#: unit of work's, and every one of an engine made with it, such as the scheduler's job store).
SERIALISED = "kitshare_serialised"


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection: Any) -> None:
    if connection.dialect.name != "sqlite":
        return
    if connection.get_execution_options().get(SERIALISED):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


@contextmanager
def atomic(session: Session, actor: Any = None) -> Iterator[Session]:
    """One unit of work: everything inside commits together or not at all.

    ``actor`` (a user, or None for the system) is who the audit log records for the changes.
    On SQLite the unit starts a fresh ``BEGIN IMMEDIATE`` transaction, taking the write lock
    before its first read: a check followed by a write cannot interleave with another writer,
    and a writer never fails on a stale read snapshot. A unit inside a unit joins the outer one.
    """
    if session.info.get("atomic_depth"):
        session.info["atomic_depth"] += 1
        try:
            yield session
        finally:
            session.info["atomic_depth"] -= 1
        return
    if session.get_bind().dialect.name == "sqlite":
        if session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty):
            raise RuntimeError("Changes were made outside a unit of work; make them inside atomic().")
        session.rollback()  # end the request's read transaction; the unit begins IMMEDIATE
        session.connection(execution_options={SERIALISED: True})
    previous_actor = session.info.get("actor_id")
    session.info["actor_id"] = getattr(actor, "id", None)
    session.info["atomic_depth"] = 1
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info["actor_id"] = previous_actor
        session.info["atomic_depth"] = 0


#: SQLite's ANALYZE reads every index entry (analysis_limit 0): half a second at a million
#: bookings. A sample (analysis_limit N) reads only each index's first N entries, which at that
#: size said the status index was 166 times more selective than it is, and SQLite then checked
#: new bookings through it (16 ms instead of 0.4 ms).
SQLITE_ANALYSIS_LIMIT = 0


def refresh_planner_statistics(engine: Any) -> bool:
    """Gather the statistics SQLite's query planner picks indexes by (``ANALYZE``).

    Without them SQLite guesses from the shape of each query alone: at a million bookings it read
    the yearly report's cancellations through the status index once per asset instead of the
    asset's own index (23 s for a query that takes 0.2 s with them). PostgreSQL's autovacuum keeps
    its statistics itself: there this does nothing. Returns whether statistics were gathered."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        connection.exec_driver_sql(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return True


def str_enum(enum_class: type, name: str) -> Any:
    """A column type storing an enum's values as text, with a CHECK constraint on every database."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


# --- Portable SQL ---------------------------------------------------------------------------
from sqlalchemy.ext.compiler import compiles  # noqa: E402
from sqlalchemy.sql.expression import FunctionElement  # noqa: E402
from sqlalchemy.types import Float  # noqa: E402


class hours_between(FunctionElement[float]):
    """SQL: the hours from the first timestamp to the second, on PostgreSQL and SQLite alike."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between, "postgresql")
def _hours_between_pg(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)})) / 3600.0)"


@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 24.0)"
