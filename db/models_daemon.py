"""Models the daemon keeps beyond ``sources``: filled in by the daemon work (issue 6)."""

from __future__ import annotations
