"""article bodies and search vectors compressed with lz4 on PostgreSQL (where the server has it)

Revision ID: 0007_lz4_bodies
Revises: 0006_author_statement_trigger

A stored body (6 KB of text on average in the crawl bench and in the AEB
pages) is compressed by PostgreSQL's TOAST on insert.  With the default pglz
that cost about 100 us of server CPU per article (148 against 43 us per row
for the AEB bodies; 825 against 734 us for a crawl-bench article with its
search vector), a few percent of all the CPU a crawled article costs, and
reading bodies back (searches, exports, ``dedup rebuild``) decompresses faster
too.  The price: the AEB bodies took 4.96 MB instead of 4.33 MB.
Only values written from now on use lz4; older ones stay readable as they are.
Needs PostgreSQL 14 built with lz4 (Debian's and the official images are);
elsewhere, and on SQLite, nothing changes.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0007_lz4_bodies"
down_revision: str | None = "0006_author_statement_trigger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("body", "search_vector")


def _has_lz4() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(
        text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return bool(found)


def upgrade() -> None:
    if not _has_lz4():
        return
    for column in COLUMNS:
        op.execute(f"ALTER TABLE articles ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    if not _has_lz4():
        return
    for column in COLUMNS:
        op.execute(f"ALTER TABLE articles ALTER COLUMN {column} SET COMPRESSION DEFAULT")
