"""Portable SQL for the reports: the same expressions on PostgreSQL and SQLite.

Clipping an interval to a period needs the larger of two start times and the smaller of two end
times for each row. PostgreSQL spells these GREATEST and LEAST; SQLite's scalar max() and min()
with two or more arguments do the same. (Neither is an aggregate here.) Every argument must be
non-NULL: SQLite's max() returns NULL if any argument is NULL, PostgreSQL's GREATEST ignores it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    Select,
    Subquery,
    Table,
    Time,
    case,
    column,
    func,
    select,
    text,
    true,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement, Join
from sqlalchemy.sql.visitors import InternalTraversal

from core.db import UTCDateTime


class greatest(FunctionElement[Any]):
    """SQL: the latest of two or more (non-NULL) times."""

    type = UTCDateTime()
    inherit_cache = True
    name = "greatest"


class least(FunctionElement[Any]):
    """SQL: the earliest of two or more (non-NULL) times."""

    type = UTCDateTime()
    inherit_cache = True
    name = "least"


def _arguments(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    return ", ".join(compiler.process(argument, **kw) for argument in element.clauses)


@compiles(greatest, "postgresql")
def _greatest_pg(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({_arguments(element, compiler, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({_arguments(element, compiler, **kw)})"


@compiles(least, "postgresql")
def _least_pg(element: least, compiler: Any, **kw: Any) -> str:
    return f"LEAST({_arguments(element, compiler, **kw)})"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({_arguments(element, compiler, **kw)})"


def utc_text(value: dt.datetime) -> str:
    """An aware datetime as SQLite's text of it, the way ``UTCDateTime`` stores it."""
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S.%f}"


def utc_sql(value: dt.datetime, dialect: str) -> str:
    """An aware datetime as an SQL literal, the way ``UTCDateTime`` stores it."""
    if dialect == "postgresql":
        return f"CAST('{value.astimezone(dt.UTC).isoformat()}' AS TIMESTAMP WITH TIME ZONE)"
    return f"'{utc_text(value)}'"


#: On SQLite, a report's in-service bounds are rows of this temporary table of the connection
#: that reads (``ServiceBounds.prepare``): SQLite looks each booking's bounds up by its primary
#: key. (Joined to an inline VALUES table, SQLite first scanned the whole bookings index for a
#: Bloom filter on every read: 0.2-0.4 s for a few thousand rows; 10 ms from this table.)
SERVICE_TABLE = Table(
    "report_service",
    MetaData(),
    Column("asset_id", Integer, primary_key=True),
    Column("lo", UTCDateTime()),
    Column("hi", UTCDateTime()),
)


def read_all(connection: Connection, query: Select[Any]) -> Sequence[Any]:
    """Every row of ``query``. On SQLite the database returns them as one JSON array, each row
    converted by its columns' types (``_converter``); elsewhere as rows.

    The report reads on several threads at once (``reports.aggregate.Clipper.start``). SQLite
    works without Python's lock, but hands rows back one at a time, taking the lock for each: a
    thread reading rows while another works in Python waits up to the interpreter's switch
    interval (5 ms) for every row, and a read of thousands of rows crawls. As one value, SQLite
    works out the whole result in one step, without the lock, while the other threads go on (the
    yearly report at full size: 1.5 s on two threads, 2.2 s on one)."""
    if connection.dialect.name != "sqlite":
        return connection.execute(query).all()
    inner = query.subquery()
    value = connection.execute(
        select(func.json_group_array(func.json_array(*(_exactly(column) for column in inner.c))))
    ).scalar_one()
    converters = [
        (index, process)
        for index, column in enumerate(query.selected_columns)
        if (process := _converter(column.type, connection.dialect)) is not None
    ]
    rows = json.loads(value)
    for row in rows if converters else ():
        for index, process in converters:
            row[index] = process(row[index])
    return [tuple(row) for row in rows]


