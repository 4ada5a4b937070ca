"""HTTP fetching on httpx's async client, with the crawler's safety rails.

One :class:`Fetcher` per process.  It owns the httpx client, the per-host
:class:`~ingest.politeness.HostBudget` and the robots.txt cache, so the daemon
and manual fetches share one politeness budget.  Every failure is a typed
:class:`~ingest.errors.FetchError` whose ``outcome`` is what gets recorded.

Connections are pooled per origin (one small httpx client each): httpcore's
pool scans every connection on every request, so one big pool shared by many
hosts costs O(connections) per request and dominated crawl CPU.

Order of waiting matters for throughput: a request first takes a slot of its
host, then one of the global slots, so requests queued behind one slow or
rate-limited host never hold global slots that other hosts could use.  The
total timeout covers the request itself, not the time spent queued.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import socket
import ssl
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anyio.abc
import httpcore
import httpx
from httpcore._backends.anyio import AnyIOBackend, AnyIOStream
from httpcore._backends.base import SOCKET_OPTION, AsyncNetworkStream
from httpcore._utils import is_socket_readable
from protego import Protego

from ingest.config import FetchConfig
from ingest.content_encoding import BadEncoding, BodyTooLarge, accept_encoding, decoder_for
from ingest.errors import (
    BadContentType,
    Blocked,
    FetchError,
    FetchTimeout,
    HttpStatusError,
    NetworkError,
    RobotsDenied,
    TooLarge,
    TooManyRedirects,
)
from ingest.outcomes import Outcome
from ingest.politeness import HostBackingOff, HostBudget
from ingest.urls import host_of

_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_BLOCKED_STATUS = frozenset({403, 451})
_ERROR_BODY_CAP = 64 * 1024
_ROBOTS_CAP = 512 * 1024
_CHALLENGE_MARKERS = (
    b"cf-chl-",
    b"challenge-platform",
    b"<title>Just a moment...</title>",
    b"Attention Required! | Cloudflare",
    b"captcha-delivery.com",
    b"_Incapsula_Resource",
    b"px-captcha",
)
_MAX_IDLE_CLIENTS = 256
_ROBOTS_TTL = 3600.0
_ROBOTS_ERROR_TTL = 600.0
_NOT_TRANSIENT_HINTS = ("Name or service not known", "nodename nor servname", "No address")

_ARTICLE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
_DOCUMENT_HINTS = ("xml", "rss", "atom", "json", "text/html", "text/plain")
_GZIP_TYPES = frozenset(
    {"application/gzip", "application/x-gzip", "application/octet-stream", "binary/octet-stream"}
)


class Deferred(FetchError):
    """Not requested: the host's ``Retry-After`` runs longer than one fetch may wait."""

    outcome = Outcome.DEFERRED


class UndecodableBody(FetchError):
    """The body is corrupt for its ``Content-Encoding`` (or uses one we did not offer)."""

    outcome = Outcome.PARSE_ERROR


class TransientNetworkError(NetworkError):
    """A reset, refused or half-closed connection: worth retrying."""


@dataclass(frozen=True, slots=True)
class Validators:
    """Conditional-GET validators of an earlier response."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class FetchedPage:
    url: str
    final_url: str
    status_code: int
    content: bytes
    content_type: str | None
    elapsed_ms: float
    headers: dict[str, str] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))

    @property
    def media_type(self) -> str:
        """``text/html`` of ``text/html; charset=utf-8`` (lower case, '' when absent)."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()


def retry_after_seconds(value: str | None, default: float) -> float:
    """Seconds from a ``Retry-After`` header (delta or HTTP date)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def looks_like_challenge(status: int, body: bytes) -> bool:
    """A bot-challenge interstitial (Cloudflare, DataDome, Incapsula, PerimeterX, 202 JS page)."""
    head = body[:20000]
    return any(marker in head for marker in _CHALLENGE_MARKERS) or (
        status == 202 and len(body) < 5000 and b"<script" in head
    )


def usable_type(media_type: str, kind: str) -> bool:
    """Whether a response's media type can be what ``kind`` expects ('' is given the benefit)."""
    if not media_type:
        return True
    if kind == "article":
        return media_type in _ARTICLE_TYPES
    if kind == "sitemap" and media_type in _GZIP_TYPES:
        return True
    return any(hint in media_type for hint in _DOCUMENT_HINTS)


