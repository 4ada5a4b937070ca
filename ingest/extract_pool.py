"""Steps 4–5 (extract, normalize, compress the raw page) off the event loop's core.

The event loop's process does HTTP and the database; extraction, content
hashing and gzip are pure CPU and run in a small pool of worker processes
(``fetch.extract_workers``, 0 = in the loop's own process).  Bytes go in, a
small :class:`Prepared` (the article's column values and the compressed page)
comes out.

The loop talks to each worker over its own socket, read and written by the
event loop itself (``add_reader``), and keeps several pages queued per worker.
A ``ProcessPoolExecutor`` instead feeds its workers from a manager thread that
must win the GIL from the busy loop for every page, which left a single worker
idle most of a crawl and piled pages up behind it.

Workers are forked from a forkserver that has already imported the extractor,
so a pool starts in milliseconds and shares nothing with the parent's threads
or database connections.  They ignore SIGINT/SIGTERM (the parent decides when
they stop: :meth:`ExtractPool.close` on shutdown) and exit by themselves when
their socket closes, which includes the parent dying.  A crashed worker fails
only the pages it held (``parse_error``) and is replaced for the pages that follow.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from ingest.dedup.prepared import Reading, read
from ingest.dedup.settings import DedupSettings
from ingest.normalize import Hints, article_values, raw_page_values
from ingest.outcomes import Outcome
from scrapers import ExtractedArticle, ExtractionFlag, extract

log = logging.getLogger(__name__)

MIN_WORDS = 40
_PRELOAD = ["scrapers", "ingest.normalize", "ingest.dedup.prepared", "ingest.extract_pool"]
_HEADER = struct.Struct("!i")  # multiprocessing.connection's framing, so workers use recv_bytes()
_LONG_HEADER = struct.Struct("!Q")
_READ_SIZE = 256 * 1024
_IN_FLIGHT = 3  # pages sent ahead per worker: enough that it never waits for the loop


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the pipeline needs of one fetched page: a rejection or the rows to store."""

    outcome: Outcome = Outcome.STORED
    error: str | None = None
    values: dict[str, Any] | None = None
    raw: dict[str, Any] | None = None
    reading: Reading | None = None
    """The body read for the near-duplicate index (:func:`ingest.dedup.prepared.read`), when asked."""


def reject_reason(article: ExtractedArticle) -> tuple[Outcome, str] | None:
    flags = set(article.flags)
    words = article.word_count  # a property that splits the whole body: once
    if ExtractionFlag.PAYWALLED in flags and words < MIN_WORDS * 3:
        return Outcome.PAYWALLED, "paywall with a short body"
    if not article.text.strip() or words < MIN_WORDS:
        why = ", ".join(str(f) for f in article.flags) or "no body text"
        return Outcome.NOT_ARTICLE, f"{words} words ({why})"
    return None


def prepare_page(
    content: bytes,
    final_url: str,
    content_type: str | None,
    hints: Hints,
    source_id: int | None,
    dedup: DedupSettings | None = None,
) -> Prepared:
    """Extract, judge, normalize and compress one page; never raises for a bad page.

    ``dedup``: also read and sign the body for the near-duplicate index here, in the
    worker, with these settings, so the store writer only signs again what has chrome.
    """
    try:
        article = extract(content, final_url, content_type=content_type)
    except Exception as exc:  # extract() promises not to raise; a bug is recorded, not fatal
        log.exception("extractor crashed on %s", final_url)
        return Prepared(Outcome.PARSE_ERROR, repr(exc))
    rejected = reject_reason(article)
    if rejected is not None:
        return Prepared(rejected[0], rejected[1])
    try:
        values = article_values(article, hints, source_id)
    except Exception as exc:  # a normalization bug fails this page only
        log.exception("normalizing %s failed", final_url)
        return Prepared(Outcome.PARSE_ERROR, repr(exc))
    try:
        reading = read(values["body"], values.get("title"), dedup) if dedup is not None else None
    except Exception:  # the index reads the body itself later
        log.exception("reading %s for the near-duplicate index failed", final_url)
        reading = None
    return Prepared(values=values, raw=raw_page_values(final_url, content, content_type), reading=reading)


