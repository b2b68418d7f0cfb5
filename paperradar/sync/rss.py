"""arXiv's daily listings (rss.arxiv.org): one feed for any number of categories.

rss.arxiv.org joins categories with "+" in one URL (``/rss/cs.CL+cs.LG``),
so one request covers them all. The ``/atom`` variant of the same service
works too (set ``base_url``); the parser reads both. A feed with no items is
normal on days arXiv announces nothing (weekends, holidays), and the run
says so rather than failing.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from .run import Run, SyncContext, checked, execute

SOURCE = "arxiv-rss"
FORMAT = "arxiv-rss"


def sync(ctx: SyncContext, categories: list[str]) -> dict[str, Any]:
    """Fetch today's listing of ``categories`` as one recorded run."""
    return execute(ctx, SOURCE, {"categories": categories}, lambda run: _fetch(ctx, run, categories))


def _fetch(ctx: SyncContext, run: Run, categories: list[str]) -> None:
    settings = ctx.config.arxiv_rss
    path = "+".join(urllib.parse.quote(c.strip(), safe=".-") for c in categories)
    ctx.checkpoint()
    response = ctx.client.get(f"{settings.base_url}/{path}", delay=settings.delay, check=checked(FORMAT))
    summary = run.import_page(response, FORMAT)
    if not sum(i.records for i in summary.inputs):
        run.note("the listing has no papers (arXiv announces none on weekends and holidays)")
