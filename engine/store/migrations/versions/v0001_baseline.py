"""Baseline: the schema as ``metadata.create_all`` made it before revisions were kept.

published_version, case_run, work_item, event and simulation_run, with their indexes and
constraints exactly as SQLModel declares them (``models/tables.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_NAIVE = sa.DateTime(timezone=False)


def _text(length: int) -> sa.String:
    return sa.String(length=length)


def upgrade() -> None:
    _case_run()
    _event()
    op.create_table(
        "published_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", _text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", _text(64), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("outside_lanes", _text(1000), nullable=False),
        sa.Column("published_at", _NAIVE, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process", "version", name="uq_published_version"),
    )
    op.create_table(
        "simulation_run",
        sa.Column("id", _text(64), nullable=False),
        sa.Column("process", _text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scenario", _text(200), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("created_at", _NAIVE, nullable=False),
        sa.Column("content_hash", _text(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _work_item()


def _case_run() -> None:
    op.create_table(
        "case_run",
        sa.Column("id", _text(64), nullable=False),
        sa.Column("ref_key", _text(64), nullable=True),
        sa.Column("process", _text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", _text(64), nullable=False),
        sa.Column("mode", _text(16), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("started_at", _NAIVE, nullable=False),
        sa.Column("finished_at", _NAIVE, nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("arrivals", _text(4000), nullable=False),
        sa.Column("simulation_id", _text(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("mode", "process", "ref_key", "simulation_id", "status"):
        op.create_index(f"ix_case_run_{column}", "case_run", [column])


def _event() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", _text(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", _text(32), nullable=False),
        sa.Column("at", _NAIVE, nullable=False),
        sa.Column("step", _text(64), nullable=True),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.Column("lane", _text(64), nullable=True),
        sa.Column("actor", _text(200), nullable=True),
        sa.Column("org", _text(64), nullable=True),
        sa.Column("outcome", _text(64), nullable=True),
        sa.Column("touch_minutes", sa.Float(), nullable=True),
        sa.Column("transactions", sa.Integer(), nullable=True),
        sa.Column("from_step", _text(64), nullable=True),
        sa.Column("to_step", _text(64), nullable=True),
        sa.Column("from_lane", _text(64), nullable=True),
        sa.Column("to_lane", _text(64), nullable=True),
        sa.Column("channel", _text(16), nullable=True),
        sa.Column("detail", _text(1000), nullable=True),
        sa.Column("process", _text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mode", _text(16), nullable=False),
        sa.Column("simulation_id", _text(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq", name="uq_event_case_seq"),
    )
    op.create_index("ix_event_process_version_mode", "event", ["process", "version", "mode"])
    op.create_index(
        "ix_event_simulation_id",
        "event",
        ["simulation_id"],
        sqlite_where=sa.text("simulation_id IS NOT NULL"),
        postgresql_where=sa.text("simulation_id IS NOT NULL"),
    )


def _work_item() -> None:
    op.create_table(
        "work_item",
        sa.Column("case_id", _text(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("step", _text(64), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("ready_at", _NAIVE, nullable=False),
        sa.Column("started_at", _NAIVE, nullable=True),
        sa.Column("done_at", _NAIVE, nullable=True),
        sa.Column("actor", _text(200), nullable=True),
        sa.Column("org", _text(64), nullable=True),
        sa.Column("outcome", _text(64), nullable=True),
        sa.Column("touch_minutes", sa.Float(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_run.id"]),
        sa.PrimaryKeyConstraint("case_id", "number"),
    )
    op.create_index("ix_work_item_status", "work_item", ["status"])


def downgrade() -> None:
    for table in ("work_item", "simulation_run", "published_version", "event", "case_run"):
        op.drop_table(table)
