"""Prometheus metrics of the API: requests by route and status, latency, archive size.

A pure ASGI middleware (no per-request task or body copy) labels requests by
route template (``/articles/{article_id}``), so label values stay bounded
whatever paths clients send.  One registry per app, not the global one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _ArchiveSize(Collector):
    """``ingest_articles``: read at scrape time, cached for ``ttl`` seconds."""

    def __init__(self, count: Callable[[], int], ttl: float = 30.0) -> None:
        self._count = count
        self._ttl = ttl
        self._value = 0
        self._at = float("-inf")

    def collect(self) -> Iterable[GaugeMetricFamily]:
        now = time.monotonic()
        if now - self._at > self._ttl:
            try:
                self._value = self._count()
                self._at = now
            except Exception:  # a scrape must not fail because the database is down
                pass
        yield GaugeMetricFamily("ingest_articles", "Articles in the archive (estimate on large PostgreSQL tables).", value=self._value)


class ApiMetrics:
    def __init__(self, count_articles: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ingest_api_requests", "HTTP requests served.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "ingest_api_request_seconds", "Time to serve a request.", ["route"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.registry.register(_ArchiveSize(count_articles))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], label, str(status)).inc()
            self.metrics.latency.labels(label).observe(time.perf_counter() - started)
