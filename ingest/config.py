"""Configuration: one TOML file plus environment overrides, validated up front.

Lookup order for the file: ``--config PATH``, then ``$INGEST_CONFIG``, then
``./ingest.toml`` if it exists; with none of them the built-in defaults apply
(a SQLite database in the user's data folder and no sources).  Environment
variables override the file: ``INGEST_DATABASE_URL`` first, and
``INGEST_<SECTION>__<KEY>`` for any other scalar (e.g. ``INGEST_FETCH__CONCURRENCY=8``).

Every problem is reported as one :class:`~ingest.errors.ConfigError` whose
message names the key, e.g. ``sources[1].schedule: '5 parsecs' is not ...``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingest.api.settings import ApiSettings
from ingest.dedup.settings import DedupSettings
from ingest.errors import ConfigError

_INTERVAL_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_INTERVAL_UNITS = (86400, 3600, 60, 1)


def parse_interval(value: str) -> int:
    """``'1h30m'`` -> 5400 seconds.  Raises ``ValueError`` for anything else."""
    match = _INTERVAL_RE.match(value.strip().lower())
    if not value.strip() or not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not an interval like '15m', '1h30m' or '90s'")
    seconds = sum(int(g) * unit for g, unit in zip(match.groups(), _INTERVAL_UNITS, strict=True) if g)
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return seconds


def is_cron(value: str) -> bool:
    return len(value.split()) == 5


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "news-ingest"


def default_database_url(env: Mapping[str, str] | None = None) -> str:
    return f"sqlite:///{default_data_dir(env) / 'ingest.db'}"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: str = Field(default_factory=default_database_url)
    echo: bool = False


class FetchConfig(_Section):
    """How the crawler talks HTTP; passed down explicitly to the fetcher."""

    user_agent: str = "news-ingest/0.1 (+https://github.com/news-ingest/news-ingest)"
    concurrency: Annotated[int, Field(ge=1, le=1000)] = 16
    per_host_concurrency: Annotated[int, Field(ge=1, le=64)] = 2
    per_host_delay: Annotated[float, Field(ge=0, le=600)] = 1.0
    connect_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    read_timeout: Annotated[float, Field(gt=0, le=600)] = 20.0
    total_timeout: Annotated[float, Field(gt=0, le=3600)] = 60.0
    max_body_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=50)] = 10
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    obey_robots: bool = True
    http2: bool = True
    max_articles_per_run: Annotated[int, Field(ge=1)] = 500
    extract_workers: Annotated[int, Field(ge=0, le=64)] = 1  # extraction processes; 0 = in the crawler
    event_loop: Literal["auto", "uvloop", "asyncio"] = "auto"  # see ingest/eventloop.py


class SourceConfig(_Section):
    """A news source: where to discover its articles and how often."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
    feeds: list[str] = Field(default_factory=list)
    sitemaps: list[str] = Field(default_factory=list)
    robots_sitemaps: bool = False
    start_urls: list[str] = Field(default_factory=list)
    link_pattern: str | None = None
    schedule: str = "30m"
    rules: str | None = None
    language: str | None = None
    enabled: bool = True

    @field_validator("feeds", "sitemaps", "start_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("link_pattern")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
        return pattern

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, schedule: str) -> str:
        if is_cron(schedule):
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(schedule)
            except ValueError as exc:
                raise ValueError(f"{schedule!r} is not a valid cron expression: {exc}") from exc
        else:
            parse_interval(schedule)
        return schedule

    @model_validator(mode="after")
    def _has_entry_point(self) -> SourceConfig:
        if not self.feeds and not self.start_urls and not self.sitemaps:
            raise ValueError("a source needs at least one of 'feeds', 'sitemaps' or 'start_urls'")
        if self.start_urls and not self.link_pattern:
            raise ValueError("'start_urls' (listing pages) need a 'link_pattern'")
        return self


class DaemonConfig(_Section):
    jitter_seconds: Annotated[float, Field(ge=0)] = 30.0
    misfire_grace_seconds: Annotated[int, Field(ge=1)] = 300
    shutdown_grace_seconds: Annotated[float, Field(ge=0)] = 20.0
    lease_seconds: Annotated[int, Field(ge=10)] = 600
    # a database not reachable yet at start (booting with the daemon) is waited for this long
    startup_wait_seconds: Annotated[float, Field(ge=0, le=3600)] = 60.0
    # liveness, manual requests and scale-out (see ingest/daemon.py)
    heartbeat_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    poll_seconds: Annotated[float, Field(gt=0, le=600)] = 2.0
    max_concurrent_sources: Annotated[int, Field(ge=1, le=1000)] = 8
    # adaptive recrawl (see ingest/adaptive.py): bounds relative to each source's schedule
    adaptive: bool = True
    min_interval_factor: Annotated[float, Field(gt=0, le=1)] = 0.25
    max_interval_factor: Annotated[float, Field(ge=1)] = 8.0
    failure_limit: Annotated[int, Field(ge=1)] = 8
    max_backoff_seconds: Annotated[float, Field(gt=0)] = 6 * 3600.0
    # observability
    metrics_port: Annotated[int | None, Field(ge=0, le=65535)] = None
    metrics_host: str = "127.0.0.1"
    log_json: bool = False


class Config(_Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    sources: list[SourceConfig] = Field(default_factory=list)
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for src in self.sources:
            if src.name in seen:
                raise ValueError(f"source name {src.name!r} is declared twice")
            seen.add(src.name)
        return self

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"unknown source {name!r} (known: {known})")


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _first_error(exc: ValidationError, origin: str) -> ConfigError:
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = _location(loc)
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return ConfigError(f"{origin}: {key}: {msg}{suffix}")


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if not name.startswith("INGEST_") or "__" not in name:
            continue
        section, _, key = name[len("INGEST_") :].partition("__")
        if section and key:
            out.setdefault(section.lower(), {})[key.lower()] = value
    if env.get("INGEST_DATABASE_URL"):
        out.setdefault("database", {})["url"] = env["INGEST_DATABASE_URL"]
    return out


def find_config_file(explicit: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    if env.get("INGEST_CONFIG"):
        return Path(env["INGEST_CONFIG"])
    local = Path("ingest.toml")
    return local if local.is_file() else None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration; raise :class:`ConfigError` on any problem."""
    env = os.environ if env is None else env
    file = find_config_file(path, env)
    data: dict[str, Any] = {}
    origin = "defaults"
    if file is not None:
        origin = str(file)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read config file: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    for section, values in _env_overrides(env).items():
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"{origin}: {section}: must be a table")
        target.update(values)
    database = data.setdefault("database", {})
    if isinstance(database, dict) and "url" not in database:
        database["url"] = default_database_url(env)
    return config_from_dict(data, origin=origin, path=file)


def config_from_dict(
    data: Mapping[str, Any], *, origin: str = "config", path: Path | None = None
) -> Config:
    try:
        config = Config.model_validate(dict(data))
    except ValidationError as exc:
        raise _first_error(exc, origin) from None
    return config.model_copy(update={"path": path})


