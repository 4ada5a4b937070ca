"""Exceptions of the ``ingest`` package::

    IngestError
    ├── ConfigError            the config file or an override is invalid (names the key)
    ├── FetchError             a request did not give a usable page; ``outcome`` says how
    │   ├── TooLarge           the body passed the size cap (download aborted)
    │   ├── FetchTimeout       connect/read/total time ran out
    │   ├── TooManyRedirects   redirect cap reached or a loop detected
    │   ├── HttpStatusError    a 4xx/5xx answer (``status_code``)
    │   ├── Blocked            403 or a bot-challenge page
    │   ├── RobotsDenied       robots.txt forbids the URL
    │   ├── BadContentType     not HTML / not a feed where one was expected
    │   └── NetworkError       connection refused, reset, DNS failure
    ├── DiscoveryError         a feed or listing page could not be read
    ├── DaemonError            the daemon cannot start (e.g. another one holds the SQLite file)
    └── ImportFileError        a dump file to import cannot be read
"""

from __future__ import annotations

from ingest.outcomes import Outcome


class IngestError(Exception):
    """Base class of every error raised by ``ingest``."""


class ConfigError(IngestError):
    """Invalid configuration; the message names the key and the problem."""


class FetchError(IngestError):
    """A fetch failed; :attr:`outcome` is what gets recorded for it."""

    outcome: Outcome = Outcome.NETWORK_ERROR

    def __init__(self, message: str, *, url: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code


class TooLarge(FetchError):
    outcome = Outcome.TOO_LARGE


class FetchTimeout(FetchError):
    outcome = Outcome.TIMEOUT


class TooManyRedirects(FetchError):
    outcome = Outcome.REDIRECT_LOOP


class HttpStatusError(FetchError):
    outcome = Outcome.HTTP_ERROR


class Blocked(FetchError):
    outcome = Outcome.BLOCKED


class RobotsDenied(FetchError):
    outcome = Outcome.ROBOTS_DENIED


class BadContentType(FetchError):
    outcome = Outcome.BAD_CONTENT_TYPE


class NetworkError(FetchError):
    outcome = Outcome.NETWORK_ERROR


class DiscoveryError(IngestError):
    """A feed or listing page could not be turned into article links."""


class DaemonError(IngestError):
    """The daemon cannot start or keep running."""


class ImportFileError(IngestError):
    """A file given to ``ingest import`` cannot be read."""
