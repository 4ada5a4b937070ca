"""near-duplicate index (filled in by the dedup work)

Revision ID: 0002_dedup
Revises: 0001_initial
"""

from collections.abc import Sequence

revision: str = "0002_dedup"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