def _converter(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How ``read_all`` turns a column's value in SQLite's JSON into Python: SQLite's text of a
    time, date or time of day by ``fromisoformat`` (the driver's own conversion, a regular
    expression for each value, took most of the Python time of reads of tens of thousands of
    rows; dates and times of day repeat, so each is parsed once); anything else as the column's
    type converts it."""
    if isinstance(column_type, UTCDateTime):
        return _utc_instant
    if isinstance(column_type, Date):
        return _date
    if isinstance(column_type, Time):
        return _time
    return column_type._cached_result_processor(dialect, None)


def _utc_instant(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=8192)
def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


@functools.lru_cache(maxsize=4096)
def _time(value: str | None) -> dt.time | None:
    return None if value is None else dt.time.fromisoformat(value)


def _exactly(value: Any) -> Any:
    """SQLite: a value for ``json_array`` that keeps every digit of a floating-point number (its
    JSON has 15 significant digits; 17 give the number back exactly)."""
    return case((func.typeof(value) == "real", func.json(func.printf("%!.17g", value))), else_=value)


class ServiceBounds:
    """A report's assets whose in-service days in the period are not the whole period, with those
    bounds: the table ``service (asset_id, lo, hi)``. On PostgreSQL an inline table, written as
    literals (ints and datetimes formatted here, never text from outside), so a report covering
    tens of thousands of assets stays within the databases' limits on bound parameters; on SQLite
    a temporary table, filled on each connection before a read (``prepare``)."""

    def __init__(self, rows: list[tuple[int, dt.datetime, dt.datetime]], dialect: str) -> None:
        self.rows = rows
        self.dialect = dialect
        self.table: Any = SERVICE_TABLE if dialect == "sqlite" else _inline_table(rows, dialect)

    def prepare(self, connection: Connection) -> None:
        """Make ``table`` hold these rows for reads on ``connection`` (SQLite: its own temporary
        table, which no other connection sees, emptied and filled again)."""
        if self.dialect != "sqlite":
            return
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS report_service "
            "(asset_id INTEGER PRIMARY KEY, lo VARCHAR, hi VARCHAR)"
        )
        connection.execute(SERVICE_TABLE.delete())
        if self.rows:
            connection.exec_driver_sql(
                "INSERT INTO report_service (asset_id, lo, hi) "
                "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') "
                "FROM json_each(?)",
                (json.dumps([[a, utc_text(lo), utc_text(hi)] for a, lo, hi in self.rows]),),
            )


def _inline_table(rows: list[tuple[int, dt.datetime, dt.datetime]], dialect: str) -> Subquery:
    body = ", ".join(
        f"({int(asset_id)}, {utc_sql(lo, dialect)}, {utc_sql(hi, dialect)})" for asset_id, lo, hi in rows
    )
    return (
        text(f"SELECT column1 AS asset_id, column2 AS lo, column3 AS hi FROM (VALUES {body}) AS service_rows")
        .columns(column("asset_id", Integer), column("lo", UTCDateTime()), column("hi", UTCDateTime()))
        .subquery("service")
    )


class ordered_join(Join):
    """An inner join whose left side the database reads first, looking the right side up for
    each of its rows: SQLite's ``CROSS JOIN ... ON`` (its documented way to fix a join order);
    a plain ``JOIN`` elsewhere, where the planner's statistics choose well. For a small driving
    table (a report's maintenance windows) and the bookings' indexes, SQLite otherwise scans the
    bookings and the small table for each of them."""

    inherit_cache = True
    _traverse_internals = Join._traverse_internals + [
        ("left_index", InternalTraversal.dp_string),
        ("right_index", InternalTraversal.dp_string),
    ]

    def __init__(
        self, left: Any, right: Any, onclause: Any, right_index: str = "", left_index: str = ""
    ) -> None:
        """``right_index``, ``left_index``: on SQLite, the index of ``right`` (a table) to look its
        rows up by, and of ``left`` to read it by."""
        super().__init__(left, right, onclause)
        self.right_index = right_index
        self.left_index = left_index


@compiles(ordered_join, "sqlite")
def _ordered_join_sqlite(join: ordered_join, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    left = f" INDEXED BY {join.left_index}" if join.left_index else ""
    right = f" INDEXED BY {join.right_index}" if join.right_index else ""
    return (
        f"{compiler.process(join.left, **kw)}{left} CROSS JOIN {compiler.process(join.right, **kw)}{right} "
        f"ON {compiler.process(join.onclause, **kw)}"
    )


class indexed_by(Join):
    """A table read through a named index: SQLite's ``table INDEXED BY index``; the plain table
    elsewhere. (A join of the table with itself only so that a SELECT takes it as the table's
    place in its FROM list; it compiles to the one table. Inside a join, use ``ordered_join``'s
    ``right_index``: a join nested in another is put in parentheses, which SQLite reads as a
    subquery and builds a temporary index over the whole table for.) For the report's reads of the
    bookings, which SQLite otherwise reads by status and start: in time order, a random walk
    through the table, then sorted again by asset for the GROUP BY, three times slower than by
    asset and start (``ix_bookings_asset_time``), the order the GROUP BY wants."""

    inherit_cache = True
    _traverse_internals = Join._traverse_internals + [("index", InternalTraversal.dp_string)]

    def __init__(self, table: Any, index: str) -> None:
        super().__init__(table, table, true())
        self.index = index


@compiles(indexed_by)
def _indexed_by_plain(element: indexed_by, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    return compiler.process(element.left, **kw)


@compiles(indexed_by, "sqlite")
def _indexed_by_sqlite(element: indexed_by, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    return f"{compiler.process(element.left, **kw)} INDEXED BY {element.index}"


class seconds_since(FunctionElement[float]):
    """SQL: the seconds from ``origin`` to ``moment`` (both times), as a number: summed over a
    group, and differenced in Python, it gives the group's time in any month without SQL
    working out each row's month end."""

    type = Float()
    inherit_cache = True
    name = "seconds_since"


@compiles(seconds_since, "postgresql")
def _seconds_since_pg(element: seconds_since, compiler: Any, **kw: Any) -> str:
    moment, origin = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(moment, **kw)} - {compiler.process(origin, **kw)}))"


@compiles(seconds_since, "sqlite")
def _seconds_since_sqlite(element: seconds_since, compiler: Any, **kw: Any) -> str:
    moment, origin = list(element.clauses)
    return f"((julianday({compiler.process(moment, **kw)}) - julianday({compiler.process(origin, **kw)})) * 86400.0)"
