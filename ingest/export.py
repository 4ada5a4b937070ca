"""``ingest export``: stream articles to JSON Lines, CSV, Parquet or one text file per article.

Rows come from :func:`db.queries.iter_articles` (a server-side cursor on
PostgreSQL) and are written as they arrive; Parquet is written one row
group per batch.  Memory stays flat however many articles match.
"""

from __future__ import annotations

import csv
import importlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from db.queries import ArticleFilter, iter_articles
from ingest.errors import IngestError

FORMATS = ("jsonl", "csv", "parquet", "text")
BATCH = 200  # rows in memory at once (bodies can be large); also rows per Parquet row group

#: Exported fields, in order; ``text`` is the body.
FIELDS = (
    "id", "url", "source", "title", "authors", "published_at", "modified_at", "fetched_at",
    "language", "site_name", "description", "word_count", "content_hash", "rule", "flags",
    "provenance", "text",
)


class ExportError(IngestError):
    """The export cannot be written (bad destination, missing optional dependency)."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One database row as the exported record (JSON-ready values)."""
    return {
        "id": row["id"],
        "url": row["url"],
        "source": row["source"],
        "title": row["title"],
        "authors": [str(a) for a in row["authors"] or []],
        "published_at": _iso(row["published_at"]),
        "modified_at": _iso(row["modified_at"]),
        "fetched_at": _iso(row["fetched_at"]),
        "language": row["language"],
        "site_name": row["site_name"],
        "description": row["description"],
        "word_count": row["word_count"],
        "content_hash": row["content_hash"],
        "rule": row["rule"],
        "flags": [str(f) for f in row["flags"] or []],
        "provenance": dict(row["provenance"] or {}),
        "text": row["body"],
    }


@contextmanager
def _open_text(output: Path | None, newline: str | None = None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    try:
        with output.open("w", encoding="utf-8", newline=newline) as handle:
            yield handle
    except OSError as exc:
        raise ExportError(f"{output}: cannot write: {exc}") from None


def write_jsonl(records: Iterable[dict[str, Any]], output: Path | None) -> int:
    count = 0
    with _open_text(output) as handle:
        for rec in records:
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], output: Path | None) -> int:
    """Lists are joined with ``; `` (authors, flags); provenance is a JSON string."""
    count = 0
    with _open_text(output, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for rec in records:
            flat = dict(rec)
            flat["authors"] = "; ".join(rec["authors"])
            flat["flags"] = "; ".join(rec["flags"])
            flat["provenance"] = json.dumps(rec["provenance"], ensure_ascii=False)
            writer.writerow(flat)
            count += 1
    return count


def write_parquet(records: Iterable[dict[str, Any]], output: Path | None) -> int:
    """One row group per :data:`BATCH` records; needs ``pyarrow``."""
    if output is None:
        raise ExportError("--format parquet needs --output FILE")
    try:  # optional dependency, untyped: imported by name
        pa: Any = importlib.import_module("pyarrow")
        pq: Any = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ExportError("--format parquet needs pyarrow (pip install pyarrow)") from None
    ts = pa.timestamp("us", tz="UTC")
    schema = pa.schema([
        ("id", pa.int64()), ("url", pa.string()), ("source", pa.string()), ("title", pa.string()),
        ("authors", pa.list_(pa.string())), ("published_at", ts), ("modified_at", ts), ("fetched_at", ts),
        ("language", pa.string()), ("site_name", pa.string()), ("description", pa.string()),
        ("word_count", pa.int64()), ("content_hash", pa.string()), ("rule", pa.string()),
        ("flags", pa.list_(pa.string())), ("provenance", pa.string()), ("text", pa.string()),
    ])
    count = 0
    try:
        with pq.ParquetWriter(str(output), schema) as writer:
            batch: list[dict[str, Any]] = []

            def flush() -> None:
                columns = {name: [r[name] for r in batch] for name in schema.names}
                for name in ("published_at", "modified_at", "fetched_at"):
                    columns[name] = [None if v is None else datetime.fromisoformat(v) for v in columns[name]]
                columns["provenance"] = [json.dumps(v, ensure_ascii=False) for v in columns["provenance"]]
                writer.write_table(pa.table(columns, schema=schema))
                batch.clear()

            for rec in records:
                batch.append(rec)
                count += 1
                if len(batch) >= BATCH:
                    flush()
            if batch:
                flush()
    except OSError as exc:
        raise ExportError(f"{output}: cannot write: {exc}") from None
    return count


def text_file_name(rec: Mapping[str, Any]) -> str:
    return f"{rec['id']:08d}_{str(rec['content_hash'])[:16]}.txt"


def text_dump(rec: Mapping[str, Any]) -> str:
    """`` date YYYY-MM-DD <body>``: the seeds' form (published date, else fetch date, in UTC)."""
    when = rec["published_at"] or rec["fetched_at"]
    return f" date {str(when)[:10]} {rec['text']}"


def write_text(records: Iterable[dict[str, Any]], output: Path | None) -> int:
    if output is None:
        raise ExportError("--format text needs --output FOLDER")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{output}: cannot create folder: {exc}") from None
    count = 0
    for rec in records:
        try:
            (output / text_file_name(rec)).write_text(text_dump(rec), encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"{output}: cannot write: {exc}") from None
        count += 1
    return count


WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], Path | None], int]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "parquet": write_parquet,
    "text": write_text,
}


def export_articles(session: Session, flt: ArticleFilter, fmt: str, output: Path | None) -> int:
    """Write every article matching ``flt`` in format ``fmt``; returns how many were written."""
    try:
        writer = WRITERS[fmt]
    except KeyError:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})") from None
    records = (record(row) for row in iter_articles(session, flt, batch=BATCH))
    return writer(records, output)
