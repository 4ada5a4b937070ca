"""Opaque keyset cursors: where the next page starts, as a URL-safe string.

A cursor holds the sort key of the last row shown (never an OFFSET), so page
N costs what page 1 costs.  Clients treat it as opaque; anything that does
not decode to a well-formed cursor of the expected kind is an
:class:`InvalidCursor` (a 422 in the API, one error line in the CLI).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from db.errors import DatabaseError

MAX_ID = 2**63 - 1


class InvalidCursor(DatabaseError):
    """A ``--after`` / ``after`` value that is not a cursor this service issued."""


@dataclass(frozen=True, slots=True)
class ListCursor:
    """After the row with this published date (``None`` once past the dated rows) and id."""

    published_at: datetime | None
    id: int


@dataclass(frozen=True, slots=True)
class SearchCursor:
    """After the row with this raw rank (as the database computed it) and id."""

    rank: float
    id: int


def _pack(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(token: str, kind: str) -> dict[str, Any]:
    if not token or len(token) > 200:
        raise InvalidCursor("cursor is empty or too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor(f"{token!r} is not a valid cursor") from None
    if not isinstance(data, dict) or data.get("k") != kind:
        raise InvalidCursor(f"{token!r} is not a cursor for this kind of listing")
    ident = data.get("i")
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 <= ident <= MAX_ID:
        raise InvalidCursor(f"{token!r} is not a valid cursor")
    return data


def encode_list(cursor: ListCursor) -> str:
    published = None if cursor.published_at is None else cursor.published_at.isoformat()
    return _pack({"k": "list", "p": published, "i": cursor.id})


def decode_list(token: str) -> ListCursor:
    data = _unpack(token, "list")
    published = data.get("p")
    if published is None:
        return ListCursor(None, data["i"])
    try:
        when = datetime.fromisoformat(published) if isinstance(published, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidCursor(f"{token!r} is not a valid cursor")
    return ListCursor(when.astimezone(UTC), data["i"])


def encode_search(cursor: SearchCursor) -> str:
    return _pack({"k": "search", "r": cursor.rank, "i": cursor.id})


def decode_search(token: str) -> SearchCursor:
    data = _unpack(token, "search")
    rank = data.get("r")
    if not isinstance(rank, int | float) or isinstance(rank, bool) or not math.isfinite(rank):
        raise InvalidCursor(f"{token!r} is not a valid cursor")
    return SearchCursor(float(rank), data["i"])
