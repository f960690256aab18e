"""Day totals of the bookings, kept by the database: booked seconds per asset, day and borrowing
School (``BookedDay``), and the bookings starting per asset, person and day by what became of
them (``BookingStart``).

The utilisation report's longest reads went through every booking of the period, each clipped,
split into months and grouped in SQL (issue 15 point 14). These totals hold the same figures
already split at the local midnights, in the order the report groups them, so the report sums
a few rows per asset and day instead.

They are kept by triggers on ``bookings``: every insert, every change of a booking's status,
asset, requester, borrowing School or times, and every delete moves them in the same statement,
so no way of writing a booking (the pages, the API, the scheduler, a bulk import, a manual fix in
``psql``) can leave them behind. The triggers split a booking by the ``LocalDay`` table (the
zone's midnights in UTC); ``fill_local_days`` writes it for a zone, and ``rebuild`` works every
total out again from the bookings (the migration's first fill, and ``flask rebuild-booked-days``
after a change of zone). ``calendar_matches`` tells the report whether the table holds the
configured zone's days; when it does not, the report reads the bookings themselves.

Each booking's part of a day is rounded to the whole second, in the triggers and in ``rebuild``
alike: booking times are whole minutes, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from bookings.models import BOOKED_STATUSES, BookedDay, BookingStart, BookingStatus, LocalDay

#: The days the calendar holds: bookings outside it are not totalled (the report then reads the
#: bookings themselves, ``calendar_matches``).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


def _values(statuses: tuple[BookingStatus, ...]) -> str:
    return ", ".join(f"'{status.value}'" for status in statuses)


_BOOKED = _values(BOOKED_STATUSES)
#: The bookings ``BookingStart`` counts: held, released as no-shows, or cancelled.
_STARTS = _values((*BOOKED_STATUSES, BookingStatus.NO_SHOW, BookingStatus.CANCELLED))


def local_days(
    zone: ZoneInfo, first: dt.date, last: dt.date
) -> Iterator[tuple[dt.date, dt.datetime, dt.datetime]]:
    """(day, its first instant, the first instant of the next) in UTC, for each day of ``zone``."""
    day = first
    start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    while day <= last:
        after = day + dt.timedelta(days=1)
        end = dt.datetime.combine(after, dt.time(), zone).astimezone(dt.UTC)
        yield day, start, end
        day, start = after, end


def fill_local_days(connection: Connection, zone: ZoneInfo) -> None:
    """Write the calendar for ``zone`` (what was there before goes)."""
    connection.execute(delete(LocalDay))
    rows = [
        {"day": day, "month": day.replace(day=1), "start_at": start, "end_at": end}
        for day, start, end in local_days(zone, FIRST_DAY, LAST_DAY)
    ]
    for batch in range(0, len(rows), 5000):
        connection.execute(insert(LocalDay), rows[batch : batch + 5000])


def calendar_matches(connection: Connection, zone: ZoneInfo, first: dt.date, last: dt.date) -> bool:
    """The calendar holds every day from ``first`` to ``last`` as ``zone`` has them: the totals of
    those days are that zone's days."""
    if first < FIRST_DAY or last > LAST_DAY:
        return False
    stored = connection.execute(
        select(LocalDay.day, LocalDay.start_at, LocalDay.end_at)
        .where(LocalDay.day >= first, LocalDay.day <= last)
        .order_by(LocalDay.day)
    ).all()
    return [tuple(row) for row in stored] == list(local_days(zone, first, last))


# --- The SQL each database runs -----------------------------------------------------------------
# ``{b}`` is the booking's row: NEW or OLD in a trigger, ``b`` in ``rebuild``.


class _Dialect:
    """A booking's seconds in the local day ``d``, and the days it (or its start) may fall on: a
    local date is never more than a day from the UTC date, so the calendar is read by its key."""

    def __init__(self, name: str) -> None:
        self.postgresql = name == "postgresql"
        # Each booking looks its days up by the calendar's key (SQLite's CROSS JOIN keeps that
        # order, whatever statistics it has or lacks).
        self.join = "JOIN" if self.postgresql else "CROSS JOIN"
        if self.postgresql:
            self.seconds = "round(EXTRACT(EPOCH FROM LEAST({b}.end_at, d.end_at) - GREATEST({b}.start_at, d.start_at)))::bigint"
        else:
            self.seconds = (
                "CAST(round((julianday(min({b}.end_at, d.end_at)) - julianday(max({b}.start_at, d.start_at)))"
                " * 86400.0) AS INTEGER)"
            )

    def near(self, day: str, b: str, first: str, last: str) -> str:
        """``day`` is from the UTC date of ``b``'s ``first`` column less a day to that of ``last``
        plus a day."""
        if self.postgresql:
            return (
                f"{day} BETWEEN ({b}.{first} AT TIME ZONE 'UTC')::date - 1 "
                f"AND ({b}.{last} AT TIME ZONE 'UTC')::date + 1"
            )
        return f"{day} BETWEEN date({b}.{first}, '-1 day') AND date({b}.{last}, '+1 day')"

    def spanned(self, b: str) -> str:
        """The local days ``d`` the booking ``b`` has time on."""
        return f"{self.near('d.day', b, 'start_at', 'end_at')} AND d.start_at < {b}.end_at AND d.end_at > {b}.start_at"

    def starting(self, b: str) -> str:
        """The local day ``d`` the booking ``b`` starts on."""
        return (
            f"{self.near('d.day', b, 'start_at', 'start_at')} "
            f"AND d.start_at <= {b}.start_at AND d.end_at > {b}.start_at"
        )


