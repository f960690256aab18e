"""Asset edits that cannot lose one another (issue 16, points 6-8).

- assets.version: raised by every change of an asset (its columns or its weekly hours), so a
  form or an API client that read an older version is refused rather than undoing a change it
  never saw (the API's ETag and If-Match).
- bookable_hours: no two spans of one asset on one weekday may overlap, guaranteed by the
  database: an exclusion constraint on PostgreSQL, triggers on SQLite.

Revision ID: 0015_asset_edits
Revises: 0013_hours_history
Create Date: 2026-12-06 10:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_asset_edits"
down_revision = "0013_hours_history"
branch_labels = None
depends_on = None

_SQLITE_OVERLAP = """
CREATE TRIGGER tr_bookable_hours_no_overlap_{when}
BEFORE {event} ON bookable_hours
FOR EACH ROW WHEN EXISTS (
    SELECT 1 FROM bookable_hours AS other
    WHERE other.asset_id = NEW.asset_id AND other.weekday = NEW.weekday
      AND other.id IS NOT NEW.id AND other.opens < NEW.closes AND NEW.opens < other.closes
)
BEGIN
    SELECT RAISE(ABORT, 'bookable_hours_overlap: spans of one asset on one weekday overlap');
END
"""


def upgrade():
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        # Times as seconds from midnight: an int4range of each span, half-open like bookings.
        op.execute(
            "ALTER TABLE bookable_hours ADD CONSTRAINT ex_bookable_hours_no_overlap EXCLUDE USING gist "
            "(asset_id WITH =, weekday WITH =, "
            "int4range(EXTRACT(EPOCH FROM opens)::integer, EXTRACT(EPOCH FROM closes)::integer, '[)') WITH &&)"
        )
    else:
        op.execute(_SQLITE_OVERLAP.format(when="insert", event="INSERT"))
        op.execute(_SQLITE_OVERLAP.format(when="update", event="UPDATE"))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bookable_hours DROP CONSTRAINT ex_bookable_hours_no_overlap")
    else:
        op.execute("DROP TRIGGER tr_bookable_hours_no_overlap_insert")
        op.execute("DROP TRIGGER tr_bookable_hours_no_overlap_update")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("version")
