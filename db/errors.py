"""Exceptions of the ``db`` package::

    DatabaseError
    ├── DatabaseUnavailable   the database cannot be reached (bad host, server down, bad path)
    ├── MigrationError        the schema could not be brought to the current revision
    └── NotFound              a row asked for by id or name does not exist
"""


class DatabaseError(Exception):
    """Base class of every error raised by ``db``."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached or opened."""


class MigrationError(DatabaseError):
    """Alembic could not upgrade the schema."""


class NotFound(DatabaseError):
    """No row matches the given key."""
