"""Accounts: the people who use the store, their organisations and roles, and API tokens.

``account`` keeps an argon2 password hash (never the password) and whether the account is
active; ``account_org`` and ``account_role`` hold its organisations (lane ids) and roles;
``api_token`` only the SHA-256 of each token. New tables only, so existing rows are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_accounts"
down_revision: str | None = "0003_run_sets"
branch_labels: str | None = None
depends_on: str | None = None

_NAIVE = sa.DateTime(timezone=False)
_USERNAME = "username"


def _member_of(table: str, column: str, length: int) -> None:
    """A table of (username, value) pairs belonging to an account."""
    op.create_table(
        table,
        sa.Column(_USERNAME, sa.String(length=64), nullable=False),
        sa.Column(column, sa.String(length=length), nullable=False),
        sa.ForeignKeyConstraint([_USERNAME], ["account.username"]),
        sa.PrimaryKeyConstraint(_USERNAME, column),
    )


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column(_USERNAME, sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _NAIVE, nullable=False),
        sa.Column("disabled_at", _NAIVE, nullable=True),
        sa.PrimaryKeyConstraint(_USERNAME),
    )
    _member_of("account_org", "org", 64)
    _member_of("account_role", "role", 32)
    op.create_table(
        "api_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(_USERNAME, sa.String(length=64), nullable=False),
        sa.Column("created_at", _NAIVE, nullable=False),
        sa.ForeignKeyConstraint([_USERNAME], ["account.username"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_api_token_username", "api_token", [_USERNAME])


def downgrade() -> None:
    op.drop_index("ix_api_token_username", table_name="api_token")
    for table in ("api_token", "account_role", "account_org", "account"):
        op.drop_table(table)
