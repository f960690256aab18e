"""Day totals of the bookings, kept by triggers on the bookings: booked seconds per asset, local
day and borrowing School, and the bookings starting per asset, person and day; and the calendar
of local days they are split by. The utilisation report reads its booked hours, bookings, people,
bookings due and no-shows from these totals (issue 15 point 14; ``bookings.day_totals``).

The calendar is filled for the zone the application is configured with (KITSHARE_TIMEZONE), and
the totals worked out from the bookings already there.

Revision ID: 0020_booked_days
Revises: 0019_tracked_bookings
Create Date: 2026-12-07 01:00:00

"""

import sqlalchemy as sa
from alembic import op

from bookings.day_totals import drop_trigger_sql, fill_local_days, rebuild, trigger_sql
from core.db import UTCDateTime
from core.timeutil import local_zone

# revision identifiers, used by Alembic.
revision = "0020_booked_days"
down_revision = "0019_tracked_bookings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "local_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_local_days")),
    )
    op.create_table(
        "booked_days",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "month", "school_id", "day", name=op.f("pk_booked_days")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_booked_days_day", "booked_days", ["day"])
    op.create_table(
        "booking_starts",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("no_shows", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "requester_id", "day", name=op.f("pk_booking_starts")),
        sqlite_with_rowid=False,
    )
    connection = op.get_bind()
    fill_local_days(connection, local_zone())
    for statement in trigger_sql(connection.dialect.name):
        connection.exec_driver_sql(statement)
    rebuild(connection)


def downgrade():
    connection = op.get_bind()
    for statement in drop_trigger_sql(connection.dialect.name):
        connection.exec_driver_sql(statement)
    op.drop_table("booking_starts")
    op.drop_index("ix_booked_days_day", table_name="booked_days")
    op.drop_table("booked_days")
    op.drop_table("local_days")
