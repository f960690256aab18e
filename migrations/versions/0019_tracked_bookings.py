"""The bookings that record use (checked in, or lent out and handed over), by asset and start:
the utilisation report's read of actual use reads these alone, not every booking of every asset
(issue 15 point 14).

Revision ID: 0019_tracked_bookings
Revises: 0018_profiles
Create Date: 2026-12-06 22:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_tracked_bookings"
down_revision = "0018_profiles"
branch_labels = None
depends_on = None

_TRACKED = "checked_in_at IS NOT NULL OR handed_over_at IS NOT NULL"


def upgrade():
    op.create_index(
        "ix_bookings_asset_tracked",
        "bookings",
        ["asset_id", "start_at"],
        postgresql_where=sa.text(_TRACKED),
        sqlite_where=sa.text(_TRACKED),
    )


def downgrade():
    op.drop_index("ix_bookings_asset_tracked", table_name="bookings")
