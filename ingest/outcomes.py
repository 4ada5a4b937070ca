"""The fixed taxonomy of how a fetch can end; every attempt records one.

``discovered`` and ``not_modified`` are the happy ends of feed/sitemap/listing
reads; ``deferred`` means no request was made because the host asked us (via
``Retry-After``) to wait longer than one fetch may wait — the URL stays unstored
and is tried again on a later run.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    STORED = "stored"
    NOT_MODIFIED = "not_modified"
    DUPLICATE_URL = "duplicate_url"
    DUPLICATE_CONTENT = "duplicate_content"
    NOT_ARTICLE = "not_article"
    BLOCKED = "blocked"
    PAYWALLED = "paywalled"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    ROBOTS_DENIED = "robots_denied"
    BAD_CONTENT_TYPE = "bad_content_type"
    PARSE_ERROR = "parse_error"
    REDIRECT_LOOP = "redirect_loop"
    NETWORK_ERROR = "network_error"
    DISCOVERED = "discovered"
    DEFERRED = "deferred"

    @property
    def is_failure(self) -> bool:
        return self in _FAILURES


_FAILURES = frozenset(
    {
        Outcome.BLOCKED,
        Outcome.TOO_LARGE,
        Outcome.TIMEOUT,
        Outcome.HTTP_ERROR,
        Outcome.BAD_CONTENT_TYPE,
        Outcome.PARSE_ERROR,
        Outcome.REDIRECT_LOOP,
        Outcome.NETWORK_ERROR,
        Outcome.ROBOTS_DENIED,
        Outcome.DEFERRED,
    }
)
