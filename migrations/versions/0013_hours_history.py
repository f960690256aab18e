"""Bookable hours kept with the dates they were in force (issue 15 point 7): each change of an
asset's weekly hours keeps the hours it replaced, so reports of past periods use the hours then in
force. No backfill: an asset never changed has no rows, and its current hours apply throughout.

Revision ID: 0013_hours_history
Revises: 0012_lapsed_demand
Create Date: 2026-12-06 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_hours_history"
down_revision = "0012_lapsed_demand"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bookable_hours_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("in_force_until", sa.Date(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_bookable_hours_history_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_bookable_hours_history_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookable_hours_history")),
        sa.UniqueConstraint("asset_id", "in_force_until", name="uq_bookable_hours_history_asset_until"),
    )


def downgrade():
    op.drop_table("bookable_hours_history")
