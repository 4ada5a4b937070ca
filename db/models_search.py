"""Search support in the schema: list indexes, and the full-text objects models cannot hold.

The full-text index lives outside the SQLAlchemy models because neither
backend's form of it fits a portable model: on SQLite it is an FTS5 virtual
table (``articles_fts`` plus its shadow tables) fed by triggers, on PostgreSQL
a generated ``tsvector`` column with a GIN index.  Migration ``0004_search``
creates them; :func:`include_name` hides exactly those objects from Alembic's
autogenerate comparison (``alembic/env.py`` and the schema test both use it).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from db.models import Article, Base

#: SQLite: the FTS5 table (external content = ``articles``) and its shadow-table prefix.
FTS_TABLE = "articles_fts"
#: PostgreSQL: the generated ``tsvector`` column on ``articles`` and its GIN index.
TSVECTOR_COLUMN = "search_vector"
TSVECTOR_INDEX = "ix_articles_search_vector"
#: The text-search configuration the ``tsvector`` is built with; queries must use the same.
PG_TEXT_CONFIG = "english"

# Filtered listings walk an index in display order and stop after one page.
ix_articles_language_published = Index(
    "ix_articles_language_published", Article.language, Article.published_at, Article.id
)


# The author filter: every distinct author name (lowercased, first 200 characters) once, and
# which articles name which author.  A substring match then scans the short list of names
# (not every article's JSON) and reaches the articles through an index.  Migration
# ``0004_search`` fills both and keeps them in sync with ``articles.authors`` by triggers on
# insert/update (delete cascades), so no writer has to know about them.
AUTHOR_NAME_LENGTH = 200
author_names = Table(
    "author_names",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(AUTHOR_NAME_LENGTH), nullable=False),
    UniqueConstraint("name", name="uq_author_names_name"),
)
article_authors = Table(
    "article_authors",
    Base.metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("author_id", Integer, ForeignKey("author_names.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_article_authors_author_id", "author_id", "article_id"),
)


def is_search_object(name: str | None, type_: str, table_name: str | None = None) -> bool:
    """True for the full-text objects migration ``0004_search`` manages outside the models."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    if type_ == "column":
        return table_name == "articles" and name == TSVECTOR_COLUMN
    if type_ == "index":
        return name == TSVECTOR_INDEX
    return False


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic ``include_name`` hook: compare everything except the full-text objects."""
    return not is_search_object(name, type_, parent_names.get("table_name"))
