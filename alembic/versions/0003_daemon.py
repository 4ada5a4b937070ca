"""daemon state: workers and heartbeats, manual fetch requests, extraction-health samples

Revision ID: 0003_daemon
Revises: 0002_dedup
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0003_daemon"
down_revision: str | None = "0002_dedup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "daemon_workers",
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("heartbeat_at", UTC, nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("in_flight", sa.JSON(), nullable=False),
        sa.Column("reload_requested_at", UTC, nullable=True),
        sa.Column("reloaded_at", UTC, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_daemon_workers")),
    )
    with op.batch_alter_table("daemon_workers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_daemon_workers_heartbeat_at"), ["heartbeat_at"], unique=False
        )

    op.create_table(
        "fetch_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_fetch_requests_run_id_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_requests")),
    )
    with op.batch_alter_table("fetch_requests", schema=None) as batch_op:
        batch_op.create_index("ix_fetch_requests_status_id", ["status", "id"], unique=False)

    op.create_table(
        "extraction_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", UTC, nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("mean_words", sa.Float(), nullable=False),
        sa.Column("missing_date", sa.Float(), nullable=False),
        sa.Column("missing_author", sa.Float(), nullable=False),
        sa.Column("chrome_share", sa.Float(), nullable=False),
        sa.Column("rejected_share", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_extraction_samples_run_id_runs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_extraction_samples_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_samples")),
    )
    with op.batch_alter_table("extraction_samples", schema=None) as batch_op:
        batch_op.create_index(
            "ix_extraction_samples_source_taken", ["source_id", "taken_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("extraction_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_extraction_samples_source_taken")
    op.drop_table("extraction_samples")
    with op.batch_alter_table("fetch_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_fetch_requests_status_id")
    op.drop_table("fetch_requests")
    with op.batch_alter_table("daemon_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daemon_workers_heartbeat_at"))
    op.drop_table("daemon_workers")
