"""The event loop crawls run on: uvloop where it is installed, asyncio's own otherwise.

The crawler's main process is bound by one core (the event loop and the store
writer share the GIL); uvloop's I/O costs it about 10-15 % less CPU per article
in ``bench/crawl_bench.py`` (2.5 against 2.7-3.0 ms on SQLite).  ``fetch.event_loop``
picks: ``auto`` (uvloop when importable), ``uvloop`` (an error without it) or
``asyncio``.  ``ingest fetch``, ``ingest run``, the demo and the API's background
crawls all start their loop here.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ingest.config import Config
from ingest.errors import ConfigError

T = TypeVar("T")


def loop_factory(config: Config) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """A factory for the configured loop, or ``None`` for asyncio's default."""
    choice = config.fetch.event_loop
    if choice == "asyncio":
        return None
    if importlib.util.find_spec("uvloop") is None:
        if choice == "uvloop":
            raise ConfigError("fetch.event_loop: 'uvloop' is not installed (pip install uvloop, or use 'auto')")
        return None
    import uvloop

    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(config: Config, main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the configured loop."""
    try:
        factory = loop_factory(config)
    except ConfigError:
        main.close()  # never started: no "coroutine was never awaited" warning
        raise
    if factory is None:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
