"""The daemon's pieces without processes: adaptive intervals, drift, claims, the request queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db import daemon_queries as dq
from db import repository as repo
from db.models import Run
from db.session import transaction
from db.types import utcnow
from ingest import adaptive, control, health
from ingest.config import Config, DaemonConfig, SourceConfig, config_from_dict
from ingest.errors import ConfigError
from ingest.logs import logfmt
from ingest.services import open_database

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SOURCE = SourceConfig(name="s", feeds=["https://example.com/feed"], schedule="10m")


def bounds(**daemon: object) -> adaptive.Bounds:
    return adaptive.bounds(DaemonConfig.model_validate(daemon), SOURCE)


def test_busy_sources_speed_up_and_quiet_ones_slow_down_within_bounds() -> None:
    b = bounds(min_interval_factor=0.5, max_interval_factor=4)
    interval = None
    for _ in range(10):
        interval = adaptive.plan(b, current=interval, status="ok", stored=5, failures=0, now=NOW).interval
    assert interval == 300  # 10m * 0.5
    for _ in range(20):
        interval = adaptive.plan(b, current=interval, status="ok", stored=0, failures=0, now=NOW).interval
    assert interval == 2400  # 10m * 4
    plan = adaptive.plan(b, current=interval, status="ok", stored=0, failures=0, now=NOW)
    assert plan.next_run_at == NOW + timedelta(seconds=2400) and plan.healthy


def test_failures_back_off_then_mark_unhealthy() -> None:
    b = bounds(failure_limit=3, max_backoff_seconds=7200)
    delays = [
        adaptive.plan(b, current=600, status="failed", stored=0, failures=n, now=NOW)
        for n in (1, 2, 3)
    ]
    assert [(p.next_run_at - NOW).total_seconds() for p in delays] == [1200, 2400, 7200]
    assert [p.healthy for p in delays] == [True, True, False]


def test_aborted_runs_are_due_at_once_and_cron_is_not_adapted() -> None:
    assert adaptive.plan(bounds(), current=600, status="aborted", stored=0, failures=0, now=NOW).next_run_at == NOW
    cron = SourceConfig(name="c", feeds=["https://example.com/f"], schedule="0 * * * *")
    b = adaptive.bounds(DaemonConfig(), cron)
    nxt = NOW + timedelta(minutes=60)
    plan = adaptive.plan(b, current=None, status="ok", stored=9, failures=0, now=NOW, scheduled_next=nxt)
    assert plan.next_run_at == nxt


def good(n: int = 10) -> health.Sample:
    return health.Sample(pages=n, articles=n, mean_words=600, missing_date=0.0, missing_author=0.1, chrome_share=0.02)


def test_drift_flags_a_redesign_and_ignores_steady_history() -> None:
    assert not health.drift([good() for _ in range(10)]).flagged
    broken = health.Sample(pages=10, articles=10, mean_words=120, missing_date=0.9, missing_author=0.1, chrome_share=0.3)
    result = health.drift([good() for _ in range(10)] + [broken] * 3)
    assert result.flagged
    assert any(r.startswith("body words 600 -> 120") for r in result.reasons)
    assert any(r.startswith("missing date") for r in result.reasons)
    assert any(r.startswith("chrome text") for r in result.reasons)
    rejected = health.Sample(pages=10, articles=0, rejected_share=1.0)
    assert health.drift([good() for _ in range(10)] + [rejected] * 3).reasons == ["rejected pages 0% -> 100%"]


def test_chrome_share_counts_short_boilerplate_paragraphs() -> None:
    body = "A long paragraph about the harbour budget and the council vote that followed it.\nShare on Facebook\nSubscribe to our newsletter"
    assert 0.3 < health.chrome_share(body) < 0.6
    assert health.chrome_share("Plain prose only.") == 0.0
    counts = {"stored": 2, "not_article": 2}
    facts = [health.ArticleFacts(500, True, False, "text"), health.ArticleFacts(300, False, True, "text")]
    s = health.sample(facts, counts)
    assert s is not None and s.mean_words == 400 and s.missing_date == 0.5 and s.rejected_share == 0.5
    assert health.sample([], {"duplicate_url": 4}) is None


def test_logfmt_quotes_values_with_spaces() -> None:
    assert logfmt({"a": 1, "b": None, "c": True, "d": "x y"}) == 'a=1 b=- c=true d="x y"'


@pytest.fixture
def config(db_url: str) -> Config:
    return config_from_dict(
        {"database": {"url": db_url}, "sources": [{"name": "s", "feeds": ["https://e.com/f"]}]}
    )


def test_claims_respect_leases_and_the_shared_schedule(config: Config) -> None:
    database = open_database(config)
    try:
        with transaction(database.sessions) as s:
            sid = repo.get_or_create_source(s, "s").id
            due = utcnow() + timedelta(seconds=1)
            assert dq.claim_source(s, sid, "a", 60, due_by=due)
            assert not dq.claim_source(s, sid, "b", 60, due_by=due)  # leased by a
            dq.finish_claim(s, sid, "a", interval=600, next_run_at=utcnow() + timedelta(minutes=10), healthy=True)
            assert not dq.claim_source(s, sid, "b", 60, due_by=due)  # free but not due
            assert dq.claim_source(s, sid, "b", 60, due_by=None)  # a manual run ignores the schedule
            assert dq.renew_leases(s, "b", [sid], 60) == 1
            assert dq.renew_leases(s, "a", [sid], 60) == 0
    finally:
        database.close()


def test_requests_are_claimed_once_and_dead_daemons_are_reaped(config: Config) -> None:
    database = open_database(config)
    try:
        queued = control.request_fetch(config, "s", sessions=database.sessions)
        assert not queued.daemon_running
        with pytest.raises(ConfigError):
            control.request_fetch(config, "nope", sessions=database.sessions)
        with transaction(database.sessions) as s:
            dq.register_worker(s, "w1", "h", 1, ["s"])
            assert [i for i, _ in dq.pending_requests(s, ["s"])] == [queued.request_id]
            assert dq.claim_request(s, queued.request_id, "w1")
            assert not dq.claim_request(s, queued.request_id, "w2")
            run = repo.start_run(s, None, "request", "w1")
        assert control.daemon_running(config, "s", sessions=database.sessions)
        with transaction(database.sessions) as s:
            assert dq.reap_dead_workers(s, utcnow() + timedelta(seconds=1)) == ["w1"]
        with database.sessions() as s:
            assert s.scalar(select(Run.status).where(Run.id == run.id)) == "aborted"
        state = control.request_state(config, queued.request_id, sessions=database.sessions)
        assert state.status == "pending" and not state.finished  # requeued for another daemon
        assert not control.daemon_running(config, "s", sessions=database.sessions)
    finally:
        database.close()


def test_drift_and_health_show_in_sources_list(config: Config) -> None:
    from ingest.status import source_overview

    database = open_database(config)
    try:
        with transaction(database.sessions) as s:
            sid = repo.get_or_create_source(s, "s").id
            for i in range(13):
                words = 600 if i < 10 else 100
                dq.add_sample(s, sid, None, {"pages": 10, "articles": 10, "mean_words": words})
    finally:
        database.close()
    [row] = source_overview(config)
    assert row["drift"] is True
    assert row["drift_reasons"] == ["body words 600 -> 100"]
    assert row["healthy"] is True
