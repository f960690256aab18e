"""Sessions and tokens (issue 16): sign-in attempts counted atomically, password-reset requests.

- sign_in_counters replaces sign_in_failures: one row per email address and per client address,
  whose count one upsert raises and returns, so parallel guesses cannot all see "under the limit".
- password_reset_requests: what the reset form records (the same for every address); the outbox
  job mails the ones for active accounts, and the rows limit requests per address and per client.
- API tokens made before this had no expiry: they now expire a year after this migration.

Revision ID: 0011_sessions
Revises: 0010_disposed
Create Date: 2026-12-06 07:00:00

"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_sessions"
down_revision = "0010_disposed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_counters",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_sign_in_counters")),
    )
    op.create_table(
        "password_reset_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_requests")),
    )
    with op.batch_alter_table("password_reset_requests", schema=None) as batch_op:
        batch_op.create_index("ix_password_reset_requests_email_at", ["email", "requested_at"], unique=False)
        batch_op.create_index("ix_password_reset_requests_handled", ["handled_at"], unique=False)
        batch_op.create_index(
            "ix_password_reset_requests_ip_at", ["ip_address", "requested_at"], unique=False
        )

    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_failures_ip_at")
        batch_op.drop_index("ix_sign_in_failures_email_at")
    op.drop_table("sign_in_failures")

    # Every token now has an expiry: those made without one get a year from now.
    bind = op.get_bind()
    in_a_year = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    if bind.dialect.name == "sqlite":
        in_a_year = in_a_year.replace(tzinfo=None)
    tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    bind.execute(tokens.update().where(tokens.c.expires_at.is_(None)).values(expires_at=in_a_year))


def downgrade():
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_email_at", ["email", "at"], unique=False)
        batch_op.create_index("ix_sign_in_failures_ip_at", ["ip_address", "at"], unique=False)

    with op.batch_alter_table("password_reset_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_password_reset_requests_ip_at")
        batch_op.drop_index("ix_password_reset_requests_handled")
        batch_op.drop_index("ix_password_reset_requests_email_at")
    op.drop_table("password_reset_requests")
    op.drop_table("sign_in_counters")
