"""Exceptions of the ``db`` package::

    DatabaseError
    ├── DatabaseUnavailable   the database cannot be reached (bad host, server down, bad path)
    ├── MigrationError        the schema could not be brought to the current revision
    └── NotFound              a row asked for by id or name does not exist
"""


class DatabaseError(Exception):
    """Base class of every error raised by ``db``."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached or opened.

    ``transient``: the server may answer soon (connection refused or timed out, a
    server starting up or over its connection limit), as opposed to a bad URL, a
    missing database or a rejected login, which waiting does not fix.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class MigrationError(DatabaseError):
    """Alembic could not upgrade the schema."""


class NotFound(DatabaseError):
    """No row matches the given key."""
