"""The Alembic migrations and the models agree, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from db import migrate
from db.models_search import include_name
from db.schema import metadata
from db.session import make_engine


def test_upgrade_head_leaves_no_autogenerate_diff(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name}), metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_creates_every_table_and_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()
    assert set(metadata.tables) <= tables


def test_downgrade_to_base_and_back(db_url: str) -> None:
    from alembic import command

    engine = make_engine(db_url)
    migrate.upgrade(engine)
    cfg = migrate.alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert "articles" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "articles" in inspect(engine).get_table_names()
    engine.dispose()


def test_postgresql_bodies_are_written_with_lz4_where_the_server_has_it(pg_url: str) -> None:
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        has_lz4 = conn.execute(
            text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
        methods = dict(conn.execute(text(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'articles'::regclass AND attname IN ('body', 'search_vector', 'title')"
        )).all())
    engine.dispose()
    if not has_lz4:
        pytest.skip("this PostgreSQL server was built without lz4")
    assert methods == {"body": "l", "search_vector": "l", "title": ""}
