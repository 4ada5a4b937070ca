"""A misbehaving web server on 127.0.0.1 for crawler tests (stdlib asyncio, own thread).

Every path is one fault (or one well-behaved page); see :data:`ROUTES`.  Raw
sockets rather than http.server so the faults are real: resets are TCP RSTs,
the endless body never ends, the 50 MB body is streamed, the gzip bomb is a
real gzip stream.  Request counts per path are kept for assertions.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import socket
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate

HTML = "text/html; charset=utf-8"
MB = 1024 * 1024


def article_html(n: int, *, canonical: str | None = None, words: int = 400) -> str:
    """A plain, clearly article-shaped page (title, date, several paragraphs)."""
    para = " ".join(f"word{(n * 7 + i) % 97} sentence{i}" for i in range(40)) + "."
    body = "\n".join(f"<p>Paragraph {i} of story {n}. {para}</p>" for i in range(max(1, words // 80)))
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Story number {n}</title>{link}
<meta property="og:title" content="Story number {n}">
<meta property="article:published_time" content="2024-03-{1 + n % 28:02d}T10:00:00Z">
</head><body><header><nav><a href="/">Home</a></nav></header>
<main><article><h1>Story number {n}</h1><p class="byline">By Alex Writer</p>
{body}</article></main><footer>Footer text</footer></body></html>"""


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[["Request", asyncio.StreamWriter], Awaitable[Reply | None]]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


