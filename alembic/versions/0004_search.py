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

Note for later migrations: a SQLite batch ("move and copy") rebuild of
``articles`` drops its triggers; call ``create_sqlite_fts_triggers`` again.
These objects are outside the models; ``db.models_search.include_name``
hides them from autogenerate.
"""

from collections.abc import Sequence

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


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    op.drop_index("ix_articles_language_published", table_name="articles")
