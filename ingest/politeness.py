"""Per-host politeness shared by every crawl in one process (daemon or manual).

Each host gets a concurrency slot count and a minimum gap between request
starts; ``Retry-After`` and robots.txt ``Crawl-delay`` widen the gap and are
remembered.  Many hosts proceed in parallel; each one stays polite.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _HostState:
    slots: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    blocked_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HostBudget:
    """Concurrency and delay budget per host."""

    def __init__(self, per_host_concurrency: int, per_host_delay: float) -> None:
        self._concurrency = per_host_concurrency
        self._delay = per_host_delay
        self._hosts: dict[str, _HostState] = {}

    def _state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            state = _HostState(asyncio.Semaphore(self._concurrency), self._delay)
            self._hosts[host] = state
        return state

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        state = self._state(host)
        state.delay = max(self._delay, min(seconds, 120.0))

    def back_off(self, host: str, seconds: float) -> None:
        """Remember a ``Retry-After``: no request to ``host`` starts before it passes."""
        state = self._state(host)
        state.blocked_until = max(state.blocked_until, time.monotonic() + min(seconds, 3600.0))

    def blocked_for(self, host: str) -> float:
        return max(0.0, self._state(host).blocked_until - time.monotonic())

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        state = self._state(host)
        async with state.slots:
            async with state.lock:
                now = time.monotonic()
                start = max(now, state.next_start, state.blocked_until)
                state.next_start = start + state.delay
            if start > now:
                await asyncio.sleep(start - now)
            yield
