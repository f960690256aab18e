"""Unmet demand that was never refused (issue 15): waitlist places never served, and requests
whose start passed with no decision.

- bookings.status (and its history) gains 'lapsed': a pending request nobody decided before it
  started; it can no longer be decided.
- unmet_demand.source gains 'waitlisted' and 'lapsed'; unmet_demand.waitlist_entry_id names the
  waitlist place a row records, unique, so each place is recorded once.

Revision ID: 0012_lapsed_demand
Revises: 0011_sessions
Create Date: 2026-12-06 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_lapsed_demand"
down_revision = "0011_sessions"
branch_labels = None
depends_on = None

STATUS_BEFORE = ("pending", "confirmed", "rejected", "cancelled", "checked_out", "completed", "no_show")
STATUS_AFTER = (*STATUS_BEFORE, "lapsed")
SOURCE_BEFORE = ("refused", "rejected")
SOURCE_AFTER = (*SOURCE_BEFORE, "waitlisted", "lapsed")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _alter_statuses(before, after):
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            type_=_enum(after, "booking_status"),
            existing_type=_enum(before, "booking_status"),
            existing_nullable=False,
        )
    with op.batch_alter_table("booking_status_changes", schema=None) as batch_op:
        batch_op.alter_column(
            "from_status",
            type_=_enum(after, "booking_status_from"),
            existing_type=_enum(before, "booking_status_from"),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "to_status",
            type_=_enum(after, "booking_status_to"),
            existing_type=_enum(before, "booking_status_to"),
            existing_nullable=False,
        )


def upgrade():
    _alter_statuses(STATUS_BEFORE, STATUS_AFTER)
    with op.batch_alter_table("unmet_demand", schema=None) as batch_op:
        batch_op.alter_column(
            "source",
            type_=_enum(SOURCE_AFTER, "demand_source"),
            existing_type=_enum(SOURCE_BEFORE, "demand_source"),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("waitlist_entry_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_unmet_demand_waitlist_entry_id"), ["waitlist_entry_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_unmet_demand_waitlist_entry_id_waitlist_entries"),
            "waitlist_entries",
            ["waitlist_entry_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    # The older schema knows neither: the rows recorded for them go (they were never refused or
    # rejected), and a lapsed request is what it was before, a request left pending.
    op.execute("DELETE FROM unmet_demand WHERE source IN ('waitlisted', 'lapsed')")
    op.execute("UPDATE bookings SET status = 'pending' WHERE status = 'lapsed'")
    op.execute("DELETE FROM booking_status_changes WHERE to_status = 'lapsed'")
    op.execute("UPDATE booking_status_changes SET from_status = 'pending' WHERE from_status = 'lapsed'")
    with op.batch_alter_table("unmet_demand", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_unmet_demand_waitlist_entry_id_waitlist_entries"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_unmet_demand_waitlist_entry_id"), type_="unique")
        batch_op.drop_column("waitlist_entry_id")
        batch_op.alter_column(
            "source",
            type_=_enum(SOURCE_BEFORE, "demand_source"),
            existing_type=_enum(SOURCE_AFTER, "demand_source"),
            existing_nullable=False,
        )
    _alter_statuses(STATUS_AFTER, STATUS_BEFORE)
