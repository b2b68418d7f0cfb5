"""The store: one record per paper, merged across sources.

:func:`open_store` picks the backend from the location: a file path or
``sqlite:///`` URL opens SQLite (the default, zero setup). PostgreSQL URLs
are recognised so users get a clear message until that backend lands.
"""

from __future__ import annotations

from .sqlite import MergeResult, SearchFilters, SQLiteStore

__all__ = ["MergeResult", "SearchFilters", "SQLiteStore", "StoreError", "open_store"]


class StoreError(Exception):
    """The database cannot be opened as asked."""


def open_store(location: str) -> SQLiteStore:
    if location.startswith(("postgresql://", "postgres://")):
        raise StoreError("PostgreSQL is not supported yet; use a SQLite file path for --db")
    if location.startswith("sqlite:///"):
        location = location[len("sqlite:///") :]  # sqlite:////abs/path keeps its leading slash
    elif "://" in location:
        raise StoreError(f"unsupported database URL: {location}")
    return SQLiteStore(location)
