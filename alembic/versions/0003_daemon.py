"""daemon state (filled in by the daemon work)

Revision ID: 0003_daemon
Revises: 0002_dedup
"""

from collections.abc import Sequence

revision: str = "0003_daemon"
down_revision: str | None = "0002_dedup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
