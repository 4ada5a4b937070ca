"""Reading the dates pages print into timezone-aware UTC datetimes.

Handles ISO 8601 (what JSON-LD and ``article:published_time`` carry),
RFC 2822 (feeds, some meta tags), and English textual forms used in bylines
("September 10, 2025 | 04:40 PM", "10 Sep 2025 14:05 GMT").  A date without
an offset is read in ``default_tz`` (UTC unless a site rule says otherwise).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = r"(?:[\s,|@-]*(?:at\s+)?(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[ap]\.?\s?m\.?)?)?"
_ZONE = r"(?:\s*\(?(?P<tz>[A-Z]{2,5}|[+-]\d{2}:?\d{2})\)?)?"
_MDY = re.compile(
    rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}}){_TIME}{_ZONE}",
    re.IGNORECASE,
)
_DMY = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}}){_TIME}{_ZONE}",
    re.IGNORECASE,
)
_ISO_IN_TEXT = re.compile(
    r"\b(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)\b"
)
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "BST": 60, "CET": 60, "CEST": 120, "EET": 120,
    "EEST": 180, "MSK": 180, "IST": 330, "PKT": 300, "EST": -300, "EDT": -240,
    "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "JST": 540, "KST": 540, "AEST": 600, "AEDT": 660, "WIB": 420, "SGT": 480,
}  # fmt: skip
_MIN_YEAR = 1990
_MAX_YEAR = 2100


def parse_offset(value: str) -> tzinfo | None:
    """``"+05:00"``, ``"+0500"`` or a zone abbreviation to a fixed-offset tzinfo."""
    value = value.strip()
    if value.upper() in _ZONES:
        return timezone(timedelta(minutes=_ZONES[value.upper()]))
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", value)
    if not match:
        return None
    sign = -1 if match.group(1) == "-" else 1
    minutes = int(match.group(2)) * 60 + int(match.group(3))
    if minutes > 14 * 60:
        return None
    return timezone(sign * timedelta(minutes=minutes))


def _aware(dt: datetime, default_tz: tzinfo) -> datetime | None:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz)
    if not _MIN_YEAR <= dt.year <= _MAX_YEAR:
        return None
    return dt.astimezone(UTC)


def parse_date(value: object, default_tz: tzinfo = UTC) -> datetime | None:
    """Parse a machine-readable or textual date; None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 200:
        return None
    iso = text.replace(" ", "T", 1) if re.match(r"\d{4}-\d{2}-\d{2} \d", text) else text
    try:
        return _aware(datetime.fromisoformat(iso), default_tz)
    except ValueError:
        pass
    if re.match(r"^\d{10}(?:\d{3})?$", text):  # unix seconds / milliseconds
        stamp = int(text[:10])
        return _aware(datetime.fromtimestamp(stamp, UTC), default_tz)
    if re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d", text):
        try:
            return _aware(parsedate_to_datetime(text), default_tz)
        except (TypeError, ValueError, IndexError):
            pass
    return find_date(text, default_tz)


def find_date(text: str, default_tz: tzinfo = UTC) -> datetime | None:
    """The first date written in free text (a byline, a dateline)."""
    for pattern in (_MDY, _DMY):
        match = pattern.search(text)
        if match:
            return _from_match(match, default_tz)
    match = _ISO_IN_TEXT.search(text)
    if match:
        try:
            iso = match.group(1).replace(" ", "T", 1)
            return _aware(datetime.fromisoformat(iso), default_tz)
        except ValueError:
            return None
    return None


def _from_match(match: re.Match[str], default_tz: tzinfo) -> datetime | None:
    month = _MONTHS[match.group("mon").lower()]
    day, year = int(match.group("d")), int(match.group("y"))
    hour = int(match.group("h") or 0)
    minute = int(match.group("mi") or 0)
    second = int(match.group("s") or 0)
    ampm = (match.group("ampm") or "").lower().replace(".", "").replace(" ", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    tz = default_tz
    if match.group("tz"):
        tz = parse_offset(match.group("tz")) or default_tz
    try:
        return _aware(datetime(year, month, day, hour, minute, second, tzinfo=tz), default_tz)
    except ValueError:
        return None
