"""People's profiles (issue 18): role title, specialisms, professional registrations, further
named technicians of assets, and who beyond their School sees each part.

Revision ID: 0018_profiles
Revises: 0015_asset_edits
Create Date: 2026-12-06 13:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_profiles"
down_revision = "0015_asset_edits"
branch_labels = None
depends_on = None

_PARTS = ("role", "specialisms", "registrations", "assets", "record")
_TITLES = ("RegTech", "RSciTech", "RSci", "CSci", "CEng", "IEng", "EngTech", "Other")


def upgrade():
    columns = []
    for part in _PARTS:
        name = f"{part}_visibility"
        columns.append(
            sa.Column(
                name,
                sa.Enum(
                    "everyone", "school", name=name, native_enum=False, create_constraint=True, length=20
                ),
                nullable=False,
            )
        )
    op.create_table(
        "people_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_title", sa.String(length=200), nullable=False),
        *columns,
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_people_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_people_profiles")),
    )
    op.create_table(
        "people_specialisms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_people_specialisms_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_specialisms")),
        sa.UniqueConstraint("user_id", "key", name="uq_people_specialisms_user_key"),
    )
    op.create_index(op.f("ix_people_specialisms_user_id"), "people_specialisms", ["user_id"])
    op.create_index(op.f("ix_people_specialisms_key"), "people_specialisms", ["key"])
    op.create_table(
        "people_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "title",
            sa.Enum(
                *_TITLES, name="registration_title", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_people_registrations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_registrations")),
        sa.UniqueConstraint("user_id", "title", name="uq_people_registrations_user_title"),
    )
    op.create_index(op.f("ix_people_registrations_user_id"), "people_registrations", ["user_id"])
    op.create_table(
        "asset_technicians",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_technicians_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_asset_technicians_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("asset_id", "user_id", name=op.f("pk_asset_technicians")),
    )
    op.create_index(op.f("ix_asset_technicians_user_id"), "asset_technicians", ["user_id"])


def downgrade():
    op.drop_table("asset_technicians")
    op.drop_table("people_registrations")
    op.drop_table("people_specialisms")
    op.drop_table("people_profiles")
