"""``sync --all`` (everything the config file lists) and ``sync status``.

Each source, and each set, query or listing of it, is its own run: one that
fails is recorded as failed and the others still run.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from ..store import Store
from . import arxiv_api, hf, oai, rss
from .config import SOURCES
from .run import SyncContext


def sync_all(ctx: SyncContext) -> list[dict[str, Any]]:
    """Run every source in ``config.sources``, in order; returns one report per run."""
    config = ctx.config
    reports: list[dict[str, Any]] = []
    for source in config.sources:
        if source == oai.SOURCE:
            for set_spec in config.arxiv_oai.sets:
                reports.append(oai.sync(ctx, set_spec))
        elif source == arxiv_api.SOURCE:
            for query in config.arxiv_api.queries:
                reports.append(arxiv_api.sync_query(ctx, query))
        elif source == rss.SOURCE:
            if config.arxiv_rss.categories:
                reports.append(rss.sync(ctx, config.arxiv_rss.categories))
        elif source == hf.SOURCE:
            today = datetime.now(timezone.utc).date()
            reports.append(hf.sync(ctx, today - timedelta(days=config.hf_daily.days - 1), today))
    return reports


def status(store: Store) -> dict[str, Any]:
    """The last run of every source (None if it never ran) and the harvests a run would resume."""
    last = store.last_sync_runs()
    return {
        "sources": {source: last.get(source) for source in SOURCES},
        "open_harvests": [h.as_json() for h in store.open_harvests()],
    }
