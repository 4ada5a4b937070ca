"""Every fault of the fault server ends in its outcome, quickly, with bounded memory."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from faultserver import FaultServer

from ingest.config import FetchConfig
from ingest.errors import FetchError
from ingest.fetching import Fetcher
from ingest.outcomes import Outcome

CASES = [
    ("/article/1", "article", None),
    ("/slow-headers", "article", Outcome.TIMEOUT),
    ("/slow-body", "article", Outcome.TIMEOUT),
    ("/reset", "article", Outcome.NETWORK_ERROR),
    ("/reset-after-headers", "article", Outcome.NETWORK_ERROR),
    ("/500", "article", Outcome.HTTP_ERROR),
    ("/404", "article", Outcome.HTTP_ERROR),
    ("/403", "article", Outcome.BLOCKED),
    ("/challenge", "article", Outcome.BLOCKED),
    ("/challenge-202", "article", Outcome.BLOCKED),
    ("/429-once", "article", None),
    ("/503-once", "article", None),
    ("/loop-a", "article", Outcome.REDIRECT_LOOP),
    ("/chain/0", "article", Outcome.REDIRECT_LOOP),
    ("/moved", "article", None),
    ("/big-declared", "article", Outcome.TOO_LARGE),
    ("/big-chunked", "article", Outcome.TOO_LARGE),
    ("/endless", "article", Outcome.TOO_LARGE),
    ("/gzip-bomb", "article", Outcome.TOO_LARGE),
    ("/gzip-corrupt", "article", Outcome.PARSE_ERROR),
    ("/invalid-utf8", "article", None),
    ("/wrong-type", "article", Outcome.BAD_CONTENT_TYPE),
    ("/pdf-as-article", "article", Outcome.BAD_CONTENT_TYPE),
    ("/wrong-type", "feed", Outcome.BAD_CONTENT_TYPE),
    ("/private/1", "article", Outcome.ROBOTS_DENIED),
]


async def _outcome(fetcher: Fetcher, url: str, kind: str) -> Outcome | None:
    try:
        await fetcher.fetch(url, kind=kind)
    except FetchError as exc:
        return exc.outcome
    return None


def test_each_fault_ends_in_its_outcome(faults: FaultServer, fetch_config: FetchConfig) -> None:
    async def run() -> list[Outcome | None]:
        async with Fetcher(fetch_config, backoff_base=0.01) as fetcher:
            return list(
                await asyncio.gather(*(_outcome(fetcher, faults.url(p), k) for p, k, _ in CASES))
            )

    got = asyncio.run(run())
    expected = [want for _, _, want in CASES]
    assert dict(zip([p + ":" + k for p, k, _ in CASES], got, strict=True)) == dict(
        zip([p + ":" + k for p, k, _ in CASES], expected, strict=True)
    )
    assert faults.hits["/429-once"] == 2 and faults.hits["/503-once"] == 2  # retried once, after Retry-After
    assert faults.hits["/500"] == 2  # transient: one retry (retries=1)
    assert faults.hits["/404"] == 1 and faults.hits["/403"] == 1  # not transient: never retried
    assert faults.hits["/private/1"] == 0  # robots.txt: never requested


@pytest.mark.parametrize("path", ["/big-declared", "/big-chunked", "/gzip-bomb", "/endless"])
def test_memory_stays_bounded(faults: FaultServer, fetch_config: FetchConfig, path: str) -> None:
    """A 50 MB body, a 256 MB gzip bomb and an endless body never get near memory: peak < 4x cap."""
    cap = fetch_config.max_body_bytes

    async def run() -> Outcome | None:
        async with Fetcher(fetch_config) as fetcher:
            await fetcher.allowed(faults.url(path))  # robots.txt outside the measurement
            tracemalloc.start()
            try:
                return await _outcome(fetcher, faults.url(path), "article")
            finally:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                assert peak < 4 * cap, f"peak {peak} bytes for a {cap} byte cap"

    assert asyncio.run(run()) is Outcome.TOO_LARGE


def test_retry_after_is_remembered(faults: FaultServer, fetch_config: FetchConfig) -> None:
    """After a 429 with Retry-After: 3600 the host is left alone: later URLs are deferred unrequested."""

    async def run() -> tuple[Outcome | None, Outcome | None]:
        async with Fetcher(fetch_config, backoff_base=0.01) as fetcher:
            first = await _outcome(fetcher, faults.url("/429-long"), "article")
            second = await _outcome(fetcher, faults.url("/article/3"), "article")
            return first, second

    assert asyncio.run(run()) == (Outcome.HTTP_ERROR, Outcome.DEFERRED)
    assert faults.hits["/429-long"] == 1
    assert faults.hits["/article/3"] == 0


def test_robots_server_error_keeps_us_away(faults: FaultServer, fetch_config: FetchConfig) -> None:
    faults.routes["/robots.txt"] = faults.routes["/500"]

    async def run() -> Outcome | None:
        async with Fetcher(fetch_config, backoff_base=0.01) as fetcher:
            return await _outcome(fetcher, faults.url("/article/1"), "article")

    assert asyncio.run(run()) is Outcome.ROBOTS_DENIED
    assert faults.hits["/article/1"] == 0


def test_redirect_is_followed_and_recorded(faults: FaultServer, fetch_config: FetchConfig) -> None:
    async def run() -> tuple[str, list[str]]:
        async with Fetcher(fetch_config) as fetcher:
            page = await fetcher.fetch(faults.url("/moved"))
            return page.final_url, page.redirects

    final, redirects = asyncio.run(run())
    assert final == faults.url("/article/7") and redirects == [faults.url("/article/7")]
