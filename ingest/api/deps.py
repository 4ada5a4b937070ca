"""FastAPI dependencies: the app's database session, config and settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ingest.config import Config


def get_session(request: Request) -> Iterator[Session]:
    """A read-only (autocommit) session per request, closed afterwards."""
    with request.app.state.read_sessions() as session:
        yield session


def get_config(request: Request) -> Config:
    config: Config = request.app.state.config
    return config


DbSession = Annotated[Session, Depends(get_session)]
AppConfig = Annotated[Config, Depends(get_config)]
