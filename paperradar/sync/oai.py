"""arXiv OAI-PMH harvesting (ListRecords), resumable page by page.

A harvest is keyed by (base URL, set, metadataPrefix, from, until). After
each page is imported its resumption token is stored, so a harvest that is
killed or fails goes on from the next page when the same harvest is asked
for again. Resumption tokens expire: when the server answers
``badResumptionToken`` to a stored token, the harvest restarts from its
from-date (re-imported pages merge as "unchanged") and the run says so.

Without a from-date a harvest is incremental: it starts on the day the last
finished open-ended harvest of the same set started (then the configured
``from``, else the whole set).
"""

from __future__ import annotations

import logging
from typing import Any

from ..sources.arxiv_xml import OaiError, oai_resumption
from .run import Run, SyncContext, SyncFailed, checked, execute

SOURCE = "arxiv-oai"
FORMAT = "arxiv-oai"

log = logging.getLogger("paperradar.sync")


def sync(ctx: SyncContext, set_spec: str | None, from_date: str | None = None, until_date: str | None = None,
         metadata_prefix: str | None = None) -> dict[str, Any]:
    """Harvest one set (None: all of arXiv) as one recorded run; returns its report."""
    settings = ctx.config.arxiv_oai
    prefix = metadata_prefix or settings.metadata_prefix
    incremental = from_date is None
    if incremental:
        from_date = _next_from(ctx, set_spec or "", prefix)
    request = {"set": set_spec, "from": from_date, "until": until_date, "metadata_prefix": prefix}
    return execute(ctx, SOURCE, request,
                   lambda run: _harvest(ctx, run, set_spec or "", prefix, from_date or "", until_date or ""))


def _next_from(ctx: SyncContext, set_spec: str, prefix: str) -> str | None:
    started = ctx.store.last_open_ended_start(ctx.config.arxiv_oai.base_url, set_spec, prefix)
    return started[:10] if started else ctx.config.arxiv_oai.from_date


def _harvest(ctx: SyncContext, run: Run, set_spec: str, prefix: str, from_date: str, until_date: str) -> None:
    settings = ctx.config.arxiv_oai
    harvest = ctx.store.open_harvest(settings.base_url, set_spec, prefix, from_date, until_date)
    if harvest.token:
        run.note(f"resuming an interrupted harvest at page {harvest.pages + 1} "
                 f"({harvest.records} records already imported)")
    elif not from_date:
        log.info("%s: no from date: harvesting the whole %s", SOURCE, f"set {set_spec}" if set_spec else "archive")
    restarted = False
    while True:
        used = harvest.token
        if used:
            params = {"verb": "ListRecords", "resumptionToken": used}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": prefix}
            params.update({k: v for k, v in (("set", set_spec), ("from", from_date), ("until", until_date)) if v})
        ctx.checkpoint()
        try:
            response = ctx.client.get(settings.base_url, params, delay=settings.delay, check=checked(FORMAT))
        except OaiError as exc:
            if exc.code == "badResumptionToken" and used and not restarted:
                restarted = True
                run.note(f"the server no longer accepts the stored resumption token (badResumptionToken); "
                         f"restarting the harvest from {from_date or 'the beginning'}")
                ctx.store.restart_harvest(harvest)
                continue
            raise SyncFailed(str(exc)) from exc
        resumption = oai_resumption(response.body)
        if resumption.token is not None and resumption.token == used:
            raise SyncFailed(f"the server sent the same resumption token again ({used}); stopping")
        run.import_page(response, FORMAT, harvest, resumption.token, resumption.complete_list_size)
        if resumption.token is None:
            return
