"""``ingest reextract``: re-run extraction on stored raw pages, without fetching.

After a site rule or the extractor changes, the compressed HTML kept with
each article (``raw_pages``) is extracted again and the article's extracted
fields are updated in place.  Identity never changes: the URL, fetched URL,
source and fetch time stay; a page that no longer yields an article keeps its
old row and is counted ``not_article`` (a rule bug must not delete data).
A feed date the article took at crawl time is kept as the candidate date.

Pages are read in id order, a batch per transaction, so a big database is
processed in bounded memory and an interrupted run can simply be repeated.
"""

from __future__ import annotations

import gzip
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Article, RawPage, Source
from ingest.errors import ConfigError, IngestError
from ingest.normalize import Hints, article_values
from scrapers import extract

BATCH = 200
MIN_WORDS = 40
_UPDATED_FIELDS = (
    "title", "authors", "published_at", "modified_at", "language", "site_name", "lead_image",
    "description", "body", "content_hash", "word_count", "rule", "provenance", "flags",
)


class RawPageError(IngestError):
    """A stored raw page cannot be decompressed."""


@dataclass
class ReextractSummary:
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def decompress(page: RawPage) -> bytes:
    """The HTML of a stored page.  Raises :class:`RawPageError` for unknown or corrupt data."""
    try:
        if page.compression == "gzip":
            return gzip.decompress(page.data)
        if page.compression in ("", "none", "identity"):
            return bytes(page.data)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise RawPageError(f"raw page {page.id}: cannot decompress: {exc}") from None
    raise RawPageError(f"raw page {page.id}: unknown compression {page.compression!r}")


def reextract(
    sessions: sessionmaker[Session], *, source: str | None = None, since: datetime | None = None
) -> ReextractSummary:
    """Re-extract every stored article (of ``source``, fetched on or after ``since``)."""
    started = time.perf_counter()
    summary = ReextractSummary()
    source_id = _source_id(sessions, source) if source else None
    after = 0
    while True:
        with sessions() as session, session.begin():
            stmt = (
                select(Article, RawPage)
                .join(RawPage, Article.raw_page_id == RawPage.id)
                .where(Article.id > after)
                .order_by(Article.id)
                .limit(BATCH)
            )
            if source_id is not None:
                stmt = stmt.where(Article.source_id == source_id)
            if since is not None:
                stmt = stmt.where(Article.fetched_at >= since)
            rows = session.execute(stmt).all()
            for article, raw in rows:
                summary.counts[_reextract_one(article, raw)] += 1
        if len(rows) < BATCH:
            break
        after = rows[-1][0].id
    summary.seconds = time.perf_counter() - started
    return summary


def _source_id(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as session:
        found = session.scalar(select(Source.id).where(Source.name == name))
    if found is None:
        raise ConfigError(f"--source: no stored articles of a source named {name!r}")
    return found


def _reextract_one(row: Article, raw: RawPage) -> str:
    try:
        html = decompress(raw)
    except RawPageError:
        return "parse_error"
    fresh = extract(html, raw.url, content_type=raw.content_type)
    if not fresh.text.strip() or fresh.word_count < MIN_WORDS:
        return "not_article"
    values = article_values(fresh, _hints(row, raw), row.source_id)
    changed = False
    for name in _UPDATED_FIELDS:
        if getattr(row, name) != values[name]:
            setattr(row, name, values[name])
            changed = True
    return "updated" if changed else "unchanged"


def _hints(row: Article, raw: RawPage) -> Hints:
    """What the crawl knew besides the page: a feed date or title it fell back on."""
    provenance: dict[str, Any] = row.provenance or {}
    feed_date = row.published_at if provenance.get("published_at") == "feed" else None
    feed_title = row.title if provenance.get("title") == "feed" else None
    language = row.language if provenance.get("language") == "source-config" else None
    return Hints(row.fetched_url or raw.url, raw.url, feed_date, feed_title, language)



def register(app: typer.Typer) -> None:
    """Add ``ingest reextract`` to the CLI."""

    @app.command("reextract")
    def reextract_cmd(
        source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only pages fetched on or after (ISO date).")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    ) -> None:
        """Re-run extraction on stored raw pages (after a rule or extractor change); no fetching."""
        from ingest import render
        from ingest.cli_common import STATE, parse_date
        from ingest.services import open_database

        when = parse_date(since, "since")
        database = open_database(STATE.config)
        try:
            summary = reextract(database.sessions, source=source, since=when)
        finally:
            database.close()
        counts = dict(sorted(summary.counts.items()))
        if json_out:
            print(render.dumps({"counts": counts, "seconds": round(summary.seconds, 3)}))
        else:
            total = sum(counts.values())
            print(f"re-extracted {total} pages in {summary.seconds:.1f}s: {render.counts_text(counts)}")


__all__ = ["RawPageError", "ReextractSummary", "decompress", "reextract", "register"]