class Fetcher:
    """Polite, bounded HTTP GETs.  Use as ``async with Fetcher(config) as f``."""

    def __init__(
        self,
        config: FetchConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: HostBudget | None = None,
        backoff_base: float = 0.5,
    ) -> None:
        self.config = config
        self.backoff_base = backoff_base
        self.budget = budget or HostBudget(config.per_host_concurrency, config.per_host_delay)
        self.stats: Counter[str] = Counter()
        self._global = asyncio.Semaphore(config.concurrency)
        self._transport = transport
        self._ssl: ssl.SSLContext | None = None
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()
        self._in_use: Counter[str] = Counter()
        self._open = False
        self._robots: dict[str, tuple[float, Protego | None]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        _skip_missing_sniffio()
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aclose()

    def _client_for(self, url: str) -> tuple[str, httpx.AsyncClient]:
        """The pooled client of ``url``'s origin (one shared client under a test transport)."""
        if not self._open:
            raise RuntimeError("Fetcher used outside 'async with'")
        key = "*" if self._transport is not None else _origin(url)
        client = self._clients.get(key)
        if client is None:
            client = self._new_client()
            self._clients[key] = client
            self._evict_idle()
        else:
            self._clients.move_to_end(key)
        return key, client

    def _new_client(self) -> httpx.AsyncClient:
        cfg = self.config
        per_host = cfg.per_host_concurrency + 1  # +1: robots.txt may overlap a page
        if self._transport is None and self._ssl is None:
            self._ssl = ssl.create_default_context()  # shared: building one costs ~10 ms
        transport = self._transport
        if transport is None:
            transport = httpx.AsyncHTTPTransport(
                verify=self._ssl if self._ssl is not None else True,
                http2=cfg.http2 and _h2_available(),
                limits=httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host),
            )
            _use_fast_backend(transport)
        return httpx.AsyncClient(
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": accept_encoding()},
            timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
            limits=httpx.Limits(
                max_connections=cfg.concurrency * 2, max_keepalive_connections=cfg.concurrency
            ),
            follow_redirects=False,
            transport=transport,
        )

    def _evict_idle(self) -> None:
        """Close the least recently used idle pools beyond the cap (the daemon meets many hosts)."""
        excess = len(self._clients) - _MAX_IDLE_CLIENTS
        for key in list(self._clients):
            if excess <= 0:
                break
            if self._in_use[key] == 0:
                client = self._clients.pop(key)
                excess -= 1
                asyncio.get_running_loop().create_task(client.aclose())

    @property
    def patience(self) -> float:
        """The longest a fetch waits for a host's back-off before giving up (``deferred``)."""
        return self.config.total_timeout

    async def fetch(
        self,
        url: str,
        *,
        kind: str = "article",
        validators: Validators | None = None,
        check_robots: bool = True,
    ) -> FetchedPage:
        """GET ``url`` with retries for transient errors; raise a :class:`FetchError` otherwise."""
        check_robots = check_robots and self.config.obey_robots
        if check_robots and not await self.allowed(url):
            raise RobotsDenied("disallowed by robots.txt", url=url)
        attempt = 0
        while True:
            try:
                page = await self._fetch_once(url, validators, check_robots=check_robots)
            except (TransientNetworkError, FetchTimeout):
                if attempt >= self.config.retries:
                    raise
                await self._sleep_backoff(attempt)
                attempt += 1
                continue
            except HttpStatusError as exc:
                if exc.status_code not in _TRANSIENT_STATUS or attempt >= self.config.retries:
                    raise
                wait = self.budget.blocked_for(host_of(url))
                if wait > self.patience:
                    raise
                await self._sleep_backoff(attempt, at_least=wait)
                attempt += 1
                continue
            if not page.not_modified and not usable_type(page.media_type, kind):
                raise BadContentType(
                    f"content type {page.content_type!r} is not usable for {kind}",
                    url=page.url,
                    status_code=page.status_code,
                )
            return page

    async def _sleep_backoff(self, attempt: int, at_least: float = 0.0) -> None:
        """Exponential backoff with full jitter (0.5x-1.5x), never shorter than ``at_least``."""
        delay = min(30.0, self.backoff_base * 2**attempt) * (0.5 + random.random())
        await asyncio.sleep(max(delay, at_least))

    async def _fetch_once(
        self,
        url: str,
        validators: Validators | None,
        *,
        check_robots: bool = False,
        body_cap: int | None = None,
    ) -> FetchedPage:
        started = time.perf_counter()
        headers: dict[str, str] = {}
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        seen = [url]
        current = url
        while True:
            status, resp_headers, body = await self._get(current, headers, body_cap)
            target = _redirect_target(current, status, resp_headers)
            if target is not None:
                if target in seen:
                    raise TooManyRedirects(f"redirect loop back to {target}", url=url)
                if len(seen) > self.config.max_redirects:
                    raise TooManyRedirects(
                        f"more than {self.config.max_redirects} redirects", url=url
                    )
                cross_host = host_of(target) != host_of(current)
                if check_robots and cross_host and not await self.allowed(target):
                    raise RobotsDenied(f"redirect to {target} disallowed by robots.txt", url=url)
                seen.append(target)
                current = target
                continue
            page = FetchedPage(
                url=url,
                final_url=current,
                status_code=status,
                content=body,
                content_type=resp_headers.get("content-type"),
                elapsed_ms=(time.perf_counter() - started) * 1000,
                headers=resp_headers,
                redirects=seen[1:],
            )
            self._raise_for_status(page)
            return page

    def _raise_for_status(self, page: FetchedPage) -> None:
        status = page.status_code
        challenge = looks_like_challenge(status, page.content)
        if status == 304 or (200 <= status < 300 and not challenge):
            return
        if status in _BLOCKED_STATUS or challenge:
            raise Blocked(f"blocked (HTTP {status})", url=page.url, status_code=status)
        if status in (429, 503):
            wait = retry_after_seconds(page.headers.get("retry-after"), 60.0 if status == 429 else 0)
            if wait > 0:
                self.budget.back_off(host_of(page.final_url), wait)
        raise HttpStatusError(f"HTTP {status}", url=page.url, status_code=status)

    async def _get(
        self, url: str, headers: dict[str, str], body_cap: int | None
    ) -> tuple[int, dict[str, str], bytes]:
        host = host_of(url)
        try:
            async with self.budget.slot(host, max_wait=self.patience), self._global:
                async with asyncio.timeout(self.config.total_timeout):
                    return await self._request(url, headers, body_cap)
        except HostBackingOff as exc:
            raise Deferred(str(exc), url=url) from None
        except TimeoutError:
            raise FetchTimeout(
                f"no complete answer within {self.config.total_timeout:g}s", url=url
            ) from None
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"timed out: {type(exc).__name__}", url=url) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            raise NetworkError(f"{type(exc).__name__}: {exc}", url=url) from None
        except httpx.TransportError as exc:
            message = f"{type(exc).__name__}: {exc}".rstrip(": ")
            if any(hint in message for hint in _NOT_TRANSIENT_HINTS):
                raise NetworkError(message, url=url) from None
            raise TransientNetworkError(message, url=url) from None

    async def _request(
        self, url: str, headers: dict[str, str], body_cap: int | None
    ) -> tuple[int, dict[str, str], bytes]:
        cap = body_cap or self.config.max_body_bytes
        self.stats["requests"] += 1
        if headers:
            self.stats["conditional_requests"] += 1
        key, client = self._client_for(url)
        self._in_use[key] += 1
        try:
            return await self._exchange(client, url, headers, cap)
        finally:
            self._in_use[key] -= 1

    async def _exchange(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], cap: int
    ) -> tuple[int, dict[str, str], bytes]:
        async with client.stream("GET", url, headers=headers) as resp:
            status = resp.status_code
            self.stats[f"status_{status}"] += 1
            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
            if status == 304 or (status in _REDIRECT_STATUS and "location" in resp_headers):
                return status, resp_headers, b""
            truncate = not 200 <= status < 300
            if truncate:
                cap = min(cap, _ERROR_BODY_CAP)
            declared = resp_headers.get("content-length", "")
            encoded = resp_headers.get("content-encoding", "identity").strip().lower()
            if not truncate and declared.isdigit() and int(declared) > cap and encoded == "identity":
                raise TooLarge(
                    f"declared size {int(declared)} bytes exceeds cap {cap}",
                    url=url,
                    status_code=status,
                )
            body = await _read_body(resp, cap, truncate=truncate, url=url)
            self.stats["bytes"] += len(body)
            return status, resp_headers, body

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets our User-Agent fetch ``url`` (fetched once per host per hour)."""
        rules = await self.robots(url)
        if rules is None:
            return True
        return bool(rules.can_fetch(url, self.config.user_agent))

    async def robots(self, url: str) -> Protego | None:
        """The parsed robots.txt of ``url``'s origin (``None``: everything allowed)."""
        origin = _origin(url)
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is None or time.monotonic() > cached[0]:
                rules, ttl = await self._load_robots(origin)
                cached = (time.monotonic() + ttl, rules)
                self._robots[origin] = cached
        return cached[1]

    async def sitemaps_in_robots(self, url: str) -> list[str]:
        """``Sitemap:`` lines of the robots.txt of ``url``'s origin."""
        rules = await self.robots(url)
        return [] if rules is None else [str(u) for u in rules.sitemaps]

    async def _load_robots(self, origin: str) -> tuple[Protego | None, float]:
        """RFC 9309: 4xx means no rules; 5xx means stay away (for a short while)."""
        try:
            page = await self._fetch_once(f"{origin}/robots.txt", None, body_cap=_ROBOTS_CAP)
        except Deferred:
            raise
        except (HttpStatusError, Blocked) as exc:
            if exc.status_code is not None and 400 <= exc.status_code < 500 and exc.status_code != 429:
                return None, _ROBOTS_TTL
            return Protego.parse("User-agent: *\nDisallow: /"), _ROBOTS_ERROR_TTL
        except TooLarge:
            return None, _ROBOTS_TTL
        except FetchError:
            return None, _ROBOTS_ERROR_TTL
        try:
            rules = Protego.parse(page.content.decode("utf-8", errors="replace"))
        except Exception:  # protego on garbage: treat as no rules
            return None, _ROBOTS_TTL
        delay = rules.crawl_delay(self.config.user_agent)
        if delay:
            self.budget.set_crawl_delay(host_of(origin), float(delay))
        return rules, _ROBOTS_TTL


