"""What every CLI module shares: the loaded config, the consoles, small parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ingest import render
from ingest.config import Config, load_config
from ingest.errors import ConfigError

out = render.console()
err = render.console(stderr=True)


@dataclass
class State:
    """The ``--config`` given on the command line; the config is loaded on first use."""

    config_path: Path | None = None
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def reset(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config = None


STATE = State()


def parse_date(value: str | None, name: str) -> datetime | None:
    """An ISO date or datetime from an option; naive values are taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--{name}: {value!r} is not a date like 2025-09-10") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def progress_bar() -> Progress:
    """A progress bar on stderr, shown only on a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
