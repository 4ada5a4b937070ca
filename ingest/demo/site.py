"""Offline demo news site: two fictional outlets served from 127.0.0.1.

``ingest demo`` runs the real crawl pipeline against this site, so it must
behave like the web: separate hosts (one port per outlet), feeds, listing
pages mixing article and non-article links, chrome-heavy article pages, a
feed item that 404s, and proper ``Content-Type`` headers.  Stdlib only.
"""

from __future__ import annotations

import hashlib
import re
import socket
import socketserver
import struct
import sys
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

from ingest.demo.content import (
    EXPECTED_PATH,
    Article,
    Outlet,
    load_articles,
    load_feed_only,
    load_outlets,
)
from ingest.demo.content import templates as t

__all__ = ["EXPECTED_PATH", "DemoSite"]

HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
PNG = "image/png"
FEED_TYPES = {
    t.LEDGER: "application/rss+xml; charset=utf-8",
    t.RIVERPOINT: "application/atom+xml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class _Templates:
    """The markup functions of one outlet (see ``content/templates.py``)."""

    article: Callable[[Outlet, Article, str, Sequence[Article]], str]
    listing: Callable[[Outlet, str, Sequence[Article], str, Sequence[Article]], str]
    page: Callable[[Outlet, str, str], str]
    feed: Callable[[Outlet, str, Sequence[Article]], str]
    css: str


TEMPLATES = {
    t.LEDGER: _Templates(
        t.ledger_article, t.ledger_listing, t.ledger_page, t.rss_feed, "/static/ledger.css"
    ),
    t.RIVERPOINT: _Templates(
        t.riverpoint_article,
        t.riverpoint_listing,
        t.riverpoint_page,
        t.atom_feed,
        "/en/assets/css/main.css",
    ),
}


def _png() -> bytes:
    """A 1x1 grey PNG: lead images exist without shipping binary files."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xcc\xcc\xcc"))
        + chunk(b"IEND", b"")
    )


Response = tuple[str, bytes]  # (content type, body)


def build_routes(outlet: Outlet, base: str) -> tuple[dict[str, Response], bytes]:
    """Every page of ``outlet`` rendered for ``base``, plus its 404 page."""
    tpl = TEMPLATES[outlet.name]
    arts = [a for a in load_articles() if a.outlet == outlet.name]
    routes: dict[str, Response] = {}

    def html(path: str, text: str) -> None:
        routes[path] = (HTML, text.encode("utf-8"))

    for a in arts:
        html(a.path, tpl.article(outlet, a, base, arts))
        routes[t.image_path(a)] = (PNG, _png())
    listing = tpl.listing(outlet, "Latest News", arts, base, arts)
    html(outlet.home, listing)
    html(outlet.listing, listing)
    for section in outlet.sections:
        in_section = [a for a in arts if a.section == section]
        html(t.section_path(outlet, section), tpl.listing(outlet, section, in_section, base, arts))
    for path, title, text in outlet.pages:
        html(path, tpl.page(outlet, title, text))
    gone = [a for a in load_feed_only() if a.outlet == outlet.name]
    in_feed = sorted(arts[: outlet.feed_limit] + gone, key=lambda a: a.published, reverse=True)
    routes[outlet.feed] = (FEED_TYPES[outlet.name], tpl.feed(outlet, base, in_feed).encode())
    routes["/robots.txt"] = (TEXT, b"User-agent: *\nDisallow: /search\n")
    routes["/static/logo.png"] = (PNG, _png())
    routes[tpl.css] = (CSS, b"body { font-family: Georgia, serif; }\n")
    not_found = tpl.page(outlet, "Page Not Found", "Sorry, we could not find that page.")
    return routes, not_found.encode("utf-8")


class _Server(ThreadingHTTPServer):
    """One outlet's host; carries its pre-rendered routes."""

    daemon_threads = True
    routes: dict[str, Response]
    not_found: bytes

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """Clients hanging up mid-response is normal for a crawler; keep stderr quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Serves pre-rendered bytes; ETag/304 and slash redirects like a real CMS."""

    protocol_version = "HTTP/1.1"
    server_version = "DemoNews/1.0"
    timeout = 5  # idle keep-alive connections must not outlive the demo for long

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        server = cast(_Server, self.server)
        path = urlsplit(self.path).path
        if path not in server.routes and path + "/" in server.routes:
            self._send(301, TEXT, b"", send_body, location=path + "/")
            return
        hit = server.routes.get(path)
        if hit is None:
            self._send(404, HTML, server.not_found, send_body)
            return
        ctype, body = hit
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, ctype, b"", send_body, etag=etag)
        else:
            self._send(200, ctype, body, send_body, etag=etag)

    def _send(
        self,
        status: int,
        ctype: str,
        body: bytes,
        send_body: bool,
        etag: str | None = None,
        location: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=60")
        if etag:
            self.send_header("ETag", etag)
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request logging; the demo prints its own summary."""


class DemoSite:
    """Context manager: serves both outlets on 127.0.0.1, each on its own ephemeral port
    (so they are two hosts)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._outlets = load_outlets()
        self._servers: dict[str, _Server] = {}
        self._threads: dict[str, threading.Thread] = {}

    def __enter__(self) -> DemoSite:
        if self._servers:
            raise RuntimeError("DemoSite is already running")
        try:
            for name, outlet in self._outlets.items():
                server = _Server((self._host, 0), _Handler)
                self._servers[name] = server
                server.routes, server.not_found = build_routes(
                    outlet, f"http://{self._host}:{server.server_port}/"
                )
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"demo-site-{name}",
                    daemon=True,
                )
                thread.start()
                self._threads[name] = thread
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for name, server in self._servers.items():
            thread = self._threads.get(name)
            if thread is not None:  # shutdown() would block forever on a loop never started
                server.shutdown()
                thread.join(timeout=5)
            server.server_close()
        self._servers.clear()
        self._threads.clear()

    @property
    def outlets(self) -> dict[str, str]:
        """Outlet name -> base URL like ``http://127.0.0.1:PORT/``."""
        if not self._servers:
            raise RuntimeError("DemoSite is not running; use it as a context manager")
        return {n: f"http://{self._host}:{s.server_port}/" for n, s in self._servers.items()}

    def sources(self) -> list[dict[str, object]]:
        """Source definitions for the crawler, one per outlet."""
        out: list[dict[str, object]] = []
        for name, base in self.outlets.items():
            o = self._outlets[name]
            out.append(
                {
                    "name": name,
                    "feeds": [t.absolute(base, o.feed)],
                    "start_urls": [t.absolute(base, o.listing)],
                    "link_pattern": "^" + re.escape(base) + o.link_pattern + "$",
                    "schedule": o.schedule,
                }
            )
        return out

    def article_count(self) -> int:
        """How many real (200) article pages the site has; feed-only 404 items excluded."""
        return len(load_articles())
