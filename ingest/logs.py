"""The daemon's log line formats: ``key=value`` text, or one JSON object a line.

Kept apart from :mod:`ingest.daemon` so that ``ingest run`` can switch to JSON
(``daemon.log_json``) before importing the daemon: its imports (alembic's) log
too, and a JSON log pipeline wants every line as JSON.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


def logfmt(fields: dict[str, Any]) -> str:
    """``key=value`` pairs, values quoted when they contain spaces: one grep-able line."""
    parts = []
    for key, value in fields.items():
        text = "-" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f"{key}={json.dumps(text) if (' ' in text or '=' in text) else text}")
    return " ".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per log line (``daemon.log_json``), with a run's fields as keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["msg"] = record.getMessage()
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def use_json_lines() -> None:
    """Every handler of the root logger writes JSON from now on."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())
