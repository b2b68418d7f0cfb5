"""Comments on papers."""

from __future__ import annotations

from .connection import SQLiteBase


class CommentTable(SQLiteBase):
    """Comments on papers."""
