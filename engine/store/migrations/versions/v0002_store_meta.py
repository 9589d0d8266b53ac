"""store_meta: facts about the store itself (the reference key's fingerprint)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_store_meta"
down_revision: str | None = "0001_baseline"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("store_meta")
