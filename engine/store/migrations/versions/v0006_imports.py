"""Imported event logs: one ``imported_log`` row per run set ``imported:<name>``.

The row says where the log came from (file name and SHA-256, never the path), how large it was,
whether it had start events, which attribute gave the lanes and the activity names behind the
step ids. Run sets imported before this revision (by a library caller) keep their cases; they
simply have no row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_imports"
down_revision: str | None = "0005_audit"
branch_labels: str | None = None
depends_on: str | None = None

_NAIVE = sa.DateTime(timezone=False)


def upgrade() -> None:
    op.create_table(
        "imported_log",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("process", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("start_share", sa.Float(), nullable=False),
        sa.Column("activities", sa.Text(), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("imported_at", _NAIVE, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("imported_log")
