"""The article hook: index newly stored articles inside their storing transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import dedup_queries as dq
from ingest.config import Config
from ingest.dedup.indexer import Indexer
from ingest.dedup.settings import DedupSettings
from ingest.pipeline import ArticleHook


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

    def hook(session: Session, article_ids: Sequence[int]) -> None:
        if not settings.enabled or not article_ids:
            return
        # a batch indexes exactly like its articles one at a time, in id order (see indexer)
        indexer.index(session, dq.articles(session, sorted(article_ids)))

    return hook
