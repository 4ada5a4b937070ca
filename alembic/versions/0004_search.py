"""full-text search: SQLite FTS5 / PostgreSQL tsvector + GIN, and a language listing index

Revision ID: 0004_search
Revises: 0003_daemon

SQLite: ``articles_fts`` is an external-content FTS5 table over ``articles``
(title, body), Porter-stemmed, kept in sync by AFTER INSERT/UPDATE/DELETE
triggers; bm25 weighs the title 10x the body.

PostgreSQL: ``articles.search_vector`` is a STORED generated ``tsvector``
(title weight A, body weight B, 'english' config), so the database itself
keeps it in sync on every insert and update (no trigger can be bypassed or
forgotten), with a GIN index.

The author filter: ``author_names`` (each distinct lowercased name once) and
``article_authors`` (article -> name), filled from ``articles.authors`` here and kept
in sync by AFTER INSERT / UPDATE OF authors triggers on both backends (deleting an
article cascades).  Names are the elements of a JSON array, lowercased, cut to
200 characters; anything else in ``authors`` names nobody.

Note for later migrations: a SQLite batch ("move and copy") rebuild of
``articles`` drops its triggers; call ``create_sqlite_fts_triggers`` again.
These objects are outside the models; ``db.models_search.include_name``
hides them from autogenerate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_search"
down_revision: str | None = "0003_daemon"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
    """
    CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END
    """,
    """
    CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
)

PG_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, left(body, 200000)), 'B')"
)


# --- author index ------------------------------------------------------------------------

