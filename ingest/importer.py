"""``ingest import``: archives of text dumps (``date YYYY-MM-DD <text>``, one article a file).

Each file is cleaned of its surviving site chrome by :func:`scrapers.clean_dump`
and stored through the same normalize/store steps as a fetched page; its URL
is the file's ``file://`` URL, so importing the same file twice stores it once.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path

from db import repository as repo
from db.session import transaction
from ingest.errors import ImportFileError
from ingest.normalize import Hints, article_values, raw_page_values
from ingest.outcomes import Outcome
from ingest.pipeline import CrawlContext, store_article
from scrapers import DumpFormatError, ExtractedArticle, clean_dump

DUMP_SUFFIXES = (".txt", ".text", ".txt.gz")


@dataclass
class ImportResult:
    path: Path
    outcome: str
    article_id: int | None = None
    error: str | None = None


@dataclass
class ImportSummary:
    results: list[ImportResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


def iter_dump_files(paths: list[Path]) -> Iterator[Path]:
    """Files given directly, and dump files found (sorted) under given folders."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(DUMP_SUFFIXES)
            )
        elif path.exists():
            yield path
        else:
            raise ImportFileError(f"{path}: no such file or folder")


def read_dump(path: Path) -> tuple[str, bytes]:
    try:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ImportFileError(f"{path}: cannot read: {exc}") from exc
    return data.decode("utf-8", errors="replace"), data


def import_file(ctx: CrawlContext, path: Path, source_id: int | None, default_tz: tzinfo = UTC) -> ImportResult:
    """``default_tz``: the zone of byline times that name none (the outlet's; stored in UTC)."""
    try:
        text, data = read_dump(path)
        cleaned = clean_dump(text, default_tz)
    except (ImportFileError, DumpFormatError) as exc:
        return ImportResult(path, "parse_error", error=str(exc))
    url = path.resolve().as_uri()
    body = paragraphs_text(cleaned.text)
    published = cleaned.published_at or cleaned.dump_date
    article = ExtractedArticle(
        url=url,
        title=cleaned.title,
        authors=cleaned.authors,
        published_at=published,
        text=body,
        provenance={
            "published_at": "byline" if cleaned.published_at else "dump-date",
            "title": "dump" if cleaned.title else "none",
            "authors": "byline" if cleaned.authors else "none",
        },
    )
    values = article_values(article, Hints(url, url), source_id)
    raw = raw_page_values(url, data, "text/plain; charset=utf-8")
    outcome, article_id = store_article(ctx, values, raw)
    return ImportResult(path, str(outcome), article_id if outcome is Outcome.STORED else None)


def paragraphs_text(text: str) -> str:
    """One paragraph a line (as dumps often are) becomes the stored form: blank-line separated."""
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def import_paths(ctx: CrawlContext, paths: list[Path], source: str, default_tz: tzinfo = UTC) -> ImportSummary:
    with transaction(ctx.sessions) as session:
        source_id = repo.get_or_create_source(session, source).id
    summary = ImportSummary()
    for path in iter_dump_files(paths):
        summary.results.append(import_file(ctx, path, source_id, default_tz))
    return summary