async def _read_body(resp: httpx.Response, cap: int, *, truncate: bool, url: str) -> bytes:
    """Stream and decode the body, aborting the download as soon as it passes ``cap``.

    ``truncate`` (error pages) keeps the first ``cap`` bytes instead of failing.
    """
    try:
        decoder = decoder_for(resp.headers.get("content-encoding"), cap)
    except BadEncoding as exc:
        if truncate:
            return b""
        raise UndecodableBody(str(exc), url=url, status_code=resp.status_code) from None
    chunks: list[bytes] = []
    try:
        if resp.is_stream_consumed:  # built in memory (e.g. a MockTransport reply)
            chunks.append(decoder.feed(resp.content))
        else:
            async for raw in resp.aiter_raw():
                chunks.append(decoder.feed(raw))
        chunks.append(decoder.flush())
    except BodyTooLarge:
        if truncate:
            return b"".join(chunks)
        raise TooLarge(
            f"body exceeds cap of {cap} bytes", url=url, status_code=resp.status_code
        ) from None
    except BadEncoding as exc:
        if truncate:
            return b"".join(chunks)
        raise UndecodableBody(
            f"corrupt {resp.headers.get('content-encoding')} body: {exc}",
            url=url,
            status_code=resp.status_code,
        ) from None
    return b"".join(chunks)


