"""While `serve --embed` works, the site says how far it is: /api/stats, and notices on search and paper pages."""

from __future__ import annotations

import json
import time

from web_fixtures import Server, embedded_ids, on_postgresql


def test_serve_embed_reports_progress_on_stats_search_and_paper_pages(web_copy, web_store) -> None:
    """On each backend: ``serve --embed`` over a private copy of the web slice (a file, or a PostgreSQL clone);
    on PostgreSQL stopped once the progress is seen."""
    # the last paper in embedding order (rowid): still without a vector while the first batches are done
    lacking = web_store.conn.execute("SELECT id FROM papers ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    assert lacking not in set(embedded_ids(web_store))
    server = Server(web_copy, "--embed")
    try:
        seen = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, _, body = server.get("/api/stats")
            progress = json.loads(body)["embedding"]
            if status == 200 and progress and progress["phase"] == "documents" and progress["phase_done"]:
                seen = progress
                search = server.get("/search?q=language+models")[2].decode()
                paper = server.get(f"/papers/{lacking}")[2].decode()
                break
            time.sleep(0.2)
        assert seen is not None, "no progress was reported while embedding"
        assert 0 < seen["covered"] < 1 and seen["embedded"] < seen["papers"]
        assert seen["phase_total"] >= seen["phase_done"] > 0 and seen["eta_seconds"] is not None
        assert "Semantic search covers" in search and "of papers for now" in search
        assert "Semantic search covers" in paper
        assert "Similar papers are being computed" in paper
        if on_postgresql(web_store):  # how it ends is the same code on both (minutes of embedding): stop it midway
            return  # (``finally``: Ctrl-C while embedding, exit 0)
        while time.monotonic() < deadline + 240:  # then it ends, and says so
            if json.loads(server.get("/api/stats")[2])["embedding"] is None:
                break
            time.sleep(0.5)
        assert json.loads(server.get("/api/stats")[2])["embedding"] is None
        assert "Semantic search covers" not in server.get("/search?q=language+models")[2].decode()
    finally:
        assert server.stop() == 0
