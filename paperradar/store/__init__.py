"""The store: one record per paper, merged across sources, and every table beside it.

:func:`open_store` picks the backend from the location: a file path or
``sqlite:///`` URL opens SQLite (the default, zero setup); a ``postgresql://``
(or ``postgres://``) URL opens :class:`~.postgres.PostgresStore` (imported only
then, so the SQLite path never loads psycopg). All SQL lives in this package;
the rest of paperradar sees :class:`Store`.
"""

from __future__ import annotations

from .base import DuplicateUser, Filters, MergeResult, StorageFault, Store, StoredPaper, StoreError, User
from .sqlite import SQLiteStore

__all__ = ["DuplicateUser", "Filters", "MergeResult", "SQLiteStore", "StorageFault", "Store", "StoreError",
           "StoredPaper", "User", "on_server", "open_store"]

SERVER_SCHEMES = ("postgresql://", "postgres://")


def on_server(location: str | None) -> bool:
    """Whether ``location`` names a PostgreSQL database (a URL) rather than a SQLite file."""
    return bool(location) and location.startswith(SERVER_SCHEMES)  # type: ignore[union-attr]


def open_store(location: str) -> Store:
    """The store at ``location``: a SQLite file path or ``sqlite:///`` URL, or a PostgreSQL URL."""
    if on_server(location):
        from .postgres import PostgresStore

        return PostgresStore(location)  # type: ignore[return-value]
    if location.startswith("sqlite:///"):
        location = location[len("sqlite:///") :]  # sqlite:////abs/path keeps its leading slash
    elif "://" in location:
        raise StoreError(f"unsupported database URL: {location}")
    return SQLiteStore(location)
