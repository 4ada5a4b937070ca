"""Cleaning text dumps (``date YYYY-MM-DD <text>``) whose site chrome survived.

Archives of this form come from copy-paste or text-mode scrapers: the body is
there, but so are breadcrumbs, the repeated title, a byline with a timestamp
and trailing link lists.  The rules below are general (they name no site):

* head: a leading run of breadcrumb lines (``- Home``, ``- Pakistan``, ...)
  is dropped; its last item, when long, is taken as the title.  A line that
  repeats the title (case and punctuation aside) is dropped.  A byline line
  (``<name> Published <date>``, ``By <name> | <date>``) near the top is parsed
  into authors and a date, then dropped.
* tail: from a link-list heading ("Recent Stories", "More Stories From X",
  "Related", "Read more", "Most popular", "Trending" ...) on, when what
  follows is made of headline-like lines, everything is dropped; so is a
  trailing run of headline-like lines (short, no closing punctuation, or
  ending in a relative time such as "2 minutes ago") or bare ``-`` markers.
* everything else is kept verbatim (the output is the input's lines, in
  order, minus the dropped ones); a dump without chrome comes back unchanged
  apart from the prefix and surrounding whitespace.

Byline times carry no zone.  Rule: a naive time is read in the zone of the
outlet's country when a site rule gives one (``timezone`` in the rule);
without one it is taken as UTC.  ``clean_dump`` takes an optional
``default_tz`` for that.  The result is always stored in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from scrapers.dates import find_date
from scrapers.errors import DumpFormatError
from scrapers.model import CleanedDump
from scrapers.patterns import RELATIVE_TIME, is_chrome_heading

_PREFIX = re.compile(r"\A\s*date\s+(\d{4})-(\d{2})-(\d{2})(?:\s+|\Z)")
_BREADCRUMB = re.compile(r"^\s*[-–—•›»>]\s*(\S.*)$")
_BARE_MARKER = re.compile(r"^\s*[-–—•›»>|]\s*$")
_BYLINE = re.compile(
    r"^(?:by\s+)?(?P<author>[^\W\d][\w.'’ -]{1,80}?)\s*(?:[|,–—-]\s*)?"
    r"\b(?:published|posted|updated|last updated)\b\s*:?\s*(?:on\s+)?(?P<date>.+)$",
    re.IGNORECASE,
)
_BY_DATE = re.compile(
    r"^by\s+(?P<author>[^\W\d][\w.'’ -]{1,80}?)\s*[|,–—-]\s*(?P<date>.*\d{4}.*)$", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?…\"”’)\]:;]$")
_WORD = re.compile(r"\w+")
HEAD_LINES = 8
HEADLINE_MAX_CHARS = 160
MIN_TRAILING_RUN = 3


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _headline_like(line: str) -> bool:
    """A line that reads like a link in a list rather than prose."""
    s = line.strip()
    if not s or _BARE_MARKER.match(s):
        return True
    if RELATIVE_TIME.search(s):
        return True
    if s.endswith(("..", "…")) and len(s) <= HEADLINE_MAX_CHARS:
        return True
    return len(s) <= HEADLINE_MAX_CHARS and not _SENTENCE_END.search(s)


def _parse_byline(line: str, tz: tzinfo) -> tuple[str, datetime | None] | None:
    s = line.strip()
    if len(s) > 160:
        return None
    match = _BYLINE.match(s) or _BY_DATE.match(s)
    if not match:
        return None
    when = find_date(match.group("date"), tz)
    author = match.group("author").strip(" ,|-–—")
    if when is None or not author or len(author.split()) > 6:
        return None
    return author, when


def _split_prefix(raw: str) -> tuple[datetime, str]:
    match = _PREFIX.match(raw)
    if not match:
        raise DumpFormatError("dump does not start with 'date YYYY-MM-DD'")
    year, month, day = (int(g) for g in match.groups())
    try:
        dump_date = datetime(year, month, day, tzinfo=UTC)
    except ValueError as exc:
        raise DumpFormatError(f"invalid dump date: {exc}") from exc
    return dump_date, raw[match.end() :]


def clean_dump(raw: str, default_tz: tzinfo = UTC) -> CleanedDump:
    """Remove site chrome from a ``date YYYY-MM-DD <text>`` dump.

    Raises :class:`DumpFormatError` when the prefix is missing.
    """
    dump_date, rest = _split_prefix(raw)
    lines = rest.strip().split("\n")
    removed: list[str] = []
    title: str | None = None
    author: str | None = None
    published: datetime | None = None

    # Rules repeat until nothing changes, so cleaning is idempotent.
    changed = True
    while changed and lines:
        changed = False
        start, title, author, published = _clean_head(
            lines, removed, title, author, published, default_tz
        )
        if start:
            lines = lines[start:]
            changed = True
        end = _clean_tail(lines)
        if end < len(lines):
            removed.extend(lines[end:])
            lines = lines[:end]
            changed = True
    text = "\n".join(lines).strip()
    return CleanedDump(
        text=text,
        title=title,
        authors=(author,) if author else (),
        published_at=published,
        dump_date=dump_date,
        removed=tuple(line for line in removed if line.strip()),
    )


def _clean_head(
    lines: list[str],
    removed: list[str],
    title: str | None,
    author: str | None,
    published: datetime | None,
    tz: tzinfo,
) -> tuple[int, str | None, str | None, datetime | None]:
    """Number of leading chrome lines, and what they told."""
    i = 0
    # Breadcrumb run: at least two "- X" lines at the very top.
    crumbs = 0
    while crumbs < len(lines) and _BREADCRUMB.match(lines[crumbs]):
        crumbs += 1
    if crumbs >= 2:
        last = _BREADCRUMB.match(lines[crumbs - 1])
        if last and len(last.group(1).split()) >= 4 and title is None:
            title = last.group(1).strip()
        removed.extend(lines[:crumbs])
        i = crumbs
    title_key = _key(title) if title else None
    limit = min(len(lines), i + HEAD_LINES)
    while i < limit:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if title_key and _key(line) == title_key:
            removed.append(line)
            i += 1
            continue
        byline = _parse_byline(line, tz)
        if byline is not None:
            if author is None:
                author, published = byline
            removed.append(line)
            i += 1
            continue
        break
    return i, title, author, published


def _clean_tail(lines: list[str]) -> int:
    """Index where trailing chrome starts (len(lines) when there is none)."""
    n = len(lines)
    # A link-list heading followed only by headline-like lines / more headings.
    for idx in range(n):
        line = lines[idx].strip()
        if (
            idx > 0
            and line
            and len(line) <= 80
            and is_chrome_heading(line)
            and all(_headline_like(x) or is_chrome_heading(x.strip()) for x in lines[idx + 1 :])
        ):
            return idx
    # A trailing run of headline-like lines.
    end = n
    while end > 0 and _headline_like(lines[end - 1]):
        end -= 1
    run = [x for x in lines[end:] if x.strip()]
    if len(run) >= MIN_TRAILING_RUN and end > 0:
        return end
    return _strip_blank_tail(lines)


def _strip_blank_tail(lines: list[str]) -> int:
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return end
