"""Models for full-text search and query support: filled in by the query work (issue 7)."""

from __future__ import annotations
