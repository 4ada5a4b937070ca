"""Fixtures for crawler tests: the fault server and small fetch configs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultserver import FaultServer, warm_up

from ingest.config import FetchConfig


@pytest.fixture(scope="session")
def _warm_fault_server() -> None:
    warm_up()


@pytest.fixture
def faults(_warm_fault_server: None) -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def fetch_config() -> FetchConfig:
    """Tight limits so every fault ends quickly: 1 MB cap, 2 s total, 0.5 s read."""
    return FetchConfig(
        user_agent="news-ingest-tests/1.0",
        concurrency=8,
        per_host_concurrency=4,
        per_host_delay=0,
        connect_timeout=1,
        read_timeout=0.5,
        total_timeout=2,
        max_body_bytes=1024 * 1024,
        max_redirects=5,
        retries=1,
    )
