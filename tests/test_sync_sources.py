"""`sync arxiv --ids/--query`, `sync arxiv-rss`, `sync hf-daily` against real captured answers."""

from __future__ import annotations

import json
import sqlite3

from helpers import cli, paper_count, show_json
from sync_server import services, sync_config, write_config  # noqa: F401


def sync(capsys, db, config, *args, rc=0) -> dict:
    code, out, err = cli(capsys, "--db", db, "sync", "--no-embed", *args, "--config", config, "--json")
    assert code == rc, (code, out, err)
    (report,) = json.loads(out)
    return report


# ---------------------------------------------------------------------------
# arXiv API


def test_ids_are_fetched_with_the_api(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "arxiv", "--ids", "arXiv:1605.08386")
    assert services.seen("/api/query")[0].params == {"id_list": "1605.08386", "max_results": "1"}
    assert (report["status"], report["new"], report["notes"]) == ("ok", 1, [])
    paper = show_json(capsys, db_path, "1605.08386")
    assert "arxiv-api" in [s["source"] for s in paper["sources"]]


def test_old_style_and_versioned_ids(capsys, db_path, sync_config, services):
    sync(capsys, db_path, sync_config, "arxiv", "--ids", "https://arxiv.org/abs/quant-ph/0201082v1")
    sync(capsys, db_path, sync_config, "arxiv", "--ids", "astro-ph/0601001")
    assert [r.params["id_list"] for r in services.seen("/api/query")] == ["quant-ph/0201082v1", "astro-ph/0601001"]
    assert paper_count(db_path) == 2


def test_ids_the_api_does_not_return_are_noted(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "arxiv", "--ids", "0808.05394", "1707.08567")
    assert services.seen("/api/query")[0].params["id_list"] == "0808.05394,1707.08567"
    assert (report["status"], report["new"]) == ("ok", 1)
    assert report["notes"] == ["not found on arXiv: 0808.05394"]


def test_an_empty_answer_is_not_an_error(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "arxiv", "--ids", "0000.0000")
    assert (report["status"], report["records"]) == ("ok", 0)
    assert report["notes"] == ["not found on arXiv: 0000.0000"]


def test_the_http_400_error_feed_fails_with_its_message(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "arxiv", "--ids", "abc", rc=1)
    assert report["status"] == "failed"
    assert report["error"] == "arXiv API error: incorrect id format for abc"
    assert len(services.seen("/api/query")) == 1  # a 400 is not retried


def test_a_query_fetches_the_newest_matches(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "arxiv", "--query", "testing", "--max-results", "10")
    (request,) = [r.params for r in services.seen("/api/query")]
    assert request == {"search_query": "testing", "start": "0", "max_results": "10",
                       "sortBy": "submittedDate", "sortOrder": "descending"}
    assert (report["new"], report["pages"]) == (10, 1)


def test_a_query_pages_until_the_results_end(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "arxiv", "--query", "testing", "--max-results", "150")
    pages = [(r.params["start"], r.params["max_results"]) for r in services.seen("/api/query")]
    assert pages == [("0", "100"), ("100", "50")]  # the second page is the captured empty feed
    assert (report["pages"], report["records"], report["new"]) == (2, 100, 100)


# ---------------------------------------------------------------------------
# arXiv RSS


def test_rss_fetches_all_categories_in_one_request(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "arxiv-rss", "cs.LG", "cs.AI", "cs.CL", "stat.ML")
    assert [r.path for r in services.seen("/rss")] == ["/rss/cs.LG+cs.AI+cs.CL+stat.ML"]
    assert (report["status"], report["new"]) == ("ok", 4)
    with sqlite3.connect(db_path) as conn:
        origin = conn.execute("SELECT DISTINCT origin FROM provenance").fetchall()
    assert origin == [(f"{services.base}/rss/cs.LG+cs.AI+cs.CL+stat.ML",)]


def test_the_atom_variant_of_the_listing(capsys, db_path, tmp_path, services):
    config = write_config(tmp_path / "atom.toml", services)
    config.write_text(config.read_text().replace(f'"{services.base}/rss"', f'"{services.base}/atom"'))
    report = sync(capsys, db_path, config, "arxiv-rss", "cs.LG")
    assert services.seen("/atom")[0].path == "/atom/cs.LG"
    assert report["new"] == 3


# ---------------------------------------------------------------------------
# Hugging Face Daily Papers


def test_hf_daily_one_day(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "hf-daily", "--date", "2024-05-27")
    (request,) = services.seen("/api/daily_papers")
    assert request.params == {"date": "2024-05-27", "limit": "100"}
    day = json.loads(services.hf_daily({"date": "2024-05-27"}).body)
    assert (report["status"], report["records"], report["new"]) == ("ok", len(day), len(day))
    paper = show_json(capsys, db_path, day[0]["paper"]["id"])
    assert paper["upvotes"] == day[0]["paper"]["upvotes"] and paper["date"] == "2024-05-27"


def test_hf_daily_since_fetches_every_day_and_a_day_without_papers_is_empty(capsys, db_path, sync_config, services):
    report = sync(capsys, db_path, sync_config, "hf-daily", "--since", "2024-05-25", "--until", "2024-05-28")
    days = [r.params["date"] for r in services.seen("/api/daily_papers")]
    assert days == ["2024-05-25", "2024-05-26", "2024-05-27", "2024-05-28"]  # no saved answer for the weekend
    assert report["pages"] == 4 and report["status"] == "ok"


def test_syncing_a_day_again_refreshes_upvotes(capsys, db_path, sync_config, services):
    sync(capsys, db_path, sync_config, "hf-daily", "--date", "2024-05-27")
    again = sync(capsys, db_path, sync_config, "hf-daily", "--date", "2024-05-27")
    assert (again["new"], again["updated"]) == (0, 0)
    first = json.loads(services.hf_daily({"date": "2024-05-27"}).body)[0]["paper"]
    services.hf_upvotes[first["id"]] = first["upvotes"] + 40  # the count moved on HF
    moved = sync(capsys, db_path, sync_config, "hf-daily", "--date", "2024-05-27")
    assert (moved["new"], moved["updated"]) == (0, 1)
    assert show_json(capsys, db_path, first["id"])["upvotes"] == first["upvotes"] + 40


def test_invalid_json_from_hf_is_fetched_again(capsys, db_path, sync_config, services):
    services.fail_next("/api/daily_papers", "invalid")
    report = sync(capsys, db_path, sync_config, "hf-daily", "--date", "2024-05-27")
    assert report["status"] == "ok" and report["new"] > 0
    assert len(services.seen("/api/daily_papers")) == 2
