"""Response bodies of the HTTP API (and of ``ingest articles … --json``), as pydantic models.

The OpenAPI schema is generated from these, and schemathesis checks every
response against it, so they are the contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ArticleItem(_Out):
    """An article in a listing; ``score`` and ``snippet`` are set for search results."""

    id: int
    url: str
    source: str | None
    title: str | None
    authors: list[str]
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    word_count: int
    score: float | None = Field(default=None, description="Search relevance, higher is better.")
    snippet: str | None = Field(
        default=None, description="HTML-escaped excerpt; matched words are wrapped in <mark>…</mark>."
    )


class ArticlePage(_Out):
    items: list[ArticleItem]
    next_cursor: str | None = Field(description="Pass as `after` for the next page; null on the last.")


class DuplicateItem(_Out):
    """A verified near-duplicate: ``containment`` is the share of this article found in the other."""

    article: ArticleItem
    rule: str
    jaccard: float
    containment: float


class ArticleDetail(ArticleItem):
    fetched_url: str | None
    modified_at: datetime | None
    site_name: str | None
    lead_image: str | None
    description: str | None
    content_hash: str
    rule: str | None = Field(description="The site rule that extracted it, if any.")
    flags: list[str]
    provenance: dict[str, Any] = Field(description="Where each field came from (json-ld, meta, …).")
    text: str
    story_id: int | None
    duplicates: list[DuplicateItem]


class StoryItem(_Out):
    """Near-duplicates of one story; members oldest first, the first is taken as the original."""

    id: int
    size: int
    updated_at: datetime
    members: list[ArticleItem]


class StoryPage(_Out):
    items: list[StoryItem]
    next_cursor: str | None


class RunItem(_Out):
    id: int
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


class SourceItem(_Out):
    """A source from the config and/or the database, with its crawl health."""

    name: str
    configured: bool
    enabled: bool | None
    schedule: str | None
    healthy: bool
    consecutive_failures: int
    articles: int
    last_run_at: datetime | None
    last_success_at: datetime | None
    next_run_at: datetime | None
    last_run: RunItem | None
    outcomes_24h: dict[str, int]


class FetchAccepted(_Out):
    source: str
    status: str = Field(description="'queued' in the database for the daemon, or 'started' in the API.")
    request_id: int | None
    daemon_running: bool | None = Field(description="Whether a live daemon serves the source.")


class Health(_Out):
    status: str
    database: str


class ErrorDetail(_Out):
    status: int
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(_Out):
    """Every error response: ``{"error": {"status": 422, "message": "…"}}``."""

    error: ErrorDetail
