"""Training requests: a person asks the owning School's managers to be trained on an asset.

Revision ID: 0008_training
Revises: 0007
Create Date: 2026-12-06 07:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_training"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "training_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "granted",
                "declined",
                name="training_request_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_training_requests_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["training_authorisations.id"],
            name=op.f("fk_training_requests_authorisation_id_training_authorisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_training_requests_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_requests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_requests")),
    )
    with op.batch_alter_table("training_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_requests_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_requests_user_id"), ["user_id"], unique=False)
        # One open request per person per asset.
        batch_op.create_index(
            "uq_training_requests_open",
            ["user_id", "asset_id"],
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )


def downgrade():
    with op.batch_alter_table("training_requests", schema=None) as batch_op:
        batch_op.drop_index("uq_training_requests_open")
        batch_op.drop_index(batch_op.f("ix_training_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_training_requests_asset_id"))

    op.drop_table("training_requests")
