"""Building the API over a seeded archive for tests."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ingest.api.app import create_app
from ingest.api.settings import ApiSettings
from ingest.config import Config, config_from_dict
from ingest.services import Database

from .seed import Archive

TOKEN = "test-token-0123456789"


def config_for(url: str, **extra: Any) -> Config:
    return config_from_dict(
        {
            "database": {"url": url},
            "sources": [
                {"name": "dawn", "feeds": ["https://dawn.example/rss"]},
                {"name": "quiet", "feeds": ["https://quiet.example/rss"], "enabled": False},
            ],
            **extra,
        }
    )


def app_for(arch: Archive, *, token: str | None = None) -> FastAPI:
    url = arch.engine.url.render_as_string(hide_password=False)
    database = Database(arch.engine, arch.sessions)
    return create_app(config_for(url), database, settings=ApiSettings(token=token))
