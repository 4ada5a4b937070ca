"""Prometheus metrics of a daemon, served on ``daemon.metrics_port`` when set.

One registry per :class:`Metrics` (not the process-global one) so tests and
several daemons in one process never clash.  Labels are bounded: source
names come from the config and outcomes from a fixed taxonomy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from ingest.health import Drift

log = logging.getLogger("ingest.metrics")

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.pages = Counter(
            "ingest_pages_fetched", "Requests made, by source, kind and outcome.",
            ["source", "kind", "outcome"], registry=r,
        )
        self.stored = Counter("ingest_articles_stored", "Articles stored.", ["source"], registry=r)
        self.duplicates = Counter(
            "ingest_duplicates_flagged", "Articles recognised as duplicates, by kind.",
            ["source", "kind"], registry=r,
        )
        self.runs = Counter("ingest_runs", "Finished crawl runs, by status.", ["source", "status"], registry=r)
        self.latency = Histogram(
            "ingest_fetch_latency_seconds", "Fetch latency.", ["kind"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.queue = Gauge(
            "ingest_queue_depth", "Work waiting: pending manual requests, sources due.", ["queue"], registry=r,
        )
        self.in_flight = Gauge("ingest_crawls_in_flight", "Sources being crawled now.", registry=r)
        self.healthy = Gauge("ingest_source_healthy", "1 unless failures passed the limit.", ["source"], registry=r)
        self.interval = Gauge("ingest_source_interval_seconds", "Adaptive interval.", ["source"], registry=r)
        self.drift = Gauge("ingest_extraction_drift", "1 when extraction numbers drifted.", ["source"], registry=r)
        self.extraction = Gauge(
            "ingest_extraction_health", "Recent extraction numbers per source.", ["source", "measure"], registry=r,
        )
        self.db_up = Gauge("ingest_database_up", "0 while the database is unreachable.", registry=r)
        self.db_up.set(1)

    def serve(self, host: str, port: int) -> int:
        """Start the HTTP endpoint in a background thread; returns the port (0 picks one)."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        bound = int(server.server_port)
        log.warning("metrics on http://%s:%d/metrics", host, bound)
        return bound

    def observe_run(
        self,
        source: str,
        status: str,
        counts: Mapping[str, int],
        attempts: Iterable[tuple[str, str, float | None]],
    ) -> None:
        self.runs.labels(source, status).inc()
        self.stored.labels(source).inc(counts.get("stored", 0))
        for kind, outcome in (("url", "duplicate_url"), ("content", "duplicate_content")):
            if counts.get(outcome):
                self.duplicates.labels(source, kind).inc(counts[outcome])
        for kind, outcome, elapsed_ms in attempts:
            self.pages.labels(source, kind, outcome).inc()
            if elapsed_ms is not None:
                self.latency.labels(kind).observe(elapsed_ms / 1000.0)

    def observe_source(self, source: str, *, healthy: bool, interval: float | None, drift: Drift | None) -> None:
        self.healthy.labels(source).set(1 if healthy else 0)
        if interval is not None:
            self.interval.labels(source).set(interval)
        if drift is not None:
            self.drift.labels(source).set(1 if drift.flagged else 0)
            if drift.recent is not None:
                recent = drift.recent
                for measure in ("mean_words", "missing_date", "missing_author", "chrome_share", "rejected_share"):
                    self.extraction.labels(source, measure).set(getattr(recent, measure))
