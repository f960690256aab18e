"""The floor: each measured operation done as hand-written SQL on the bare driver (psycopg or
sqlite3), with no ORM, no Flask and no templates. It does the same work as the app, so the ratio
app / floor is what Kitshare's own code costs on top of the database.

* ``create_booking``: every rule ``bookings.rules.check_booking`` checks (asset status, bookable,
  shared, inspection overdue, training, notice, length, bookable hours, overlap with active
  bookings and their turnaround, maintenance, the quota), then the booking, its status-history
  row and its audit row, in one transaction (``BEGIN IMMEDIATE`` on SQLite, as ``db.atomic``).
* ``catalogue``: one query, the first page of assets free in a window and their total.
* ``week``: one query, an asset's bookings (active and pending) and maintenance in a week.
* ``booked_hours``: one aggregate query, the booked hours per asset, borrowing School and month
  of a period, each booking clipped to the month: the heart of the utilisation report.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from typing import Any

import sqlalchemy as sa

from bookings.models import QuotaPeriod
from bookings.quotas import period_bounds
from core.timeutil import local_day_bounds, to_local

UTC = dt.UTC
ACTIVE = ("confirmed", "checked_out")
COUNTED = ("pending", "confirmed", "checked_out", "completed")
BOOKED = ("confirmed", "checked_out", "completed")


class Floor:
    """A bare driver connection and the hand-written SQL of each operation."""

    def __init__(self, url: str) -> None:
        from core.config import normalise_database_url

        target = sa.make_url(normalise_database_url(url))
        self.postgres = target.get_backend_name() == "postgresql"
        if self.postgres:
            import psycopg

            self.conn: Any = psycopg.connect(
                host=target.host or "127.0.0.1",
                port=target.port or 5432,
                user=target.username,
                password=target.password,
                dbname=target.database,
            )
        else:
            self.conn = sqlite3.connect(target.database, isolation_level=None, check_same_thread=False)
            # The pragmas every Kitshare connection sets (db._sqlite_on_connect).
            for pragma in (
                "foreign_keys = ON",
                "busy_timeout = 30000",
                "journal_mode = WAL",
                "synchronous = NORMAL",
            ):
                self.conn.execute(f"PRAGMA {pragma}")

    def close(self) -> None:
        self.conn.close()

    # --- Parameters, the same SQL on both drivers ---

    def _sql(self, text: str) -> str:
        return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", text) if self.postgres else text

    def _value(self, value: Any) -> Any:
        if self.postgres:
            return value
        if isinstance(value, dt.datetime):  # as UTCDateTime stores it on SQLite
            return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, dt.time):
            return value.strftime("%H:%M:%S.%f")
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    def _execute(self, text: str, **params: Any) -> Any:
        values = {name: self._value(value) for name, value in params.items()}
        return self.conn.execute(self._sql(text), values)

    def _begin(self) -> None:
        if not self.postgres:
            self.conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self.conn.execute("COMMIT") if not self.postgres else self.conn.commit()

    def _rollback(self) -> None:
        self.conn.execute("ROLLBACK") if not self.postgres else self.conn.rollback()

    # --- Booking: check every rule, insert, in one transaction ---

    def create_booking(
        self,
        user_id: int,
        asset_id: int,
        start_at: dt.datetime,
        end_at: dt.datetime,
        purpose: str,
        now: dt.datetime,
    ) -> int | None:
        """The booking's id, or None (and nothing written) when a rule refuses it."""
        self._begin()
        try:
            booking_id = self._check_and_insert(user_id, asset_id, start_at, end_at, purpose, now)
        except BaseException:
            self._rollback()
            raise
        if booking_id is None:
            self._rollback()
        else:
            self._commit()
        return booking_id

    def _check_and_insert(
        self,
        user_id: int,
        asset_id: int,
        start_at: dt.datetime,
        end_at: dt.datetime,
        purpose: str,
        now: dt.datetime,
    ) -> int | None:
        row = self._execute(
            """SELECT a.status, a.bookable, a.shareable, a.school_id, a.category_id, a.training_required,
                      a.block_when_inspection_overdue, a.min_notice_minutes, a.max_booking_minutes,
                      a.turnaround_minutes, a.requires_approval, u.home_school_id
               FROM assets a, users u WHERE a.id = :asset AND u.id = :user""",
            asset=asset_id,
            user=user_id,
        ).fetchone()
        if row is None:
            return None
        (
            status,
            bookable,
            shareable,
            school_id,
            category_id,
            training_required,
            block_overdue,
            notice,
            max_minutes,
            turnaround,
            requires_approval,
            home_school_id,
        ) = row
        if status != "available" or not bookable or (not shareable and home_school_id != school_id):
            return None
        if end_at <= start_at or start_at < now + dt.timedelta(minutes=notice):
            return None
        if max_minutes is not None and end_at - start_at > dt.timedelta(minutes=max_minutes):
            return None
        today = to_local(now).date()
        local_start, local_end = to_local(start_at), to_local(end_at)
        blocked_until = end_at + dt.timedelta(minutes=turnaround)
        overdue, trained, overlap, maintenance, in_hours = self._execute(
            """SELECT
                 EXISTS (SELECT 1 FROM inspection_schedules
                         WHERE asset_id = :asset AND next_due_on < :today),
                 EXISTS (SELECT 1 FROM training_authorisations
                         WHERE user_id = :user AND revoked_at IS NULL AND (expires_on IS NULL OR expires_on >= :today)
                           AND (asset_id = :asset OR (category_id = :category AND school_id = :school))),
                 EXISTS (SELECT 1 FROM bookings
                         WHERE asset_id = :asset AND status IN ('confirmed', 'checked_out')
                           AND start_at < :blocked_until AND blocked_until > :start_at),
                 EXISTS (SELECT 1 FROM maintenance_windows
                         WHERE asset_id = :asset AND start_at < :end_at AND end_at > :start_at),
                 EXISTS (SELECT 1 FROM bookable_hours
                         WHERE asset_id = :asset AND weekday = :weekday AND opens <= :opens
                           AND (closes >= :closes OR closes >= :midnight))""",
            asset=asset_id,
            user=user_id,
            today=today,
            category=category_id,
            school=school_id,
            blocked_until=blocked_until,
            start_at=start_at,
            end_at=end_at,
            weekday=local_start.weekday(),
            opens=local_start.time(),
            closes=local_end.time(),
            midnight=dt.time(23, 59),
        ).fetchone()
        if (block_overdue and overdue) or (training_required and not trained) or overlap or maintenance:
            return None
        if local_start.date() != local_end.date() or not in_hours:
            return None
        quotas = self._execute(
            """SELECT period, CASE WHEN school_id = :home THEN own_school_minutes ELSE other_school_minutes END,
                      asset_id, category_id, school_id
               FROM quotas WHERE asset_id = :asset OR (category_id = :category AND school_id = :school)""",
            home=home_school_id,
            asset=asset_id,
            category=category_id,
            school=school_id,
        ).fetchall()
        minutes = (end_at - start_at).total_seconds() / 60
        for period, cap, quota_asset, quota_category, quota_school in quotas:
            if cap is None:
                continue
            first, following, _ = period_bounds(QuotaPeriod(period), start_at)
            hours = (
                "EXTRACT(EPOCH FROM (b.end_at - b.start_at)) / 3600.0"
                if self.postgres
                else "(julianday(b.end_at) - julianday(b.start_at)) * 24.0"
            )
            scope = (
                "b.asset_id = :scope_asset"
                if quota_asset is not None
                else "a.category_id = :scope_category AND a.school_id = :scope_school"
            )
            used = self._execute(
                f"""SELECT COALESCE(SUM({hours}), 0) FROM bookings b JOIN assets a ON a.id = b.asset_id
                    WHERE b.requester_id = :user AND b.status IN ('pending', 'confirmed', 'checked_out', 'completed')
                      AND b.start_at >= :first AND b.start_at < :following AND {scope}""",
                user=user_id,
                first=first,
                following=following,
                scope_asset=quota_asset,
                scope_category=quota_category,
                scope_school=quota_school,
            ).fetchone()[0]
            if float(used) * 60 + minutes > cap:
                return None

        state = "pending" if requires_approval or home_school_id != school_id else "confirmed"
        values = dict(
            asset=asset_id,
            user=user_id,
            school=home_school_id,
            start_at=start_at,
            end_at=end_at,
            blocked_until=blocked_until,
            purpose=purpose,
            status=state,
            now=now,
        )
        insert = """INSERT INTO bookings (asset_id, requester_id, requester_school_id, start_at, end_at, blocked_until,
                        purpose, status, decision_reason, handover_condition, return_condition, returned_damaged,
                        created_at, updated_at)
                    VALUES (:asset, :user, :school, :start_at, :end_at, :blocked_until, :purpose, :status, '', '', '',
                        :false, :now, :now)"""
        if self.postgres:
            booking_id = self._execute(insert + " RETURNING id", false=False, **values).fetchone()[0]
        else:
            booking_id = self._execute(insert, false=0, **values).lastrowid
        self._execute(
            "INSERT INTO booking_status_changes (booking_id, from_status, to_status, by_id, at, reason) "
            "VALUES (:booking, NULL, :status, :user, :now, '')",
            booking=booking_id,
            status=state,
            user=user_id,
            now=now,
        )
        changes = {
            "asset_id": [None, asset_id],
            "requester_id": [None, user_id],
            "start_at": [None, start_at.isoformat()],
            "end_at": [None, end_at.isoformat()],
            "blocked_until": [None, blocked_until.isoformat()],
            "purpose": [None, purpose],
            "status": [None, state],
        }
        self._execute(
            "INSERT INTO audit_log (at, actor_id, object_type, object_id, action, changes) "
            "VALUES (:now, :user, 'booking', :booking, 'created', :changes)",
            now=now,
            user=user_id,
            booking=booking_id,
            changes=json.dumps(changes),
        )
        return booking_id

    # --- Reads: one query each ---

    def catalogue(self, free_from: dt.datetime, free_to: dt.datetime, per_page: int = 20) -> list[Any]:
        """The first page (by name) of bookable, available assets free over [free_from, free_to),
        each row carrying the total."""
        true = "true" if self.postgres else "1"
        rows = self._execute(
            f"""SELECT a.id, a.tag, a.name, a.requires_approval, a.school_id, s.code, s.name, c.name, l.building, l.room,
                       count(*) OVER () AS total
                FROM assets a JOIN schools s ON s.id = a.school_id
                     LEFT JOIN categories c ON c.id = a.category_id LEFT JOIN locations l ON l.id = a.location_id
                WHERE a.bookable = {true} AND a.status = 'available'
                  AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.asset_id = a.id AND b.status IN ('confirmed', 'checked_out')
                                  AND b.start_at < :free_to AND b.blocked_until > :free_from)
                  AND NOT EXISTS (SELECT 1 FROM maintenance_windows m WHERE m.asset_id = a.id
                                  AND m.start_at < :free_to AND m.end_at > :free_from)
                ORDER BY a.name, a.id LIMIT :per_page""",
            free_from=free_from,
            free_to=free_to,
            per_page=per_page,
        ).fetchall()
        self._end_read()
        return rows

    def week(self, asset_id: int, monday: dt.date) -> list[Any]:
        """The asset's active bookings, pending requests (with who asked) and maintenance in the
        local week from ``monday``."""
        start, _ = local_day_bounds(monday)
        _, end = local_day_bounds(monday + dt.timedelta(days=6))
        rows = self._execute(
            """SELECT b.start_at, b.end_at, b.status, u.name, b.requester_id FROM bookings b JOIN users u ON u.id = b.requester_id
               WHERE b.asset_id = :asset AND b.status IN ('confirmed', 'checked_out', 'pending')
                 AND b.start_at < :week_end AND b.end_at > :week_start
               UNION ALL
               SELECT m.start_at, m.end_at, 'maintenance', m.reason, NULL FROM maintenance_windows m
               WHERE m.asset_id = :asset AND m.start_at < :week_end AND m.end_at > :week_start
               ORDER BY 1""",
            asset=asset_id,
            week_start=start,
            week_end=end,
        ).fetchall()
        self._end_read()
        return rows

    def booked_hours(self, months: list[tuple[dt.datetime, dt.datetime]]) -> list[Any]:
        """Booked hours per (asset, borrowing School, month) of the period the months cover, each
        booking clipped to its month: one aggregate query. (CROSS JOIN: SQLite then reads the
        bookings once, the months for each, instead of the bookings' index once per month, 6x
        slower; PostgreSQL plans it the same either way.)"""
        values = ", ".join(f"({i}, :lo{i}, :hi{i})" for i in range(len(months)))
        params: dict[str, Any] = {}
        for i, (lo, hi) in enumerate(months):
            params[f"lo{i}"], params[f"hi{i}"] = lo, hi
        hours = (
            "EXTRACT(EPOCH FROM (LEAST(b.end_at, m.hi) - GREATEST(b.start_at, m.lo))) / 3600.0"
            if self.postgres
            else "(julianday(min(b.end_at, m.hi)) - julianday(max(b.start_at, m.lo))) * 24.0"
        )
        rows = self._execute(
            f"""WITH months (idx, lo, hi) AS (VALUES {values})
                SELECT b.asset_id, b.requester_school_id, m.idx, SUM({hours})
                FROM bookings b CROSS JOIN months m
                WHERE b.status IN ('confirmed', 'checked_out', 'completed') AND b.start_at < :p1 AND b.end_at > :p0
                  AND b.start_at < m.hi AND b.end_at > m.lo
                GROUP BY b.asset_id, b.requester_school_id, m.idx""",
            p0=months[0][0],
            p1=months[-1][1],
            **params,
        ).fetchall()
        self._end_read()
        return rows

    def _end_read(self) -> None:
        if self.postgres:
            self.conn.rollback()  # end the read transaction, as a request's session does
