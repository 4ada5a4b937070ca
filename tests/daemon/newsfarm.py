"""A local farm of small news sites for daemon tests and the soak benchmark.

Each source is its own host (own port on 127.0.0.1) with an RSS feed and
article pages generated on the fly from ``(source, index)``, so the server
holds no per-article state and can serve an endless stream.  Optional knobs:
a delay per article page (to catch a crawl mid-run) and a feed that reveals
``per_crawl`` new articles on each fetch (for the soak benchmark).  Stdlib only.
"""

from __future__ import annotations

import random
import socketserver
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

_VOCABULARY = (
    "council harbor budget ferry school market weather river bridge minister election "
    "court trial police hospital doctor nurse teacher student farmer factory workers union "
    "strike wages prices inflation bank loan housing rent tenants landlord village town city "
    "county province border trade export import shipping port airport railway station road "
    "traffic accident storm flood drought harvest wheat rice cattle fishing boats coast island "
    "mountain forest park museum library theatre concert festival football cricket match "
    "league season coach player goal victory defeat record study report survey scientists "
    "research energy solar wind power grid water supply pipeline waste recycling pollution "
    "health vaccine clinic patients funding grant charity volunteers residents neighbours "
    "officials spokesperson statement announced said warned expected planned approved rejected "
    "delayed opened closed increased reduced agreed signed proposed debated questioned"
)
WORDS = _VOCABULARY.split()

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def article_text(source: str, index: int) -> list[str]:
    """Four deterministic, unique paragraphs (about 160 words) for one article."""
    rng = random.Random(f"{source}/{index}")
    paragraphs = []
    for p in range(4):
        words = [rng.choice(WORDS) for _ in range(40)]
        words[0] = words[0].capitalize()
        paragraphs.append(f"{' '.join(words)} (item {index}, part {p}).")
    return paragraphs


def published(index: int) -> datetime:
    return EPOCH + timedelta(minutes=index)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    source: str
    farm: NewsFarm

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Crawlers hang up mid-response (SIGKILL, cancellation); that is not an error here."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_GET(self) -> None:
        server = cast(_Server, self.server)
        farm, source = server.farm, server.source
        path = urlsplit(self.path).path
        base = f"http://127.0.0.1:{server.server_port}"
        if path == "/robots.txt":
            self._send(200, "text/plain", b"User-agent: *\nAllow: /\n")
        elif path == "/feed.xml":
            self._send(200, "application/rss+xml; charset=utf-8", farm.feed(source, base).encode())
        elif path.startswith("/news/") and path.endswith(".html"):
            try:
                index = int(path[len("/news/") : -len(".html")])
            except ValueError:
                index = -1
            if not 0 <= index < farm.articles:
                self._send(404, "text/html; charset=utf-8", b"<html><body>Not found</body></html>")
                return
            if farm.delay:
                time.sleep(farm.delay)
            farm.count_hit()
            self._send(200, "text/html; charset=utf-8", farm.page(source, index, base).encode())
        else:
            self._send(404, "text/html; charset=utf-8", b"<html><body>Not found</body></html>")

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class NewsFarm:
    """``with NewsFarm(sources=8, articles=20) as farm: farm.sources()`` -> config dicts.

    ``per_crawl``: when set, each feed fetch reveals that many more articles
    (newest first, at most ``feed_size`` listed), up to ``articles`` in all.
    """

    def __init__(
        self,
        sources: int = 4,
        articles: int = 20,
        *,
        delay: float = 0.0,
        per_crawl: int | None = None,
        feed_size: int = 200,
        schedule: str = "5s",
        prefix: str = "farm",
    ) -> None:
        self.names = [f"{prefix}{i:02d}" for i in range(sources)]
        self.articles = articles
        self.delay = delay
        self.per_crawl = per_crawl
        self.feed_size = feed_size
        self.schedule = schedule
        self.hits = 0
        self._revealed: dict[str, int] = dict.fromkeys(self.names, 0)
        self._lock = threading.Lock()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> NewsFarm:
        for name in self.names:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.source, server.farm = name, self
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        for server, thread in zip(self._servers, self._threads, strict=True):
            server.shutdown()
            thread.join(timeout=5)
            server.server_close()
        self._servers.clear()
        self._threads.clear()

    def count_hit(self) -> None:
        with self._lock:
            self.hits += 1

    def base(self, name: str) -> str:
        server = self._servers[self.names.index(name)]
        return f"http://127.0.0.1:{server.server_port}"

    def sources(self) -> list[dict[str, object]]:
        return [
            {"name": name, "feeds": [f"{self.base(name)}/feed.xml"], "schedule": self.schedule}
            for name in self.names
        ]

    def total(self) -> int:
        return len(self.names) * self.articles

    def urls(self) -> set[str]:
        return {f"{self.base(n)}/news/{i}.html" for n in self.names for i in range(self.articles)}

    def _visible(self, source: str) -> range:
        if self.per_crawl is None:
            return range(self.articles)
        with self._lock:
            shown = self._revealed[source] = min(self.articles, self._revealed[source] + self.per_crawl)
        return range(max(0, shown - self.feed_size), shown)

    def feed(self, source: str, base: str) -> str:
        items = []
        for index in reversed(self._visible(source)):
            title = f"{source} story {index}"
            items.append(
                f"<item><title>{title}</title><link>{base}/news/{index}.html</link>"
                f"<guid>{base}/news/{index}.html</guid>"
                f"<pubDate>{format_datetime(published(index))}</pubDate></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{source}</title><link>{base}/</link><description>{source} news</description>"
            + "".join(items)
            + "</channel></rss>"
        )

    def page(self, source: str, index: int, base: str) -> str:
        title = f"{source} story {index}: " + " ".join(article_text(source, index)[0].split()[:6])
        body = "".join(f"<p>{p}</p>" for p in article_text(source, index))
        when = published(index).isoformat()
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{title}</title>"
            f"<link rel='canonical' href='{base}/news/{index}.html'>"
            f"<meta property='og:title' content='{title}'>"
            f"<meta property='article:published_time' content='{when}'>"
            f"<meta name='author' content='Reporter {index % 7}'>"
            "</head><body><header><nav><a href='/'>Home</a> <a href='/feed.xml'>RSS</a></nav></header>"
            f"<main><article><h1>{title}</h1>"
            f"<p class='byline'>By Reporter {index % 7} | <time datetime='{when}'>{when}</time></p>"
            f"{body}</article></main><footer>© {source}</footer></body></html>"
        )
