"""Run sets: every simulation gets a short run number and an origin.

``simulation_run.number`` (unique, never reused: the store keeps the last one given in
``store_meta`` once a simulation is stored or deleted) names the run set ``simulated:<number>``;
``simulation_run.origin`` is ``simulate`` or ``demo`` (the demo replaces its own). Simulations
stored before this revision are numbered in the order they were stored and marked ``simulate``.

SQLite cannot add a NOT NULL column without a default or a table constraint, so there the table
is rebuilt (renamed, created anew exactly as ``models/tables.py`` declares it, copied, dropped);
PostgreSQL adds the columns in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_run_sets"
down_revision: str | None = "0002_store_meta"
branch_labels: str | None = None
depends_on: str | None = None

_NAIVE = sa.DateTime(timezone=False)
_OLD = "_simulation_run_old"
_COUNTER = "last_simulation_number"  # written by the store (engine/eventlog.py), not here
_KEPT = "id, process, version, scenario, seed, cases, created_at, content_hash"
_NUMBERED = "ROW_NUMBER() OVER (ORDER BY created_at, id)"


def _columns(*, run_sets: bool) -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("process", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(length=200), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("created_at", _NAIVE, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
    ]
    if run_sets:
        columns += [
            sa.Column("number", sa.Integer(), nullable=False),
            sa.Column("origin", sa.String(length=16), nullable=False),
        ]
    return columns


def _rebuild(*, run_sets: bool) -> None:
    """SQLite: the table made anew with (or without) the run-set columns, rows copied."""
    op.rename_table("simulation_run", _OLD)
    constraints: list[sa.Constraint] = [sa.PrimaryKeyConstraint("id")]
    if run_sets:
        constraints.append(sa.UniqueConstraint("number", name="uq_simulation_run_number"))
    op.create_table("simulation_run", *_columns(run_sets=run_sets), *constraints)
    if run_sets:
        op.execute(
            f"INSERT INTO simulation_run ({_KEPT}, number, origin) "
            f"SELECT {_KEPT}, {_NUMBERED}, 'simulate' FROM {_OLD}"
        )
    else:
        op.execute(f"INSERT INTO simulation_run ({_KEPT}) SELECT {_KEPT} FROM {_OLD}")
    op.drop_table(_OLD)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(run_sets=True)
    else:
        op.add_column("simulation_run", sa.Column("number", sa.Integer(), nullable=True))
        op.add_column(
            "simulation_run",
            sa.Column("origin", sa.String(length=16), nullable=False, server_default="simulate"),
        )
        op.execute(
            f"UPDATE simulation_run SET number = ranked.n FROM (SELECT id, {_NUMBERED} AS n "
            "FROM simulation_run) AS ranked WHERE simulation_run.id = ranked.id"
        )
        op.alter_column("simulation_run", "number", nullable=False)
        op.alter_column("simulation_run", "origin", server_default=None)
        op.create_unique_constraint("uq_simulation_run_number", "simulation_run", ["number"])


def downgrade() -> None:
    op.execute(f"DELETE FROM store_meta WHERE name = '{_COUNTER}'")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(run_sets=False)
    else:
        op.drop_constraint("uq_simulation_run_number", "simulation_run", type_="unique")
        op.drop_column("simulation_run", "origin")
        op.drop_column("simulation_run", "number")