def _booked_days_sql(dialect: _Dialect, b: str, sign: str, only_if: str) -> str:
    """Add (``sign`` '') or take away ('-') the booking ``b``'s booked seconds, if ``only_if``."""
    return (
        "INSERT INTO booked_days (asset_id, month, school_id, day, seconds) "
        f"SELECT {b}.asset_id, d.month, coalesce({b}.requester_school_id, 0), d.day, "
        f"{sign}{dialect.seconds.format(b=b)} FROM local_days AS d WHERE {dialect.spanned(b)} AND {only_if} "
        "ON CONFLICT (asset_id, month, school_id, day) DO UPDATE SET seconds = booked_days.seconds + excluded.seconds"
    )


def _starts_sql(dialect: _Dialect, b: str, sign: str, only_if: str) -> str:
    """Count the booking ``b`` in (``sign`` '') or out of ('-') ``booking_starts``, if ``only_if``."""
    one = f"{sign}1"
    return (
        "INSERT INTO booking_starts (asset_id, requester_id, day, held, no_shows, cancelled) "
        f"SELECT {b}.asset_id, {b}.requester_id, d.day, "
        f"CASE WHEN {b}.status IN ({_BOOKED}) THEN {one} ELSE 0 END, "
        f"CASE WHEN {b}.status = '{BookingStatus.NO_SHOW.value}' THEN {one} ELSE 0 END, "
        f"CASE WHEN {b}.status = '{BookingStatus.CANCELLED.value}' THEN {one} ELSE 0 END "
        f"FROM local_days AS d WHERE {dialect.starting(b)} AND {only_if} "
        "ON CONFLICT (asset_id, requester_id, day) DO UPDATE SET held = booking_starts.held + excluded.held, "
        "no_shows = booking_starts.no_shows + excluded.no_shows, "
        "cancelled = booking_starts.cancelled + excluded.cancelled"
    )


def _tidy_sql(dialect: _Dialect, b: str, only_if: str) -> list[str]:
    """Drop the rows of the booking ``b`` that came to nothing once it was taken away."""
    return [
        f"DELETE FROM booked_days WHERE asset_id = {b}.asset_id "
        f"AND {dialect.near('day', b, 'start_at', 'end_at')} AND seconds = 0 AND {only_if}",
        f"DELETE FROM booking_starts WHERE asset_id = {b}.asset_id AND requester_id = {b}.requester_id "
        f"AND {dialect.near('day', b, 'start_at', 'start_at')} AND held = 0 AND no_shows = 0 AND cancelled = 0 "
        f"AND {only_if}",
    ]


def _take_away(dialect: _Dialect, b: str) -> list[str]:
    return [
        _booked_days_sql(dialect, b, "-", f"{b}.status IN ({_BOOKED})"),
        _starts_sql(dialect, b, "-", f"{b}.status IN ({_STARTS})"),
        *_tidy_sql(dialect, b, f"{b}.status IN ({_STARTS})"),
    ]


def _add(dialect: _Dialect, b: str) -> list[str]:
    return [
        _booked_days_sql(dialect, b, "", f"{b}.status IN ({_BOOKED})"),
        _starts_sql(dialect, b, "", f"{b}.status IN ({_STARTS})"),
    ]


#: The columns whose change moves a booking's totals.
_COLUMNS = ("status", "asset_id", "requester_id", "requester_school_id", "start_at", "end_at")


