"""full-text search (filled in by the query work)

Revision ID: 0004_search
Revises: 0003_daemon
"""

from collections.abc import Sequence

revision: str = "0004_search"
down_revision: str | None = "0003_daemon"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
