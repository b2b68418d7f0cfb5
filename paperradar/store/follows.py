"""Follows and private feed tokens."""

from __future__ import annotations

from .connection import SQLiteBase


class FollowTables(SQLiteBase):
    """Follows and private feed tokens."""