_SQLITE_NAMES = (
    "SELECT DISTINCT substr(lower(value), 1, 200) FROM json_each("
    "CASE WHEN json_valid({doc}) AND json_type({doc}) = 'array' THEN {doc} ELSE '[]' END"
    ") WHERE type = 'text' AND value <> ''"
)
_SQLITE_LINK = (
    "INSERT OR IGNORE INTO author_names(name) {names};\n"
    "INSERT OR IGNORE INTO article_authors(article_id, author_id) "
    "SELECT {id}, author_names.id FROM author_names WHERE author_names.name IN ({names});"
)
SQLITE_AUTHOR_TRIGGERS = (
    "CREATE TRIGGER articles_authors_ai AFTER INSERT ON articles BEGIN\n"
    + _SQLITE_LINK.format(id="new.id", names=_SQLITE_NAMES.format(doc="new.authors"))
    + "\nEND",
    "CREATE TRIGGER articles_authors_au AFTER UPDATE OF authors ON articles BEGIN\n"
    "DELETE FROM article_authors WHERE article_id = old.id;\n"
    + _SQLITE_LINK.format(id="new.id", names=_SQLITE_NAMES.format(doc="new.authors"))
    + "\nEND",
    # foreign keys (hence the cascade) are a per-connection pragma on SQLite: do not rely on it
    "CREATE TRIGGER articles_authors_ad AFTER DELETE ON articles BEGIN\n"
    "DELETE FROM article_authors WHERE article_id = old.id;\nEND",
)
SQLITE_AUTHOR_BACKFILL = (
    "INSERT OR IGNORE INTO author_names(name) SELECT DISTINCT substr(lower(j.value), 1, 200) "
    "FROM articles, json_each(CASE WHEN json_valid(articles.authors) AND json_type(articles.authors) = 'array' "
    "THEN articles.authors ELSE '[]' END) AS j WHERE j.type = 'text' AND j.value <> ''",
    "INSERT OR IGNORE INTO article_authors(article_id, author_id) SELECT articles.id, author_names.id "
    "FROM articles, json_each(CASE WHEN json_valid(articles.authors) AND json_type(articles.authors) = 'array' "
    "THEN articles.authors ELSE '[]' END) AS j "
    "JOIN author_names ON author_names.name = substr(lower(j.value), 1, 200) "
    "WHERE j.type = 'text' AND j.value <> ''",
)
PG_AUTHOR_FUNCTION = """
CREATE OR REPLACE FUNCTION articles_authors_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM article_authors WHERE article_id = OLD.id;
    END IF;
    IF json_typeof(NEW.authors) = 'array' THEN
        INSERT INTO author_names(name)
        SELECT DISTINCT left(lower(v), 200) FROM json_array_elements_text(NEW.authors) AS v
        WHERE v IS NOT NULL AND v <> ''
        ON CONFLICT (name) DO NOTHING;
        INSERT INTO article_authors(article_id, author_id)
        SELECT NEW.id, n.id FROM author_names AS n
        WHERE n.name IN (SELECT left(lower(v), 200) FROM json_array_elements_text(NEW.authors) AS v)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""
PG_AUTHOR_TRIGGERS = (
    PG_AUTHOR_FUNCTION,
    "CREATE TRIGGER articles_authors_ai AFTER INSERT ON articles "
    "FOR EACH ROW EXECUTE FUNCTION articles_authors_sync()",
    "CREATE TRIGGER articles_authors_au AFTER UPDATE OF authors ON articles "
    "FOR EACH ROW EXECUTE FUNCTION articles_authors_sync()",
)
_PG_ELEMENTS = (
    "FROM articles CROSS JOIN LATERAL json_array_elements_text("
    "CASE WHEN json_typeof(articles.authors) = 'array' THEN articles.authors ELSE '[]'::json END) AS v "
    "WHERE v IS NOT NULL AND v <> ''"
)
PG_AUTHOR_BACKFILL = (
    f"INSERT INTO author_names(name) SELECT DISTINCT left(lower(v), 200) {_PG_ELEMENTS} "
    "ON CONFLICT (name) DO NOTHING",
    "INSERT INTO article_authors(article_id, author_id) SELECT DISTINCT articles.id, n.id "
    f"{_PG_ELEMENTS.replace(' WHERE ', ' JOIN author_names AS n ON n.name = left(lower(v), 200) WHERE ')} "
    "ON CONFLICT DO NOTHING",
)


def create_author_tables() -> None:
    op.create_table(
        "author_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_names")),
        sa.UniqueConstraint("name", name="uq_author_names_name"),
    )
    op.create_table(
        "article_authors",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_authors_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["author_names.id"], name=op.f("fk_article_authors_author_id_author_names"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "author_id", name=op.f("pk_article_authors")),
    )
    op.create_index("ix_article_authors_author_id", "article_authors", ["author_id", "article_id"])


def author_index_sql(dialect: str) -> tuple[str, ...]:
    """Triggers then backfill (also run by hand to upgrade a database already at this revision)."""
    if dialect == "sqlite":
        return SQLITE_AUTHOR_TRIGGERS + SQLITE_AUTHOR_BACKFILL
    return PG_AUTHOR_TRIGGERS + PG_AUTHOR_BACKFILL


def create_sqlite_fts_triggers() -> None:
    for ddl in SQLITE_TRIGGERS:
        op.execute(ddl)


def upgrade() -> None:
    op.create_index(
        "ix_articles_language_published", "articles", ["language", "published_at", "id"]
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', "
            "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0)')")
        create_sqlite_fts_triggers()
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    else:
        op.execute(
            f"ALTER TABLE articles ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({PG_VECTOR}) STORED"
        )
        # Keep the vector inline (compressed) rather than in TOAST: ranking reads it for
        # every candidate row, and the body is what should move out of line.
        op.execute("ALTER TABLE articles ALTER COLUMN search_vector SET STORAGE MAIN")
        op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
    create_author_tables()
    for statement in author_index_sql(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("articles_authors_ai", "articles_authors_au", "articles_authors_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in ("articles_authors_ai", "articles_authors_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON articles")
        op.execute("DROP FUNCTION IF EXISTS articles_authors_sync()")
    op.drop_index("ix_article_authors_author_id", table_name="article_authors")
    op.drop_table("article_authors")
    op.drop_table("author_names")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    op.drop_index("ix_articles_language_published", table_name="articles")
