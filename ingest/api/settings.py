"""The ``[api]`` section of the config: where ``ingest serve`` listens and the write token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # ingest.config will import ApiSettings from here
    from ingest.config import Config


class ApiSettings(BaseModel):
    """``token`` guards the write endpoints (``POST``); without one they are disabled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    token: Annotated[str | None, Field(min_length=16)] = None


def api_settings(config: Config) -> ApiSettings:
    """The config's ``api`` section, or the defaults while ``Config`` has no such field."""
    value = getattr(config, "api", None)
    return value if isinstance(value, ApiSettings) else ApiSettings()
