"""The tamper-evident audit log, the hash chain of live events, and ended web sessions.

``audit_entry`` is the append-only, hash-chained log of who changed or read what;
``event.entry_hash`` chains each live case's events; ``ended_session`` keeps the nonce hashes of
web sessions ended by logging out. Existing events keep their rows (the new column is nullable);
every existing live event gets its chain hash
(:func:`~boflyt.engine.store.audit.chain_existing_events`),
so an upgraded store verifies clean (``boflyt audit verify``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boflyt.engine.store.audit import chain_existing_events

revision = "0005_audit"
down_revision: str | None = "0004_accounts"
branch_labels: str | None = None
depends_on: str | None = None

_NAIVE = sa.DateTime(timezone=False)


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _NAIVE, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_entry_case_id", "audit_entry", ["case_id"])
    op.create_table(
        "ended_session",
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ended_at", _NAIVE, nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash"),
    )
    chain_existing_events(op.get_bind())


def downgrade() -> None:
    op.drop_table("ended_session")
    op.drop_index("ix_audit_entry_case_id", table_name="audit_entry")
    op.drop_table("audit_entry")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("entry_hash")
