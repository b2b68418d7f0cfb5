"""The arXiv API (export.arxiv.org/api/query): papers by id, or the newest for a query.

Ids go 100 to a request; the API simply leaves out ids it does not know,
so the run notes which ones did not come back. A query is paged newest
first (``sortBy=submittedDate``) up to ``max_results`` papers. A malformed
id or query gets the API's error feed (HTTP 400), whose message ends the
run.
"""

from __future__ import annotations

import io
from typing import Any

from ..ids import parse_arxiv_id
from ..model import FormatError, Paper
from ..sources.arxiv_xml import ArxivApiError, parse_api
from .http import HttpStatusError, Response
from .run import Run, SyncContext, SyncFailed, checked, execute

SOURCE = "arxiv-api"
FORMAT = "arxiv-api"
IDS_PER_REQUEST = 100


def sync_ids(ctx: SyncContext, ids: list[str]) -> dict[str, Any]:
    """Fetch papers by arXiv id (any form: 2506.01234, 2506.01234v2, URLs) as one run."""
    wanted = list(dict.fromkeys(_request_id(i) for i in ids))
    return execute(ctx, SOURCE, {"ids": wanted}, lambda run: _fetch_ids(ctx, run, wanted))


def sync_query(ctx: SyncContext, query: str, max_results: int | None = None) -> dict[str, Any]:
    """Fetch the newest ``max_results`` papers matching an API query as one run."""
    limit = max_results or ctx.config.arxiv_api.max_results
    return execute(ctx, SOURCE, {"query": query, "max_results": limit},
                   lambda run: _fetch_query(ctx, run, query, limit))


def _fetch_ids(ctx: SyncContext, run: Run, ids: list[str]) -> None:
    missing: list[str] = []
    for i in range(0, len(ids), IDS_PER_REQUEST):
        chunk = ids[i : i + IDS_PER_REQUEST]
        response = _get(ctx, {"id_list": ",".join(chunk), "max_results": str(len(chunk))})
        run.import_page(response, FORMAT)
        found = {record.id for _, record in parse_api(io.BytesIO(response.body), response.url)
                 if isinstance(record, Paper)}
        missing += [x for x in chunk if _key(x) not in found]
    if missing:
        run.note(f"not found on arXiv: {', '.join(missing)}")


def _fetch_query(ctx: SyncContext, run: Run, query: str, limit: int) -> None:
    page_size = ctx.config.arxiv_api.page_size
    start = 0
    while start < limit:
        size = min(page_size, limit - start)
        response = _get(ctx, {"search_query": query, "start": str(start), "max_results": str(size),
                              "sortBy": "submittedDate", "sortOrder": "descending"})
        summary = run.import_page(response, FORMAT)
        got = sum(i.records for i in summary.inputs)
        start += got
        if got < size:  # the last page (or no results at all)
            break


def _get(ctx: SyncContext, params: dict[str, str]) -> Response:
    settings = ctx.config.arxiv_api
    ctx.checkpoint()
    try:
        return ctx.client.get(settings.base_url, params, delay=settings.delay, check=checked(FORMAT))
    except HttpStatusError as exc:
        raise SyncFailed(_error_feed_message(exc.body) or str(exc)) from exc


def _error_feed_message(body: bytes) -> str | None:
    """The message of the API's error feed (sent with HTTP 400), if the body is one."""
    try:
        for _ in parse_api(io.BytesIO(body), ""):
            pass
    except ArxivApiError as exc:
        return str(exc)
    except FormatError:
        return None
    return None


def _request_id(text: str) -> str:
    """The id as the API wants it: wrappers (URLs, ``arXiv:``) removed, version kept."""
    parsed = parse_arxiv_id(text)
    if parsed is None:
        return text.strip()  # let the API say what is wrong with it
    base, version = parsed
    return f"{base}v{version}" if version else base


def _key(request_id: str) -> str:
    parsed = parse_arxiv_id(request_id)
    return parsed[0] if parsed else request_id
