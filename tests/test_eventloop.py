"""The crawl's event loop: uvloop where installed, asyncio's own on request or without it."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from ingest import eventloop
from ingest.config import config_from_dict
from ingest.errors import ConfigError


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_auto_runs_on_uvloop_when_installed() -> None:
    pytest.importorskip("uvloop")
    assert eventloop.run(config_from_dict({}), _loop_module()).startswith("uvloop")


def test_asyncio_is_asyncios_own_loop() -> None:
    config = config_from_dict({"fetch": {"event_loop": "asyncio"}})
    assert eventloop.run(config, _loop_module()).startswith("asyncio")


def test_auto_falls_back_and_uvloop_insists_when_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvloop" else real(name, *a))
    assert eventloop.run(config_from_dict({}), _loop_module()).startswith("asyncio")
    with pytest.raises(ConfigError, match=r"fetch\.event_loop: 'uvloop' is not installed"):
        eventloop.run(config_from_dict({"fetch": {"event_loop": "uvloop"}}), _loop_module())


def test_an_unknown_loop_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"fetch\.event_loop"):
        config_from_dict({"fetch": {"event_loop": "trio"}})
