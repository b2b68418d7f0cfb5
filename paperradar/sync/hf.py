"""Hugging Face Daily Papers (``/api/daily_papers?date=``), one request per day.

Upvotes keep moving for days after a paper is listed, so syncing a day
again is how counts are refreshed: the store keeps the newest observation
per site. The day is in the request URL, which the parser reads as the
listing day and the day the counts were observed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .run import Run, SyncContext, checked, execute

SOURCE = "hf-daily"
FORMAT = "hf-daily"


def sync(ctx: SyncContext, first: date, last: date) -> dict[str, Any]:
    """Fetch every day from ``first`` to ``last`` (inclusive) as one recorded run."""
    request = {"since": first.isoformat(), "until": last.isoformat()} if first != last else {"date": first.isoformat()}
    return execute(ctx, SOURCE, request, lambda run: _fetch(ctx, run, first, last))


def _fetch(ctx: SyncContext, run: Run, first: date, last: date) -> None:
    settings = ctx.config.hf_daily
    for n in range((last - first).days + 1):  # counted, not stepped: a step past 9999-12-31 overflows
        day = first + timedelta(days=n)
        params = {"date": day.isoformat(), "limit": str(settings.limit)}
        ctx.checkpoint()
        response = ctx.client.get(settings.base_url, params, delay=settings.delay, check=checked(FORMAT))
        summary = run.import_page(response, FORMAT)
        if sum(i.records for i in summary.inputs) >= settings.limit:
            run.note(f"{day}: {settings.limit} papers, the request limit; some may be missing")
