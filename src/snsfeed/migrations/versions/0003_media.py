"""media

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 16:50:29.967934
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import snsfeed.platform.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("source_type", sa.String(length=64), nullable=False),
        sa.Column("source_bytes", sa.BigInteger(), nullable=False),
        sa.Column("source_key", sa.String(length=512), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("blurhash", sa.String(length=64), nullable=True),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("attached_at", snsfeed.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delete_after", snsfeed.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", snsfeed.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", snsfeed.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index("ix_media_delete_after", ["delete_after"], unique=False)
        batch_op.create_index("ix_media_owner_id_id", ["owner_id", "id"], unique=False)
        batch_op.create_index(
            "ix_media_post_id_created_at", ["post_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_post_id_created_at")
        batch_op.drop_index("ix_media_owner_id_id")
        batch_op.drop_index("ix_media_delete_after")

    op.drop_table("media")
