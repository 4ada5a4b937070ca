"""Rows from :mod:`db.queries` turned into the API's response models (used by the CLI too)."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import Response

from db.fulltext import MARK_END, MARK_START
from db.models import Article, Run
from db.queries import SearchHit, SourceHealth
from db.story_queries import Duplicate, Story
from ingest.api.schemas import (
    ArticleDetail,
    ArticleItem,
    DuplicateItem,
    RunItem,
    SourceItem,
    StoryItem,
)
from ingest.config import Config


def snippet_html(snippet: str) -> str:
    """Escape the excerpt for HTML and turn the match markers into ``<mark>``."""
    return html.escape(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def snippet_plain(snippet: str, start: str = "", end: str = "") -> str:
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


def _source_name(article: Article, names: Mapping[int, str] | None) -> str | None:
    if names is not None:
        return names.get(article.source_id) if article.source_id is not None else None
    source = article.source
    return source.name if source is not None else None


def article_item(article: Article, names: Mapping[int, str] | None = None) -> ArticleItem:
    return ArticleItem(
        id=article.id,
        url=article.url,
        source=_source_name(article, names),
        title=article.title,
        authors=[str(a) for a in article.authors or []],
        published_at=article.published_at,
        fetched_at=article.fetched_at,
        language=article.language,
        word_count=article.word_count,
    )


def search_item(hit: SearchHit, names: Mapping[int, str] | None = None) -> ArticleItem:
    item = article_item(hit.article, names)
    return item.model_copy(update={"score": round(hit.score, 6), "snippet": snippet_html(hit.snippet)})


# --- the hot path: plain dicts, serialized once (no pydantic validation per row) ---------
# The dicts must serialize exactly as :class:`ArticleItem` does (tests compare the two).


def _iso(value: datetime | None) -> str | None:
    """A datetime as pydantic writes it: ISO 8601, UTC as ``Z``."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # what the database layer returns
        return value.isoformat().replace("+00:00", "Z")
    if value.tzinfo is None:
        return value.isoformat()
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _authors(authors: Any) -> list[str]:
    return [str(a) for a in authors or []]


def row_dict(row: Any, score: float | None = None, snippet: str | None = None) -> dict[str, Any]:
    """A listing row (:func:`db.queries.list_article_rows`) as the JSON of an :class:`ArticleItem`.

    Unpacked by position (:data:`db.queries.ROW_FIELDS`): a page's rows cost half what
    ten attribute lookups each did.
    """
    ident, _source_id, url, title, authors, published_at, fetched_at, language, word_count, source = row
    return {
        "id": ident,
        "url": url,
        "source": source,
        "title": title,
        "authors": _authors(authors),
        "published_at": _iso(published_at),
        "fetched_at": _iso(fetched_at),
        "language": language,
        "word_count": word_count,
        "score": score,
        "snippet": snippet,
    }


def row_item(row: Any) -> ArticleItem:
    """A listing row (:func:`db.queries.list_article_rows`) as the :class:`ArticleItem` that
    :func:`article_item` makes of the same article (the CLI and the web page list with rows)."""
    return ArticleItem(
        id=row.id,
        url=row.url,
        source=row.source,
        title=row.title,
        authors=_authors(row.authors),
        published_at=row.published_at,
        fetched_at=row.fetched_at,
        language=row.language,
        word_count=row.word_count,
    )


def search_dict(hit: SearchHit) -> dict[str, Any]:
    """A search hit as the JSON of an :class:`ArticleItem` (same as :func:`search_item`)."""
    article = hit.article
    score = round(hit.score, 6)
    return {
        "id": article.id,
        "url": article.url,
        "source": _source_name(article, None),
        "title": article.title,
        "authors": _authors(article.authors),
        "published_at": _iso(article.published_at),
        "fetched_at": _iso(article.fetched_at),
        "language": article.language,
        "word_count": article.word_count,
        "score": score if math.isfinite(score) else None,
        "snippet": snippet_html(hit.snippet),
    }


def json_response(body: Any, status_code: int = 200) -> Response:
    """Plain data (already JSON-shaped) serialized once, without a response-model round trip."""
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(content.encode(), status_code=status_code, media_type="application/json")


def duplicate_item(dup: Duplicate) -> DuplicateItem:
    return DuplicateItem(
        article=article_item(dup.article), rule=dup.rule, jaccard=dup.jaccard, containment=dup.containment
    )


def article_detail(article: Article, story_id: int | None, duplicates: Sequence[Duplicate]) -> ArticleDetail:
    base = article_item(article)
    return ArticleDetail(
        **base.model_dump(),
        fetched_url=article.fetched_url,
        modified_at=article.modified_at,
        site_name=article.site_name,
        lead_image=article.lead_image,
        description=article.description,
        content_hash=article.content_hash,
        rule=article.rule,
        flags=[str(f) for f in article.flags or []],
        provenance=dict(article.provenance or {}),
        text=article.body,
        story_id=story_id,
        duplicates=[duplicate_item(d) for d in duplicates],
    )


def story_item(story: Story) -> StoryItem:
    return StoryItem(
        id=story.id, size=story.size, updated_at=story.updated_at,
        members=[article_item(a) for a in story.members],
    )


def run_item(run: Run) -> RunItem:
    return RunItem(
        id=run.id, trigger=run.trigger, status=run.status, started_at=run.started_at,
        finished_at=run.finished_at, counts=dict(run.counts or {}), error=run.error,
    )


def source_items(config: Config, health: Sequence[SourceHealth]) -> list[SourceItem]:
    """Configured sources first (in config order), then sources only the database knows."""
    by_name = {h.source.name: h for h in health}
    items = []
    for src in config.sources:
        h = by_name.pop(src.name, None)
        items.append(_source_item(src.name, h, configured=True, enabled=src.enabled, schedule=src.schedule))
    items.extend(_source_item(name, h, configured=False) for name, h in sorted(by_name.items()))
    return items


def _source_item(
    name: str, h: SourceHealth | None, *, configured: bool, enabled: bool | None = None,
    schedule: str | None = None,
) -> SourceItem:
    s = h.source if h is not None else None
    return SourceItem(
        name=name,
        configured=configured,
        enabled=enabled,
        schedule=schedule,
        healthy=True if s is None else s.healthy,
        consecutive_failures=0 if s is None else s.consecutive_failures,
        articles=0 if h is None else h.articles,
        last_run_at=None if s is None else s.last_run_at,
        last_success_at=None if s is None else s.last_success_at,
        next_run_at=None if s is None else s.next_run_at,
        last_run=None if h is None or h.last_run is None else run_item(h.last_run),
        outcomes_24h={} if h is None else dict(h.recent_outcomes),
    )
