"""Per-host politeness shared by every crawl in one process (daemon or manual).

Each host gets a concurrency slot count and a minimum gap between request
starts; ``Retry-After`` and robots.txt ``Crawl-delay`` widen the gap and are
remembered for the life of the process.  Many hosts proceed in parallel; each
one stays polite.  A request that would have to wait longer than its caller
allows fails fast with :class:`HostBackingOff` instead of sleeping in a queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

MAX_CRAWL_DELAY = 120.0
MAX_BACK_OFF = 3600.0


class HostBackingOff(Exception):
    """The host asked us to wait (``Retry-After``) longer than the caller may wait."""

    def __init__(self, host: str, seconds: float) -> None:
        super().__init__(f"{host} asked us to wait {seconds:.0f}s more (Retry-After)")
        self.host = host
        self.seconds = seconds


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
        """Honour robots.txt ``Crawl-delay`` (never below the configured delay, capped)."""
        state = self._state(host)
        state.delay = max(self._delay, min(seconds, MAX_CRAWL_DELAY))

    def delay_of(self, host: str) -> float:
        return self._state(host).delay

    def back_off(self, host: str, seconds: float) -> None:
        """Remember a ``Retry-After``: no request to ``host`` starts before it passes."""
        state = self._state(host)
        state.blocked_until = max(state.blocked_until, time.monotonic() + min(seconds, MAX_BACK_OFF))

    def blocked_for(self, host: str) -> float:
        return max(0.0, self._state(host).blocked_until - time.monotonic())

    @asynccontextmanager
    async def slot(self, host: str, *, max_wait: float | None = None) -> AsyncIterator[None]:
        """Hold one of ``host``'s slots, started no sooner than its delay and back-off allow.

        Raises :class:`HostBackingOff` when the host's back-off exceeds ``max_wait``.
        """
        state = self._state(host)
        async with state.slots:
            async with state.lock:
                now = time.monotonic()
                if max_wait is not None and state.blocked_until - now > max_wait:
                    raise HostBackingOff(host, state.blocked_until - now)
                start = max(now, state.next_start, state.blocked_until)
                state.next_start = start + state.delay
            if start > now:
                await asyncio.sleep(start - now)
            yield
