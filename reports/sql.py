"""Portable SQL for the reports: the same expressions on PostgreSQL and SQLite.

Clipping an interval to a period needs the larger of two start times and the smaller of two end
times for each row. PostgreSQL spells these GREATEST and LEAST; SQLite's scalar max() and min()
with two or more arguments do the same. (Neither is an aggregate here.) Every argument must be
non-NULL: SQLite's max() returns NULL if any argument is NULL, PostgreSQL's GREATEST ignores it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, Subquery, column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement, Join

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


def utc_sql(value: dt.datetime, dialect: str) -> str:
    """An aware datetime as an SQL literal, the way ``UTCDateTime`` stores it."""
    value = value.astimezone(dt.timezone.utc)
    if dialect == "postgresql":
        return f"CAST('{value.isoformat()}' AS TIMESTAMP WITH TIME ZONE)"
    return f"'{value:%Y-%m-%d %H:%M:%S.%f}'"


def service_table(rows: list[tuple[int, dt.datetime, dt.datetime]], dialect: str) -> Subquery:
    """An inline table ``service (asset_id, lo, hi)`` of the given rows, written as literals (ints
    and datetimes formatted here, never text from outside), so a report covering tens of thousands
    of assets stays within the databases' limits on bound parameters."""
    body = ", ".join(f"({int(asset_id)}, {utc_sql(lo, dialect)}, {utc_sql(hi, dialect)})" for asset_id, lo, hi in rows)
    return (
        text(f"SELECT column1 AS asset_id, column2 AS lo, column3 AS hi FROM (VALUES {body}) AS service_rows")
        .columns(column("asset_id", Integer), column("lo", UTCDateTime()), column("hi", UTCDateTime()))
        .subquery("service")
    )


class ordered_join(Join):
    """An inner join whose left side the database reads first, looking the right side up for
    each of its rows: SQLite's ``CROSS JOIN ... ON`` (its documented way to fix a join order);
    a plain ``JOIN`` elsewhere, where the planner's statistics choose well. For a small driving
    table (a report's maintenance windows, its assets' in-service bounds) and the bookings'
    indexes, SQLite otherwise scans the bookings and the small table for each of them."""

    inherit_cache = True

    def __init__(self, left: Any, right: Any, onclause: Any) -> None:
        super().__init__(left, right, onclause)


@compiles(ordered_join, "sqlite")
def _ordered_join_sqlite(join: ordered_join, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    return (
        f"{compiler.process(join.left, **kw)} CROSS JOIN {compiler.process(join.right, **kw)} "
        f"ON {compiler.process(join.onclause, **kw)}"
    )
