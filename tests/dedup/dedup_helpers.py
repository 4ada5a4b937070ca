"""Helpers of the near-duplicate tests: a crawl context whose hook indexes every stored article,
and made-up stories with reprints."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from db.models import DedupPair, DedupSignature, DedupStory
from db.repository import get_or_create_source
from db.session import transaction
from ingest.config import Config, config_from_dict
from ingest.dedup.hook import make_hook
from ingest.fetching import Fetcher
from ingest.normalize import Hints, article_values
from ingest.outcomes import Outcome
from ingest.pipeline import CrawlContext, store_article
from ingest.services import Database, open_database
from scrapers import ExtractedArticle

DAY0 = datetime(2025, 9, 1, 9, tzinfo=UTC)


@dataclass
class Env:
    config: Config
    database: Database
    ctx: CrawlContext

    def store(
        self,
        url: str,
        body: str,
        *,
        title: str | None = None,
        day: int = 0,
        source: str = "wire",
        canonical: str | None = None,
    ) -> int:
        """Store one article through the pipeline's transaction (and so through the hook)."""
        article_id = self.try_store(url, body, title=title, day=day, source=source, canonical=canonical)
        assert article_id is not None
        return article_id

    def try_store(
        self, url: str, body: str, *, title: str | None = None, day: int = 0, source: str = "wire",
        canonical: str | None = None,
    ) -> int | None:
        with transaction(self.ctx.sessions) as session:
            source_id = get_or_create_source(session, source).id
        article = ExtractedArticle(
            url=url, title=title, text=body, published_at=DAY0 + timedelta(days=day), canonical_url=canonical
        )
        values = article_values(article, Hints(url, url), source_id)
        outcome, article_id = store_article(self.ctx, values, None)
        return article_id if outcome is Outcome.STORED else None

    def pairs(self) -> dict[tuple[int, int], DedupPair]:
        with self.database.sessions() as session:
            return {(p.a_id, p.b_id): p for p in session.scalars(select(DedupPair))}

    def stories(self) -> dict[int, tuple[int, set[int]]]:
        """story id -> (earliest article id, member ids)."""
        with self.database.sessions() as session:
            members: dict[int, set[int]] = {}
            for sig in session.scalars(select(DedupSignature).where(DedupSignature.story_id.is_not(None))):
                assert sig.story_id is not None
                members.setdefault(sig.story_id, set()).add(sig.article_id)
            return {s.id: (s.earliest_article_id, members.get(s.id, set())) for s in session.scalars(select(DedupStory))}


def make_env(url: str, **dedup: Any) -> Env:
    config = config_from_dict({"database": {"url": url}})
    database = open_database(config)
    if dedup:
        from ingest.dedup.settings import DedupSettings

        config = config.model_copy(update={"dedup": DedupSettings(**dedup)})
    ctx = CrawlContext(
        config=config, sessions=database.sessions, fetcher=Fetcher(config.fetch), worker="test",
        article_hooks=[make_hook(config, database.engine)],
    )
    return Env(config, database, ctx)


# --- texts -------------------------------------------------------------------------

_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fe", "gu", "hi", "jo"]


def words(rng: random.Random, n: int) -> list[str]:
    """Made-up words: no two generated stories share a five-word run by chance."""
    return ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(n)]


def story(seed: int, paragraphs: int = 8, per_paragraph: int = 60) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(words(rng, per_paragraph)).capitalize() + "." for _ in range(paragraphs)]


def reprint(paras: list[str], seed: int) -> list[str]:
    """A typical reprint: a new lede, the ending cut, one paragraph added."""
    rng = random.Random(seed)
    new = [" ".join(words(rng, 50)) + "."]
    body = [new[0], *paras[1:6]]
    body.insert(3, " ".join(words(rng, 40)) + ".")
    return body


def text(paras: list[str]) -> str:
    return "\n\n".join(paras)