def _redirect_target(current: str, status: int, headers: dict[str, str]) -> str | None:
    if status not in _REDIRECT_STATUS or "location" not in headers:
        return None
    return str(httpx.URL(current).join(headers["location"].strip()))


_ORIGINS: dict[str, str] = {}


def _origin(url: str) -> str:
    """``scheme://host[:port]`` as httpx normalizes it, memoized on the URL's raw prefix."""
    slash = url.find("/", url.find("//") + 2)
    prefix = url if slash < 0 else url[:slash]
    origin = _ORIGINS.get(prefix)
    if origin is None:
        parts = httpx.URL(url)
        origin = f"{parts.scheme}://{parts.netloc.decode()}"
        if len(_ORIGINS) >= 10_000:  # a daemon meets many hosts: stay bounded
            _ORIGINS.clear()
        if "?" not in prefix and "#" not in prefix:
            _ORIGINS[prefix] = origin
    return origin


class _FastStream(AnyIOStream):
    """httpcore's anyio stream, answering ``is_readable`` from a cached socket.

    httpcore asks every pooled connection ``is_readable`` before each request;
    through anyio's typed attributes that builds a dict of lambdas and calls
    ``getpeername()`` each time, which was a tenth of the crawler's CPU.
    """

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        super().__init__(stream)
        self._sock: socket.socket | None = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)

    def get_extra_info(self, info: str) -> object:
        if info == "is_readable" and self._sock is not None:
            return is_socket_readable(self._sock)
        if info == "socket" and self._sock is not None:
            return self._sock
        return super().get_extra_info(info)

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> AsyncNetworkStream:
        wrapped = await super().start_tls(ssl_context, server_hostname, timeout)
        return _FastStream(wrapped._stream) if isinstance(wrapped, AnyIOStream) else wrapped


class _FastBackend(AnyIOBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        stream = await super().connect_tcp(host, port, timeout, local_address, socket_options)
        return _FastStream(stream._stream) if isinstance(stream, AnyIOStream) else stream


def _use_fast_backend(transport: httpx.AsyncHTTPTransport) -> None:
    """Give a plain (non-proxy) transport's pool the :class:`_FastBackend` (asyncio only)."""
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and type(pool) is httpcore.AsyncConnectionPool:
        pool._network_backend = _FastBackend()


def _skip_missing_sniffio() -> None:
    """Make httpcore's per-request ``import sniffio`` cheap when sniffio is not installed.

    httpcore imports it inside every request; a missing module is searched for
    on all of ``sys.path`` each time (~0.5 ms, a tenth of a page's budget).
    A ``None`` entry in ``sys.modules`` makes that import fail at once, which is
    exactly what it would do anyway.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def _h2_available() -> bool:
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True
