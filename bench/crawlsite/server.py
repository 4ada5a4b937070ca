"""The benchmark site's HTTP server: one asyncio process, one port per host.

Runs in its own process (the crawler's CPU is what is measured).  Every
request waits ``delay`` seconds first (a realistic server + network time);
feeds and sitemaps answer ``If-None-Match``/``If-Modified-Since`` with 304.
``GET /__stats`` (any port) returns per-host request counts, peak in-flight
requests and first/last request times, so the benchmark can show which
budget limited it.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import multiprocessing
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crawlsite import pages

LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
FEED_KINDS = ("rss", "atom", "json", "sitemap-index", "news-sitemap")


@dataclass
class HostStats:
    kinds: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0
    first: float = 0.0
    last: float = 0.0


@dataclass
class SiteSpec:
    hosts: int
    articles_per_host: int
    delay: float
    slow_host_delay: float = 0.0  # extra delay on host 0 (shows one slow host does not stall others)


def discovery_kind(host: int) -> str:
    """Which entry point host ``host`` offers (a mix, like the real web)."""
    return FEED_KINDS[host % len(FEED_KINDS)]


class Site:
    def __init__(self, spec: SiteSpec, ports: list[int]) -> None:
        self.spec = spec
        self.ports = ports
        self.stats = [HostStats() for _ in ports]
        self.documents: dict[tuple[int, str], tuple[bytes, str]] = {}
        self._pages: dict[tuple[int, int], bytes] = {}

    def base(self, host: int) -> str:
        return f"http://127.0.0.1:{self.ports[host]}"

    def build_documents(self, host: int) -> None:
        base, ids = self.base(host), range(self.spec.articles_per_host)
        half = len(ids) // 2
        xml, js = "application/xml; charset=utf-8", "application/feed+json"
        docs = {
            "/feed.xml": (pages.rss(host, base, ids), "application/rss+xml; charset=utf-8"),
            "/atom.xml": (pages.atom(host, base, ids), "application/atom+xml; charset=utf-8"),
            "/feed.json": (pages.json_feed(host, base, ids), js),
            "/sitemap.xml": (pages.sitemap_index(base, 2), xml),
            "/sitemap-0.xml": (pages.sitemap(host, base, ids[:half], news=False), xml),
            "/sitemap-1.xml": (pages.sitemap(host, base, ids[half:], news=True), xml),
            "/news-sitemap.xml": (pages.sitemap(host, base, ids, news=True), xml),
        }
        robots = "User-agent: *\nDisallow: /private/\n"
        if discovery_kind(host) == "news-sitemap":
            robots += f"Sitemap: {base}/news-sitemap.xml\n"
        docs["/robots.txt"] = (robots, "text/plain")
        for path, (text, ctype) in docs.items():
            self.documents[(host, path)] = (text.encode(), ctype)

    def page(self, host: int, n: int) -> bytes:
        """The gzip'd article page (cached: the server's CPU is not what is measured)."""
        key = (host, n)
        data = self._pages.get(key)
        if data is None:
            data = gzip.compress(pages.article(host, n, self.base(host)).encode(), 1)
            self._pages[key] = data
        return data

    async def handle(self, host: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                if path.startswith("/__"):
                    writer.write(self._control(path))
                    await writer.drain()
                    continue
                stats = self.stats[host]
                now = time.monotonic()
                stats.first = stats.first or now
                stats.in_flight += 1
                stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
                try:
                    await asyncio.sleep(self.spec.delay + (self.spec.slow_host_delay if host == 0 else 0))
                    writer.write(self._answer(host, path, headers, stats))
                    await writer.drain()
                finally:
                    stats.in_flight -= 1
                    stats.last = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _answer(self, host: int, path: str, headers: dict[str, str], stats: HostStats) -> bytes:
        if (host, path) in self.documents:
            body, ctype = self.documents[(host, path)]
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            kind = "robots" if path == "/robots.txt" else "document"
            if headers.get("if-none-match") == etag or headers.get("if-modified-since") == LAST_MODIFIED:
                stats.kinds[f"{kind}_304"] += 1
                return _response(304, {"ETag": etag}, b"")
            stats.kinds[kind] += 1
            extra = {"ETag": etag, "Last-Modified": LAST_MODIFIED, "Content-Type": ctype}
            return _response(200, extra, body)
        parts = path.split("?")[0].split("/")
        if len(parts) == 4 and parts[2].isdigit() and int(parts[2]) < self.spec.articles_per_host:
            stats.kinds["article"] += 1
            body = self.page(host, int(parts[2]))
            return _response(200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}, body)
        stats.kinds["other"] += 1
        return _response(404, {"Content-Type": "text/plain"}, b"not found")

    def _control(self, path: str) -> bytes:
        if path == "/__reset":
            self.stats = [HostStats() for _ in self.ports]
            return _response(200, {"Content-Type": "application/json"}, b"{}")
        data: list[dict[str, Any]] = [
            {"host": i, "port": self.ports[i], "kinds": dict(s.kinds), "peak_in_flight": s.peak_in_flight,
             "first": s.first, "last": s.last}
            for i, s in enumerate(self.stats)
        ]
        return _response(200, {"Content-Type": "application/json"}, json.dumps(data).encode())


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


async def _serve(spec: SiteSpec, ready: Any) -> None:
    socks = []
    for _ in range(spec.hosts):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
    site = Site(spec, [s.getsockname()[1] for s in socks])
    for host, sock in enumerate(socks):
        site.build_documents(host)
        for n in range(spec.articles_per_host):  # built before the clock starts: remote servers'
            site.page(host, n)  # CPU is not ours; on 2 cores it would be taken from the crawler
        await asyncio.start_server(
            lambda r, w, h=host: site.handle(h, r, w), sock=sock, backlog=1024
        )
    ready.send(site.ports)
    await asyncio.Event().wait()


def _main(spec: SiteSpec, ready: Any) -> None:
    asyncio.run(_serve(spec, ready))


class SiteProcess:
    """``with SiteProcess(spec) as ports:`` — the site runs in a child process."""

    def __init__(self, spec: SiteSpec) -> None:
        self.spec = spec
        ctx = multiprocessing.get_context("fork")
        self._parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_main, args=(spec, child), daemon=True)

    def __enter__(self) -> list[int]:
        self._proc.start()
        if not self._parent.poll(60):
            raise RuntimeError("benchmark site did not start")
        ports: list[int] = self._parent.recv()
        return ports

    @property
    def pid(self) -> int:
        """The site server's process id (its CPU is reported separately)."""
        return self._proc.pid or 0

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.join(10)
