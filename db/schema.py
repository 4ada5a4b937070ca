"""The whole schema: imports every model module so ``metadata`` knows every table.

Alembic's ``env.py`` and the schema tests use :data:`metadata` from here;
model modules beyond the core (``db.models``) register themselves on import.
"""

from __future__ import annotations

from db import models, models_daemon, models_search
from db.models import Base

metadata = Base.metadata

__all__ = ["metadata", "models", "models_daemon", "models_search"]
