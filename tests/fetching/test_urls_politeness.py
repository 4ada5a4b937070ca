"""Canonicalization properties, and the per-host politeness budget (counted, never timed)."""

from __future__ import annotations

import asyncio

import pytest
from faultserver import FaultServer
from hypothesis import given
from hypothesis import strategies as st

from ingest import politeness
from ingest.config import FetchConfig
from ingest.fetching import Fetcher
from ingest.urls import canonicalize


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM:80/a?utm_source=x&b=2&a=1#top", "http://example.com/a?a=1&b=2"),
        ("https://example.com:443/x?fbclid=1&gclid=2&id=7", "https://example.com/x?id=7"),
        ("https://amp.example.com/amp/news/1", "https://example.com/news/1"),
        ("https://example.com/news/1/amp", "https://example.com/news/1"),
        ("https://example.com/news/1.amp.html", "https://example.com/news/1.html"),
        ("https://example.com/news/1?amp=1&outputType=amp", "https://example.com/news/1"),
        ("https://example.com/%7Euser/a%2fb", "https://example.com/~user/a%2Fb"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/amplifier/x?cid=5", "https://example.com/amplifier/x?cid=5"),
    ],
)
def test_canonical_forms(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    st.from_regex(r"[A-Za-z0-9]{1,10}\.(com|org)", fullmatch=True),
    st.lists(st.text(alphabet="abcXYZ019-._~%/é ", max_size=8), max_size=4),
    st.dictionaries(st.sampled_from(["id", "p", "utm_medium", "fbclid", "q"]), st.text(max_size=5)),
)
def test_canonicalize_is_idempotent(scheme: str, host: str, segments: list[str], query: dict[str, str]) -> None:
    from urllib.parse import urlencode

    url = f"{scheme}://{host}/{'/'.join(segments)}?{urlencode(query)}"
    once = canonicalize(url)
    assert canonicalize(once) == once
    assert "utm_" not in once and "fbclid" not in once


def test_per_host_concurrency_is_never_exceeded(faults: FaultServer, fetch_config: FetchConfig) -> None:
    in_flight, peak = 0, 0
    original = faults.routes["/article/*"]

    async def counting(req, w):  # type: ignore[no-untyped-def]
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return await original(req, w)

    faults.routes["/article/*"] = counting
    config = fetch_config.model_copy(update={"per_host_concurrency": 2, "concurrency": 16})

    async def run() -> None:
        async with Fetcher(config) as fetcher:
            await asyncio.gather(*(fetcher.fetch(faults.url(f"/article/{n}")) for n in range(20)))

    asyncio.run(run())
    assert faults.hits.total() - faults.hits["/robots.txt"] == 20
    assert peak == 2


def test_crawl_delay_spaces_requests(
    faults: FaultServer, fetch_config: FetchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """robots.txt Crawl-delay: 3 becomes the host's gap; the waits asked for add up to it."""
    faults.robots = "User-agent: *\nCrawl-delay: 3\n"
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(politeness.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(politeness.time, "monotonic", lambda: 1000.0)  # frozen clock: waits add up

    async def run() -> float:
        async with Fetcher(fetch_config) as fetcher:
            for n in range(3):
                await fetcher.fetch(faults.url(f"/article/{n}"))
            return fetcher.budget.delay_of(f"127.0.0.1:{faults.port}")

    assert asyncio.run(run()) == 3.0
    assert waits == [3.0, 6.0]  # 2nd and 3rd request wait for their slot; the clock never moved
