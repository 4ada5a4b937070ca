"""HTTP fetching on httpx's async client, with the crawler's safety rails.

One :class:`Fetcher` per process.  It owns the httpx client, the per-host
:class:`~ingest.politeness.HostBudget` and the robots.txt cache, so the daemon
and manual fetches share one politeness budget.  Every failure is a typed
:class:`~ingest.errors.FetchError` whose ``outcome`` is what gets recorded.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from protego import Protego

from ingest.config import FetchConfig
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
from ingest.politeness import HostBudget
from ingest.urls import host_of

_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_CHALLENGE_MARKERS = (
    b"cf-chl-",
    b"challenge-platform",
    b"<title>Just a moment...</title>",
    b"Attention Required! | Cloudflare",
    b"captcha-delivery.com",
    b"_Incapsula_Resource",
    b"px-captcha",
)
_ROBOTS_TTL = 3600.0


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


def retry_after_seconds(value: str | None, default: float) -> float:
    """Seconds from a ``Retry-After`` header (delta or HTTP date)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def looks_like_challenge(status: int, body: bytes) -> bool:
    head = body[:20000]
    return any(marker in head for marker in _CHALLENGE_MARKERS) or (
        status == 202 and len(body) < 5000 and b"<script" in head
    )


_HTML_TYPES = re.compile(r"^(text/html|application/xhtml\+xml|text/plain)$")
_FEED_TYPES = re.compile(r"(xml|rss|atom|json|text/html|text/plain)")


