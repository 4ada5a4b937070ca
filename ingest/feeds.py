"""Feeds: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.0/1.1 by hand.

feedparser 6.0 does not read JSON Feed, so a body that starts with ``{`` is
parsed here.  Entry dates become candidate published dates.
"""

from __future__ import annotations

import calendar
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import feedparser

from ingest.candidates import Discovered
from ingest.charset import document_text
from ingest.urls import try_canonicalize

_HTTP = re.compile(r"^https?://", re.I)


class FeedError(ValueError):
    """The document is not a readable feed."""


def _struct_to_dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_iso_date(value: object) -> datetime | None:
    """An ISO 8601 / W3C datetime as aware UTC, ``None`` when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def is_json_feed(content: bytes) -> bool:
    head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def parse_feed(content: bytes, feed_url: str, content_type: str | None = None) -> list[Discovered]:
    """Entries of a feed, in the feed's order.  Raises :class:`FeedError` if it is not one."""
    if is_json_feed(content):
        return parse_json_feed(content, feed_url, content_type)
    headers = {"content-type": content_type} if content_type else None
    # A file object, never bytes: feedparser opens a bytes argument as a *file name* first.
    parsed = feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no feed entries"
        raise FeedError(f"not a readable feed: {reason}")
    out: list[Discovered] = []
    for entry in entries:
        link = entry.get("link") or ""
        if not _HTTP.match(link):
            candidate = entry.get("id") or ""
            link = candidate if _HTTP.match(candidate) else ""
        url = try_canonicalize(link) if link else None
        if url is None:
            continue
        published = _struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed"))
        out.append(Discovered(url, feed_url, published, entry.get("title") or None))
    if not out and parsed.get("bozo"):  # broken and nothing salvageable
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception')}")
    return out


def parse_json_feed(
    content: bytes, feed_url: str, content_type: str | None = None
) -> list[Discovered]:
    """JSON Feed (https://jsonfeed.org/version/1.1) items."""
    try:
        data = json.loads(document_text(content, content_type))
    except ValueError as exc:
        raise FeedError(f"not a readable JSON feed: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON Feed without an 'items' list")
    out: list[Discovered] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url") or item.get("id")
        url = try_canonicalize(link) if isinstance(link, str) and _HTTP.match(link) else None
        if url is None:
            continue
        published = parse_iso_date(item.get("date_published")) or parse_iso_date(
            item.get("date_modified")
        )
        title = item.get("title")
        out.append(Discovered(url, feed_url, published, title if isinstance(title, str) else None))
    return out
