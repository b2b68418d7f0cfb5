"""The small things a first visit shows (issue 11): no "▲ 0", one search box with a result count,
category names, the empty site naming the commands, an import summary in plain words."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import arxiv_record, cli
from starlette.testclient import TestClient

from paperradar.app import Radar
from paperradar.web import create_app


def test_cards_show_votes_only_when_there_are_some(client) -> None:
    html = client.get("/?date=2025-03-20&list=all").text
    assert "▲ 0<" not in html and "▲ 0 " not in html
    assert re.search(r"▲ [1-9]", html)  # the upvoted ones still say so


def test_the_search_page_has_one_search_box_and_counts_matches(client) -> None:
    # words matched by fewer papers than PostgreSQL counts exactly (up to 1,000: store/pg_search.py)
    html = client.get("/search?q=speech+recognition&mode=keyword").text
    assert html.count('role="search"') == 1
    m = re.search(r"([\d,]+) papers contain every word, ([\d,]+) some of them", html)
    assert m and 0 < int(m[1].replace(",", "")) < int(m[2].replace(",", ""))
    assert html.count('role="search"') == 1 and 'role="search"' in client.get("/").text


def test_categories_have_arxiv_names_and_the_rest_is_other(client) -> None:
    html = client.get("/categories").text
    assert "Computation and Language <small>cs.CL</small>" in html
    page = client.get("/categories/cs.CL").text
    assert "<h1>Computation and Language <small>cs.CL</small></h1>" in page
    listing = client.get("/api/categories").json()
    assert not any(re.match(r"^[A-K]\.\d", c["category"]) for c in listing)  # ACM classes are not categories


def test_an_empty_site_names_the_commands_that_fill_it(store) -> None:
    """On each backend (conftest's ``store``: an empty SQLite file or PostgreSQL database)."""
    with TestClient(create_app(Radar(store))) as client:
        html = client.get("/").text
    assert "paperradar import" in html and "./quickstart.sh --live" in html and "paperradar sync hf-daily" in html


def test_an_import_into_an_empty_database_explains_its_updates(capsys, store, tmp_path: Path) -> None:
    path = tmp_path / "twice.jsonl"
    path.write_bytes(arxiv_record("2506.00091") + arxiv_record("2506.00091", title="A newer title", version=2,
                                                                updated="2030-01-01"))
    code, out, err = cli(capsys, "--db", store.path, "import", path, "--no-embed", "--no-progress")
    assert code == 0, err
    assert "1 updated on an empty database" in out and "the same paper" in out
    code, out, _ = cli(capsys, "--db", store.path, "import", path, "--no-embed", "--no-progress")
    assert "on an empty database" not in out
    summary = json.loads(cli(capsys, "--db", tmp_path / "q.db", "import", path, "--no-embed", "--json")[1])
    assert summary["new"] == 1


def test_a_category_path_names_the_category_exactly(client) -> None:
    """Found by schemathesis: /feeds/categories/cs.CL%20.atom answered 200 for a value its pattern refuses."""
    for path in ("/feeds/categories/cs.CL%20.atom", "/api/categories/%20cs.CL", "/categories/cs.CL%20"):
        r = client.get(path)
        assert r.status_code == 400 and "must be an arXiv category" in r.text, path
    assert client.get("/feeds/categories/cs.CL.atom").status_code == 200
