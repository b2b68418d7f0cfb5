"""What happens to papers right after a sync imported them.

:func:`import_bytes` already keeps the keyword index current; here the new
and changed papers of the page are embedded, so papers a sync brings are
searchable by meaning as soon as their page is stored. The saved vector
index is rewritten only once enough has changed (searches see the rest
through the store's vector log), so a long harvest does not rewrite it page
after page.
"""

from __future__ import annotations

import logging

from ..importer import ImportSummary
from ..store import SQLiteStore

log = logging.getLogger("paperradar.sync")

INDEX_EVERY = 5000  # vector changes that make a sync rewrite the saved vector index


def after_import(store: SQLiteStore, summary: ImportSummary, embed: bool = True) -> None:
    """Called once after every page a sync client imports (even an unchanged one)."""
    if not embed or not (summary.new or summary.updated):
        return
    from ..index.embed import embed_pending

    report = embed_pending(store, index_after=INDEX_EVERY)
    if report.embedded:
        log.info("embedded %d papers in %.1fs", report.embedded, report.seconds)
