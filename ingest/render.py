"""Turning rows into what the CLI prints: JSON-ready dicts and rich tables."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from scrapers import ExtractedArticle


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def extracted_json(path: str, article: ExtractedArticle) -> dict[str, Any]:
    """The ``ingest extract`` contract: path, url, title, authors, published_at, language, text."""
    return {
        "path": path,
        "url": article.canonical_url or article.url,
        "title": article.title,
        "authors": list(article.authors),
        "published_at": iso(article.published_at),
        "language": article.language,
        "text": article.text,
        "modified_at": iso(article.modified_at),
        "site_name": article.site_name,
        "lead_image": article.lead_image,
        "rule": article.rule,
        "provenance": dict(article.provenance),
        "flags": [str(f) for f in article.flags],
    }


def table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    tbl = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        tbl.add_column(col, overflow="fold")
    for row in rows:
        tbl.add_row(*("" if v is None else str(v) for v in row))
    return tbl


def counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v) or "-"


def console(stderr: bool = False) -> Console:
    """A console that does not squeeze tables to 80 columns when output is piped."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, soft_wrap=True, width=width)
