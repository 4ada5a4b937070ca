"""near-duplicate index: signatures, LSH band buckets, pairs, stories, host chrome, links

Revision ID: 0002_dedup
Revises: 0001_initial
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0002_dedup"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = db.types.UTCDateTime(timezone=True)


def _article_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["articles.id"], name=op.f(f"fk_{table}_{column}_articles"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "dedup_bands",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("key", "day", "article_id", name=op.f("pk_dedup_bands")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "dedup_host_blocks",
        sa.Column("host_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("host_key", "block_key", name=op.f("pk_dedup_host_blocks")),
    )
    op.create_table(
        "dedup_links",
        sa.Column("url_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _article_fk("article_id", "dedup_links"),
        sa.PrimaryKeyConstraint("url_key", "article_id", name=op.f("pk_dedup_links")),
    )
    op.create_table(
        "dedup_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("containment_ab", sa.Float(), nullable=False),
        sa.Column("containment_ba", sa.Float(), nullable=False),
        sa.Column("jaccard", sa.Float(), nullable=False),
        sa.Column("title_similarity", sa.Float(), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _article_fk("a_id", "dedup_pairs"),
        _article_fk("b_id", "dedup_pairs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_pairs")),
        sa.UniqueConstraint("a_id", "b_id", name="uq_dedup_pairs_a_id_b_id"),
    )
    with op.batch_alter_table("dedup_pairs", schema=None) as batch_op:
        batch_op.create_index("ix_dedup_pairs_b_id", ["b_id"], unique=False)

    op.create_table(
        "dedup_signatures",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=40), nullable=False),
        sa.Column("host_key", sa.BigInteger(), nullable=False),
        sa.Column("shingle_count", sa.Integer(), nullable=False),
        sa.Column("minhash", sa.LargeBinary(), nullable=False),
        sa.Column("chrome", sa.JSON(), nullable=False),
        sa.Column("wires", sa.JSON(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        _article_fk("article_id", "dedup_signatures"),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_dedup_signatures")),
    )
    with op.batch_alter_table("dedup_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dedup_signatures_story_id"), ["story_id"], unique=False
        )

    op.create_table(
        "dedup_stories",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("earliest_article_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        _article_fk("earliest_article_id", "dedup_stories"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_stories")),
    )


def downgrade() -> None:
    op.drop_table("dedup_stories")
    with op.batch_alter_table("dedup_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dedup_signatures_story_id"))
    op.drop_table("dedup_signatures")
    with op.batch_alter_table("dedup_pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_dedup_pairs_b_id")
    op.drop_table("dedup_pairs")
    op.drop_table("dedup_links")
    op.drop_table("dedup_host_blocks")
    op.drop_table("dedup_bands")
