"""Assets can be disposed of, as well as retired: both end their bookings to come.

Revision ID: 0010_disposed
Revises: 0009_import
Create Date: 2026-12-06 07:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_disposed"
down_revision = "0009_import"
branch_labels = None
depends_on = None

BEFORE = ("available", "maintenance", "out_of_service", "retired")
AFTER = (*BEFORE, "disposed")


def _status(values):
    return sa.Enum(*values, name="asset_status", native_enum=False, create_constraint=True, length=20)


def upgrade():
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.alter_column(
            "status", type_=_status(AFTER), existing_type=_status(BEFORE), existing_nullable=False
        )


def downgrade():
    # A disposed asset was retired first in every sense that the older schema knows.
    op.execute("UPDATE assets SET status = 'retired' WHERE status = 'disposed'")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.alter_column(
            "status", type_=_status(BEFORE), existing_type=_status(AFTER), existing_nullable=False
        )
