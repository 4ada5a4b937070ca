"""The article hook: index newly stored articles inside their storing transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.dedup_queries import ArticleText
from db.types import utcnow
from ingest.config import Config
from ingest.dedup.indexer import Indexer
from ingest.dedup.settings import DedupSettings
from ingest.pipeline import ArticleHook, StoredArticle


def settings_of(config: Config) -> DedupSettings:
    """The ``[dedup]`` section (defaults until the config model has one)."""
    found = getattr(config, "dedup", None)
    return found if isinstance(found, DedupSettings) else DedupSettings()


def make_hook(config: Config, engine: Engine) -> ArticleHook:
    """A hook for :attr:`ingest.pipeline.CrawlContext.article_hooks`.

    The article, its signature, band rows, pairs and story updates commit
    together or not at all.  ``engine`` is unused: the hook works on the
    storing session so it sees the uncommitted article.
    """
    del engine
    settings = settings_of(config)
    indexer = Indexer(settings)

    def hook(session: Session, stored: Sequence[StoredArticle]) -> None:
        if not settings.enabled or not stored:
            return
        # a batch indexes exactly like its articles one at a time, in id order (see indexer)
        ordered = sorted(stored, key=lambda a: a.id)
        indexer.index(session, [article_text(a) for a in ordered], [a.reading for a in ordered])

    return hook


def article_text(stored: StoredArticle) -> ArticleText:
    """What the detector reads of an article, from the values it was just stored with."""
    v = stored.values
    return ArticleText(
        id=stored.id, url=v["url"], title=v.get("title"), body=v["body"], published_at=v.get("published_at"),
        fetched_at=v.get("fetched_at") or utcnow(), content_hash=v["content_hash"], source_id=v.get("source_id"),
        provenance=dict(v.get("provenance") or {}),
    )
