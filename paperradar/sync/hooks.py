"""What happens to papers right after a sync imported them.

:func:`import_bytes` already keeps the keyword index current, so there is
nothing more to do yet. The semantic engine will embed the new and changed
papers here (the rows whose ``seq`` its index has not reached), so that papers
a sync brings are searchable by meaning as soon as their page is stored.
"""

from __future__ import annotations

from ..importer import ImportSummary
from ..store import SQLiteStore


def after_import(store: SQLiteStore, summary: ImportSummary) -> None:
    """Called once after every page a sync client imports (even an unchanged one)."""
    return None
