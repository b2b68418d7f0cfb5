"""About the site itself: ``/api`` (the API described for people), ``/api/stats``, ``/robots.txt``.
The machine description is FastAPI's ``/openapi.json``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from . import schemas
from .common import JSON, radar_of, render

router = APIRouter()


@router.get("/api", include_in_schema=False)
def api_page(request: Request) -> Response:
    routes = []
    for route in request.app.openapi()["paths"].items():
        path, methods = route
        for method, op in methods.items():
            routes.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                           "description": op.get("description", "")})
    return render(request, "api.html", routes=routes, title="API", json_url="/openapi.json")


@router.get("/api/stats", tags=["meta"], summary="Counts: papers, by source and category, date range",
            response_model=schemas.Stats)
def stats_api(request: Request) -> Response:
    """The store's counts, and while ``serve --embed`` works, how far it is (``embedding``, else null):
    the share of papers semantic search covers, the phase, papers done and to do, seconds left."""
    radar = radar_of(request)
    return JSON({**radar.store.stats(), "embedding": radar.embedding_progress()})


@router.get("/robots.txt", include_in_schema=False)
def robots() -> Response:
    return PlainTextResponse("User-agent: *\nDisallow: /api/\nDisallow: /feeds/\nDisallow: /search\n")