def _worker_main(conn: Connection) -> None:
    """A worker: answer each job frame with a :class:`Prepared` frame, in order, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent shuts the pool down
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        try:
            job = conn.recv_bytes()
        except (EOFError, OSError):  # the parent closed our socket or died
            return
        try:
            result = prepare_page(*pickle.loads(job))
        except Exception as exc:  # a job that cannot even be read fails alone
            result = Prepared(Outcome.PARSE_ERROR, repr(exc))
        try:
            conn.send_bytes(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))
        except OSError:
            return


def _mp_context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


class WorkerDied(Exception):
    """An extraction worker exited (or its socket broke) with pages in hand."""


_Job = tuple[tuple[Any, ...], "asyncio.Future[Prepared]"]


class _Worker:
    """One worker process and the event loop's end of its socket."""

    def __init__(self, ctx: Any, on_free: Callable[[], None]) -> None:
        parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self._conn = parent  # owns the fd; closed by close()
        self.sock = socket.socket(fileno=os.dup(parent.fileno()))
        self.sock.setblocking(False)
        self.waiting: deque[asyncio.Future[Prepared]] = deque()  # sent, answered in order
        self._on_free = on_free
        self._inbox = bytearray()
        self._outbox = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dead = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve the socket from ``loop`` (a pool may outlive one ``asyncio.run``)."""
        if self._loop is loop:
            return
        self._detach()
        self._cancel_waiting()  # bound to the old loop: nobody can wait for them any more
        self._inbox.clear()
        self._outbox.clear()
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self._readable)

    def send(self, args: tuple[Any, ...], future: asyncio.Future[Prepared]) -> None:
        job = pickle.dumps(args, pickle.HIGHEST_PROTOCOL)
        size = len(job)
        head = _HEADER.pack(size) if size <= 0x7FFFFFFF else _HEADER.pack(-1) + _LONG_HEADER.pack(size)
        self.waiting.append(future)
        if self._outbox:
            self._outbox += head + job
            return
        data = head + job
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._fail(exc)
            return
        if sent < len(data):
            self._outbox += memoryview(data)[sent:]
            if self._loop is not None:
                self._loop.add_writer(self.sock.fileno(), self._writable)

    def _detach(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self.sock.fileno())
            loop.remove_writer(self.sock.fileno())

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self._outbox)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fail(exc)
            return
        del self._outbox[:sent]
        if not self._outbox and self._loop is not None:
            self._loop.remove_writer(self.sock.fileno())

    def _readable(self) -> None:
        try:
            data = self.sock.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fail(exc)
            return
        if not data:
            self._fail(WorkerDied(f"extraction worker {self.process.pid} exited"))
            return
        inbox = self._inbox
        inbox += data
        answered = False
        while len(inbox) >= 4:
            (size,) = _HEADER.unpack_from(inbox)
            start = 4
            if size == -1:
                if len(inbox) < 12:
                    break
                (size,) = _LONG_HEADER.unpack_from(inbox, 4)
                start = 12
            if len(inbox) < start + size:
                break
            result = pickle.loads(memoryview(inbox)[start : start + size])
            del inbox[: start + size]
            future = self.waiting.popleft()
            answered = True
            if not future.done():
                future.set_result(result)
        if answered:
            self._on_free()

    def _fail(self, exc: Exception) -> None:
        """The worker is gone: the pages it held fail; the pool replaces it."""
        self.dead = True
        loop = self._loop
        self._detach()
        waiting, self.waiting = self.waiting, deque()
        for future in waiting:
            if not future.done():
                future.set_exception(WorkerDied(str(exc)))
        if loop is not None and not loop.is_closed():
            loop.call_soon(self._on_free)  # not re-entered from inside a dispatch

    def _cancel_waiting(self) -> None:
        for future in self.waiting:
            future.cancel()
        self.waiting.clear()

    def close(self, timeout: float) -> None:
        self._detach()
        self._cancel_waiting()
        self.sock.close()
        self._conn.close()  # EOF: the worker leaves its loop
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout)


class ExtractPool:
    """``workers`` extraction processes, started on first use; ``close()`` stops them.

    Pages wait in one queue, unpickled, and go to whichever worker has fewer
    than ``_IN_FLIGHT`` in hand, so memory holds each page once.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: list[_Worker] = []
        self._queue: deque[_Job] = deque()
        self._closed = False
        self._ctx: Any = None

    async def prepare(
        self,
        content: bytes,
        final_url: str,
        content_type: str | None,
        hints: Hints,
        source_id: int | None,
        dedup: DedupSettings | None = None,
    ) -> Prepared:
        """:func:`prepare_page` in a worker."""
        if self._closed:
            raise RuntimeError("ExtractPool used after close()")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Prepared] = loop.create_future()
        self._queue.append(((content, final_url, content_type, hints, source_id, dedup), future))
        self._dispatch(loop)
        try:
            return await future
        except WorkerDied as exc:
            log.error("extraction worker died on %s: %s", final_url, exc)
            return Prepared(Outcome.PARSE_ERROR, f"extraction worker died: {exc}")

    def _dispatch(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Hand queued pages to workers with room (replacing dead workers first)."""
        if self._closed or not self._queue:
            return
        workers = self._workers(loop or asyncio.get_running_loop())
        while self._queue:
            worker = min(workers, key=lambda w: len(w.waiting))
            if len(worker.waiting) >= _IN_FLIGHT:
                return
            args, future = self._queue.popleft()
            if not future.done():  # its caller may have given up while it waited
                worker.send(args, future)
            if worker.dead:
                workers = self._workers(loop or asyncio.get_running_loop())

    def _workers(self, loop: asyncio.AbstractEventLoop) -> list[_Worker]:
        alive = [w for w in self._pool if not w.dead]
        for worker in self._pool:
            if worker.dead:
                worker.close(timeout=1.0)
        if self._ctx is None:
            self._ctx = _mp_context()
        while len(alive) < self.workers:
            alive.append(_Worker(self._ctx, self._dispatch))
        for worker in alive:
            worker.attach(loop)
        self._pool = alive
        return alive

    def close(self) -> None:
        """Stop the workers (pending pages are cancelled); safe to call twice."""
        self._closed = True
        queued, self._queue = self._queue, deque()
        for _, future in queued:
            future.cancel()
        pool, self._pool = self._pool, []
        for worker in pool:
            worker.close(timeout=5.0)