def trigger_sql(dialect_name: str) -> list[str]:
    """The statements that create the triggers keeping the day totals."""
    dialect = _Dialect(dialect_name)
    counted = f"OLD.status IN ({_STARTS}) OR NEW.status IN ({_STARTS})"
    if dialect_name == "postgresql":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _COLUMNS)
        body_old = ";\n        ".join(_take_away(dialect, "OLD"))
        body_new = ";\n        ".join(_add(dialect, "NEW"))
        return [
            f"""CREATE FUNCTION booking_day_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        {body_old};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        {body_new};
    END IF;
    RETURN NULL;
END
$$""",
            "CREATE TRIGGER booking_day_totals_insert_delete AFTER INSERT OR DELETE ON bookings "
            "FOR EACH ROW EXECUTE FUNCTION booking_day_totals_keep()",
            f"CREATE TRIGGER booking_day_totals_update AFTER UPDATE OF {', '.join(_COLUMNS)} ON bookings "
            f"FOR EACH ROW WHEN (({counted}) AND ({changed})) EXECUTE FUNCTION booking_day_totals_keep()",
        ]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COLUMNS)

    def body(statements: list[str]) -> str:
        return " ".join(f"{statement};" for statement in statements)

    return [
        f"CREATE TRIGGER booking_day_totals_insert AFTER INSERT ON bookings WHEN NEW.status IN ({_STARTS}) "
        f"BEGIN {body(_add(dialect, 'NEW'))} END",
        f"CREATE TRIGGER booking_day_totals_delete AFTER DELETE ON bookings WHEN OLD.status IN ({_STARTS}) "
        f"BEGIN {body(_take_away(dialect, 'OLD'))} END",
        f"CREATE TRIGGER booking_day_totals_update AFTER UPDATE OF {', '.join(_COLUMNS)} ON bookings "
        f"WHEN ({counted}) AND ({changed}) BEGIN {body([*_take_away(dialect, 'OLD'), *_add(dialect, 'NEW')])} END",
    ]


def drop_trigger_sql(dialect_name: str) -> list[str]:
    if dialect_name == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS booking_day_totals_update ON bookings",
            "DROP TRIGGER IF EXISTS booking_day_totals_insert_delete ON bookings",
            "DROP FUNCTION IF EXISTS booking_day_totals_keep()",
        ]
    return [f"DROP TRIGGER IF EXISTS booking_day_totals_{name}" for name in ("insert", "delete", "update")]


def rebuild(connection: Connection) -> tuple[int, int]:
    """Work every total out again from the bookings, by the calendar as it is; returns the rows
    of ``booked_days`` and of ``booking_starts``."""
    dialect = _Dialect(connection.dialect.name)
    if dialect.postgresql:
        # No booking may change until the new totals are committed: its trigger would move rows
        # this transaction is replacing. (Reads go on; SQLite's one writer waits anyway.)
        connection.exec_driver_sql("LOCK TABLE bookings IN SHARE MODE")
    connection.execute(delete(BookedDay))
    connection.execute(delete(BookingStart))
    booked = connection.exec_driver_sql(
        "INSERT INTO booked_days (asset_id, month, school_id, day, seconds) "
        f"SELECT b.asset_id, d.month, coalesce(b.requester_school_id, 0), d.day, sum({dialect.seconds.format(b='b')}) "
        f"FROM bookings AS b {dialect.join} local_days AS d ON {dialect.spanned('b')} "
        f"WHERE b.status IN ({_BOOKED}) GROUP BY b.asset_id, d.month, coalesce(b.requester_school_id, 0), d.day"
    ).rowcount
    starts = connection.exec_driver_sql(
        "INSERT INTO booking_starts (asset_id, requester_id, day, held, no_shows, cancelled) "
        "SELECT b.asset_id, b.requester_id, d.day, "
        f"sum(CASE WHEN b.status IN ({_BOOKED}) THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN b.status = '{BookingStatus.NO_SHOW.value}' THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN b.status = '{BookingStatus.CANCELLED.value}' THEN 1 ELSE 0 END) "
        f"FROM bookings AS b {dialect.join} local_days AS d ON {dialect.starting('b')} "
        f"WHERE b.status IN ({_STARTS}) GROUP BY b.asset_id, b.requester_id, d.day"
    ).rowcount
    return booked, starts


def mismatches(connection: Connection) -> int:
    """How many rows of the totals as kept differ from the totals worked out again from the
    bookings (0: the triggers kept them right). Changes nothing: it works in a transaction of its
    own and rolls it back."""
    with connection.begin_nested() if connection.in_transaction() else connection.begin() as transaction:
        for table in ("booked_days", "booking_starts"):
            connection.exec_driver_sql(f"CREATE TEMPORARY TABLE kept_{table} AS SELECT * FROM {table}")
        rebuild(connection)
        different = sum(
            connection.exec_driver_sql(
                f"SELECT count(*) FROM (SELECT * FROM kept_{table} EXCEPT SELECT * FROM {table}) AS gone"
            ).scalar_one()
            + connection.exec_driver_sql(
                f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT SELECT * FROM kept_{table}) AS added"
            ).scalar_one()
            for table in ("booked_days", "booking_starts")
        )
        transaction.rollback()
    return int(different)