@functools.cache
def _gzip_bomb(inflated: int = 256 * MB) -> bytes:
    """256 MB of zeros as a ~250 KB gzip stream (built once per test session, off the loop)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * MB
    parts = [comp.compress(zeros) for _ in range(inflated // MB)]
    parts.append(comp.flush())
    return b"".join(parts)


def warm_up() -> None:
    """Build the expensive payloads before any timeout is running."""
    _gzip_bomb()


class FaultServer:
    """``with FaultServer() as s: s.url('/500')``."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.robots = "User-agent: *\nDisallow: /private/\n"
        self.routes: dict[str, Handler] = {}
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0
        self._install()

    # --- lifecycle -----------------------------------------------------------

    def __enter__(self) -> FaultServer:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # --- HTTP plumbing -------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                self.hits[path] += 1
                request = Request(method, path, headers)
                handler = self.routes.get(path) or self._prefix_route(path)
                reply = await handler(request, writer)
                if reply is None:  # the handler wrote (or broke) the connection itself
                    return
                await self._write(writer, reply)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _prefix_route(self, path: str) -> Handler:
        for prefix, handler in self.routes.items():
            if prefix.endswith("*") and path.startswith(prefix[:-1]):
                return handler
        return _static(404, "text/plain", b"not found")

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, reply: Reply) -> None:
        headers = {"Content-Length": str(len(reply.body)), **reply.headers}
        head = f"HTTP/1.1 {reply.status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1") + b"\r\n" + reply.body)
        await writer.drain()

    # --- routes --------------------------------------------------------------

    def _install(self) -> None:
        r = self.routes
        r["/robots.txt"] = self._robots
        r["/article/*"] = self._article
        r["/private/*"] = self._article
        r["/short"] = _static(200, HTML, b"<html><head><title>Hi</title></head><body><p>Too short.</p></body></html>")
        r["/slow-headers"] = self._slow_headers
        r["/slow-body"] = self._slow_body
        r["/reset"] = self._reset
        r["/500"] = _static(500, "text/plain", b"boom")
        r["/404"] = _static(404, "text/plain", b"nope")
        r["/403"] = _static(403, HTML, b"<html>forbidden</html>")
        r["/challenge"] = _static(503, HTML, b"<html><head><title>Just a moment...</title></head><body><script src='/cdn-cgi/challenge-platform/x.js'></script></body></html>")
        r["/challenge-202"] = _static(202, HTML, b"<html><body><script>window.location.reload()</script></body></html>")
        r["/429-once"] = self._rate_limited_once
        r["/429-long"] = _static(429, "text/plain", b"slow down", {"Retry-After": "3600"})
        r["/503-once"] = self._unavailable_once
        r["/loop-a"] = redirect("/loop-b")
        r["/loop-b"] = redirect("/loop-a")
        r["/chain/*"] = self._chain
        r["/moved"] = redirect("/article/7")
        r["/big-declared"] = self._big_declared
        r["/big-chunked"] = self._big_chunked
        r["/endless"] = self._endless
        r["/gzip-bomb"] = self._gzip_bomb
        r["/gzip-corrupt"] = _static(200, HTML, b"\x1f\x8b\x08\x00garbage" * 10, {"Content-Encoding": "gzip"})
        r["/invalid-utf8"] = _static(200, HTML, article_html(11).replace("Paragraph 1 ", "Para\xff\xfe 1 ").encode("latin-1"))
        r["/wrong-type"] = _static(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
        r["/pdf-as-article"] = _static(200, "application/pdf", b"%PDF-1.4 ...")
        r["/feed-malformed"] = _static(200, "application/rss+xml", b"<rss><channel><item><title>unclosed")
        r["/feed-html"] = _static(200, "text/html", b"<html><body>not a feed</body></html>")
        r["/sitemap-malformed"] = _static(200, "application/xml", b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>')
        r["/sitemap-empty-gzip"] = _static(200, "application/x-gzip", b"\x1f\x8bnot really")
        r["/reset-after-headers"] = self._reset_after_headers

    async def _robots(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(200, {"Content-Type": "text/plain"}, self.robots.encode())

    async def _article(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        n = int("".join(ch for ch in req.path if ch.isdigit()) or "0")
        return Reply(200, {"Content-Type": HTML}, article_html(n).encode())

    async def _slow_headers(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        await asyncio.sleep(30)
        return Reply(200, {"Content-Type": HTML}, b"late")

    async def _slow_body(self, req: Request, w: asyncio.StreamWriter) -> Reply | None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(600):  # a byte every 50 ms: never a read timeout, always the total one
            w.write(b"1\r\nx\r\n")
            await w.drain()
            await asyncio.sleep(0.05)
        return None

    async def _reset(self, req: Request, w: asyncio.StreamWriter) -> None:
        _rst(w)
        return None

    async def _reset_after_headers(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html>")
        await w.drain()
        _rst(w)
        return None

    async def _rate_limited_once(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        if self.hits[req.path] == 1:
            return Reply(429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"wait")
        return await self._article(Request(req.method, "/article/21", req.headers), w)

    async def _unavailable_once(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        if self.hits[req.path] == 1:
            return Reply(503, {"Retry-After": formatdate(usegmt=True), "Content-Type": "text/plain"}, b"later")
        return await self._article(Request(req.method, "/article/22", req.headers), w)

    async def _chain(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        n = int(req.path.rsplit("/", 1)[-1])
        return Reply(302, {"Location": f"/chain/{n + 1}"}, b"")

    async def _big_declared(self, req: Request, w: asyncio.StreamWriter) -> None:
        size = 50 * MB
        w.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n\r\n".encode())
        await _stream(w, size)
        return None

    async def _big_chunked(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"<p>" + b"a" * (64 * 1024 - 7) + b"</p>"
        for _ in range(50 * MB // len(chunk)):
            w.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await w.drain()
        w.write(b"0\r\n\r\n")
        await w.drain()
        return None

    async def _endless(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"<p>more</p>" * 1000
        while True:  # ends when the client hangs up (or the server stops)
            w.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await w.drain()

    async def _gzip_bomb(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        bomb = await asyncio.to_thread(_gzip_bomb)
        return Reply(200, {"Content-Type": HTML, "Content-Encoding": "gzip"}, bomb)


def _static(status: int, ctype: str, body: bytes, extra: dict[str, str] | None = None) -> Handler:
    async def handler(req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(status, {"Content-Type": ctype, **(extra or {})}, body)

    return handler


def redirect(location: str) -> Handler:
    return _static(302, "text/plain", b"", {"Location": location})


def _rst(w: asyncio.StreamWriter) -> None:
    sock = w.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    w.transport.abort()


async def _stream(w: asyncio.StreamWriter, size: int) -> None:
    chunk = b"a" * (256 * 1024)
    sent = 0
    while sent < size:
        w.write(chunk)
        await w.drain()
        sent += len(chunk)


def feed_bytes(kind: str, urls: list[str]) -> bytes:
    """A small feed of ``kind`` (rss091, rss10, rss20, atom, json) listing ``urls``."""
    if kind == "json":
        items = [{"id": u, "url": u, "title": f"T{i}", "date_published": f"2024-02-{i + 1:02d}T08:00:00Z"}
                 for i, u in enumerate(urls)]
        return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}).encode()
    if kind == "atom":
        entries = "".join(
            f"<entry><title>T{i}</title><link href='{u}'/><id>{u}</id>"
            f"<updated>2024-02-{i + 1:02d}T08:00:00Z</updated></entry>" for i, u in enumerate(urls))
        return f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>{entries}</feed>".encode()
    if kind == "rss10":
        items = "".join(
            f"<item rdf:about='{u}'><title>T{i}</title><link>{u}</link><dc:date>2024-02-{i + 1:02d}T08:00:00Z</dc:date></item>"
            for i, u in enumerate(urls))
        return ("<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
                "xmlns='http://purl.org/rss/1.0/' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
                f"<channel rdf:about='x'><title>R</title><link>http://x/</link></channel>{items}</rdf:RDF>").encode()
    version = "0.91" if kind == "rss091" else "2.0"
    items = "".join(
        f"<item><title>T{i}</title><link>{u}</link><pubDate>{i + 1:02d} Feb 2024 08:00:00 GMT</pubDate></item>"
        for i, u in enumerate(urls))
    return f"<?xml version='1.0'?><rss version='{version}'><channel><title>R</title><link>http://x/</link><description>d</description>{items}</channel></rss>".encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data)