class Fetcher:
    """Polite, bounded HTTP GETs.  Use as ``async with Fetcher(config) as f``."""

    def __init__(
        self,
        config: FetchConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: HostBudget | None = None,
    ) -> None:
        self.config = config
        self.budget = budget or HostBudget(config.per_host_concurrency, config.per_host_delay)
        self._global = asyncio.Semaphore(config.concurrency)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._robots: dict[str, tuple[float, Protego | None]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        cfg = self.config
        timeout = httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout)
        limits = httpx.Limits(max_connections=cfg.concurrency * 2, max_keepalive_connections=cfg.concurrency)
        http2 = cfg.http2 and self._transport is None and _h2_available()
        self._client = httpx.AsyncClient(
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": _accept_encoding()},
            timeout=timeout,
            limits=limits,
            http2=http2,
            follow_redirects=False,
            transport=self._transport,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        return self._client

    async def fetch(
        self,
        url: str,
        *,
        kind: str = "article",
        validators: Validators | None = None,
        check_robots: bool = True,
    ) -> FetchedPage:
        """GET ``url`` with retries for transient errors; raise a :class:`FetchError` otherwise."""
        if check_robots and self.config.obey_robots and not await self.allowed(url):
            raise RobotsDenied("disallowed by robots.txt", url=url)
        attempt = 0
        while True:
            try:
                page = await self._fetch_once(url, validators)
            except (NetworkError, FetchTimeout):
                if attempt >= self.config.retries:
                    raise
                await self._sleep_backoff(attempt)
                attempt += 1
                continue
            except HttpStatusError as exc:
                if exc.status_code not in _TRANSIENT_STATUS or attempt >= self.config.retries:
                    raise
                wait = self.budget.blocked_for(host_of(url))
                if wait > self.config.total_timeout:
                    raise
                await self._sleep_backoff(attempt, at_least=wait)
                attempt += 1
                continue
            self._check_content_type(page, kind)
            return page

    async def _sleep_backoff(self, attempt: int, at_least: float = 0.0) -> None:
        delay = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())
        await asyncio.sleep(max(delay, at_least))

    def _check_content_type(self, page: FetchedPage, kind: str) -> None:
        if page.not_modified or page.content_type is None:
            return
        pattern = _HTML_TYPES if kind == "article" else _FEED_TYPES
        media_type = page.content_type.split(";", 1)[0].strip().lower()
        if not pattern.search(media_type):
            raise BadContentType(
                f"content type {page.content_type!r} is not usable for {kind}",
                url=page.url,
                status_code=page.status_code,
            )

    async def _fetch_once(self, url: str, validators: Validators | None) -> FetchedPage:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.total_timeout), self._global:
                return await self._follow(url, validators, started)
        except TimeoutError:
            raise FetchTimeout(
                f"no complete answer within {self.config.total_timeout:g}s", url=url
            ) from None

    async def _follow(self, url: str, validators: Validators | None, started: float) -> FetchedPage:
        seen = [url]
        current = url
        headers: dict[str, str] = {}
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        while True:
            status, resp_headers, body = await self._get(current, headers)
            if status in _REDIRECT_STATUS and "location" in resp_headers:
                target = str(httpx.URL(current).join(resp_headers["location"]))
                if target in seen:
                    raise TooManyRedirects(f"redirect loop back to {target}", url=url)
                if len(seen) > self.config.max_redirects:
                    raise TooManyRedirects(
                        f"more than {self.config.max_redirects} redirects", url=url
                    )
                seen.append(target)
                current = target
                continue
            elapsed = (time.perf_counter() - started) * 1000
            page = FetchedPage(
                url=url,
                final_url=current,
                status_code=status,
                content=body,
                content_type=resp_headers.get("content-type"),
                elapsed_ms=elapsed,
                headers=resp_headers,
                redirects=seen[1:],
            )
            self._raise_for_status(page)
            return page

    def _raise_for_status(self, page: FetchedPage) -> None:
        status = page.status_code
        if status == 304 or (200 <= status < 300 and not looks_like_challenge(status, page.content)):
            return
        if status in (403, 202) or looks_like_challenge(status, page.content):
            raise Blocked(f"blocked (HTTP {status})", url=page.url, status_code=status)
        if status in (429, 503):
            wait = retry_after_seconds(page.headers.get("retry-after"), 60.0)
            self.budget.back_off(host_of(page.final_url), wait)
        raise HttpStatusError(f"HTTP {status}", url=page.url, status_code=status)

    async def _get(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        cap = self.config.max_body_bytes
        try:
            async with self.budget.slot(host_of(url)), self.client.stream(
                "GET", url, headers=headers
            ) as resp:
                resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                declared = resp_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise TooLarge(
                        f"declared size {int(declared)} bytes exceeds cap {cap}",
                        url=url,
                        status_code=resp.status_code,
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise TooLarge(
                            f"body exceeds cap of {cap} bytes", url=url, status_code=resp.status_code
                        )
                    chunks.append(chunk)
                return resp.status_code, resp_headers, b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"timed out: {type(exc).__name__}", url=url) from None
        except httpx.DecodingError as exc:
            raise NetworkError(f"undecodable body: {exc}", url=url) from None
        except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise NetworkError(f"{type(exc).__name__}: {exc}".rstrip(": "), url=url) from None

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets our User-Agent fetch ``url`` (fetched once per host per hour)."""
        parts = httpx.URL(url)
        origin = f"{parts.scheme}://{parts.netloc.decode()}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is None or time.monotonic() - cached[0] > _ROBOTS_TTL:
                cached = (time.monotonic(), await self._load_robots(origin))
                self._robots[origin] = cached
        rules = cached[1]
        if rules is None:
            return True
        return bool(rules.can_fetch(url, self.config.user_agent))

    async def robots(self, url: str) -> Protego | None:
        await self.allowed(url)
        parts = httpx.URL(url)
        return self._robots.get(f"{parts.scheme}://{parts.netloc.decode()}", (0.0, None))[1]

    async def _load_robots(self, origin: str) -> Protego | None:
        try:
            page = await self._fetch_once(f"{origin}/robots.txt", None)
        except HttpStatusError as exc:
            if exc.status_code is not None and 400 <= exc.status_code < 500:
                return None  # no robots.txt: everything allowed
            return Protego.parse("User-agent: *\nDisallow: /")  # server trouble: stay away
        except FetchError:
            return None
        try:
            rules = Protego.parse(page.content.decode("utf-8", errors="replace"))
        except Exception:
            return None
        delay = rules.crawl_delay(self.config.user_agent)
        if delay:
            self.budget.set_crawl_delay(host_of(origin), float(delay))
        return rules


def _h2_available() -> bool:
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True


def _accept_encoding() -> str:
    try:
        import brotli  # noqa: F401
    except ImportError:
        return "gzip, deflate"
    return "gzip, deflate, br"
