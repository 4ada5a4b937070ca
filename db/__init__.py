"""Persistence for news-ingest: SQLAlchemy 2.0 models, sessions and queries."""
