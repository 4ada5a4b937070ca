"""Query parameters of the API, validated so a bad value is a 422 and never reaches SQL.

Strings are length-capped and refuse NUL (PostgreSQL rejects it inside SQL
text); datetimes without a timezone are taken as UTC and must stay
representable after conversion to UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator, StringConstraints

from db.queries import ArticleFilter

MAX_ID = 2**31 - 1


def _blank_is_none(value: object) -> object:
    """An empty form field (``?source=``) means "no filter", as in the web page's search form."""
    return None if isinstance(value, str) and not value.strip() else value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("date is out of range once converted to UTC") from None


SafeStr = Annotated[str, AfterValidator(_no_nul)]
# Length limits sit on the string type (not on Query) so a blank field turned into None passes.
Name200 = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
Code16 = Annotated[str, StringConstraints(max_length=16), AfterValidator(_no_nul)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Blank = BeforeValidator(_blank_is_none)

QueryText = Annotated[
    SafeStr | None,
    Query(max_length=500, description='Full-text search: words, "a phrase", -exclude, a OR b.'),
]
SourceName = Annotated[Name200 | None, Blank, Query(description="Source name.")]
Language = Annotated[Code16 | None, Blank, Query(description="Language code, e.g. en.")]
Author = Annotated[
    Name200 | None, Blank, Query(description="Part of an author's name (case-insensitive).")
]
Since = Annotated[
    UtcDatetime | None, Blank, Query(description="Published on or after (ISO 8601; UTC if no zone).")
]
Until = Annotated[UtcDatetime | None, Blank, Query(description="Published before (ISO 8601; UTC if no zone).")]
HasDuplicates = Annotated[
    bool | None, Blank, Query(description="Only articles with (true) or without (false) near-duplicates.")
]
After = Annotated[
    SafeStr | None,
    Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="Cursor from the previous page's next_cursor."),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]


async def article_filter(
    source: SourceName = None,
    language: Language = None,
    author: Author = None,
    since: Since = None,
    until: Until = None,
    has_duplicates: HasDuplicates = None,
) -> ArticleFilter:
    """The filters shared by ``GET /articles``, the web page and (by name) the CLI and exports.

    ``async`` only so FastAPI runs it on the event loop (it does no I/O) rather than
    paying a thread-pool hop per request.
    """
    return ArticleFilter(source, language, author, since, until, has_duplicates)
