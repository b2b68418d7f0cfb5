"""`paperradar sync arxiv --set`: OAI-PMH harvests over real captured pages, resumable, exactly once.

The local server (tests/sync_server.py) serves three real ListRecords pages
chained by rewritten resumption tokens (57 distinct records), the real
error answers, and injected faults.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import pytest
from helpers import cli, paper_count
from sync_server import OAI_RECORDS, FixtureServer, services, sync_config, write_config  # noqa: F401

from paperradar.store import SQLiteStore, sync_state

WINDOW = ("--from", "2015-01-16", "--until", "2015-01-18")


def sync(capsys, db, config, *args, rc=0) -> list[dict]:
    code, out, err = cli(capsys, "--db", db, "sync", "--no-embed", *args, "--config", config, "--json")
    assert code == rc, (code, out, err)
    return json.loads(out)


def harvest(capsys, db, config, *extra, rc=0) -> dict:
    (report,) = sync(capsys, db, config, "arxiv", "--set", "cs", *WINDOW, *extra, rc=rc)
    return report


def harvests(db) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM oai_harvests ORDER BY id").fetchall()
    finally:
        conn.close()


def assert_exactly_once(db) -> None:
    """Every served record is one paper row, with one arxiv-oai provenance row."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM papers").fetchone() == (OAI_RECORDS, OAI_RECORDS)
        assert conn.execute("SELECT COUNT(*) FROM provenance WHERE source = 'arxiv-oai'").fetchone()[0] == OAI_RECORDS
    finally:
        conn.close()


def test_a_multi_page_harvest_follows_the_tokens_and_imports_every_record(capsys, db_path, sync_config, services):
    report = harvest(capsys, db_path, sync_config)
    assert report["status"] == "ok" and report["error"] is None
    assert (report["pages"], report["records"], report["new"]) == (3, OAI_RECORDS, OAI_RECORDS)
    first, *rest = [r.params for r in services.seen("/oai")]
    assert first == {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "cs",
                     "from": "2015-01-16", "until": "2015-01-18"}
    assert rest == [{"verb": "ListRecords", "resumptionToken": "tok-1"},
                    {"verb": "ListRecords", "resumptionToken": "tok-2"}]
    (row,) = harvests(db_path)
    assert (row["status"], row["token"], row["pages"], row["records"]) == ("done", None, 3, OAI_RECORDS)
    assert_exactly_once(db_path)
    # harvested papers are in the keyword index straight away
    code, out, _ = cli(capsys, "--db", db_path, "search", "Reproducing Kernel Banach Spaces", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == "1101.4388"


def test_harvesting_again_changes_nothing(capsys, db_path, sync_config, services):
    harvest(capsys, db_path, sync_config)
    again = harvest(capsys, db_path, sync_config)
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, OAI_RECORDS)
    assert paper_count(db_path) == OAI_RECORDS


def test_metadata_prefix_is_sent(capsys, db_path, sync_config, services):
    harvest(capsys, db_path, sync_config, "--metadata-prefix", "arXivRaw")
    assert services.seen("/oai")[0].params["metadataPrefix"] == "arXivRaw"


def test_without_from_the_harvest_is_incremental(capsys, db_path, sync_config, services):
    (first,) = sync(capsys, db_path, sync_config, "arxiv", "--set", "cs")
    assert "from" not in services.seen("/oai")[0].params
    (second,) = sync(capsys, db_path, sync_config, "arxiv", "--set", "cs")
    today = datetime.now(timezone.utc).date().isoformat()
    assert second["request"]["from"] == today == services.seen("/oai")[3].params["from"]


def test_no_records_match_is_an_empty_result_not_an_error(capsys, db_path, sync_config, services):
    (unknown_set,) = sync(capsys, db_path, sync_config, "arxiv", "--set", "moo")
    (empty_window,) = sync(capsys, db_path, sync_config, "arxiv", "--set", "physics:hep-lat",
                           "--from", "2015-01-17", "--until", "2015-01-17")
    for report in (unknown_set, empty_window):
        assert (report["status"], report["pages"], report["records"]) == ("ok", 1, 0)
    assert paper_count(db_path) == 0


@pytest.mark.parametrize("answer,code", [("error_idDoesNotExist.xml", "idDoesNotExist"),
                                         ("error_badArgument.xml", "badArgument")])
def test_an_oai_error_answer_fails_the_run_clearly(capsys, db_path, sync_config, services, monkeypatch, answer, code):
    from sync_server import Reply, read

    monkeypatch.setattr(FixtureServer, "oai", lambda self, params: Reply(read(f"fixtures/arxiv_oai/{answer}")))
    report = harvest(capsys, db_path, sync_config, rc=1)
    assert report["status"] == "failed" and f"OAI-PMH error {code}" in report["error"]
    assert len(services.seen("/oai")) == 1  # the service's own answer is not retried


def test_faults_on_every_page_are_retried_and_the_harvest_completes(capsys, db_path, tmp_path, services):
    config = write_config(tmp_path / "fast.toml", services, timeout=0.5)
    for fault, options in [("invalid", {}), ("pass", {}),  # page 1: invalid XML, then fine
                           ("503", {"retry_after": 0}), ("reset", {}), ("pass", {}),  # page 2
                           ("stall", {"seconds": 2}), ("pass", {})]:  # page 3: past the timeout
        services.fail_next("/oai", fault, **options)
    report = harvest(capsys, db_path, config)
    assert report["status"] == "ok" and report["new"] == OAI_RECORDS
    tokens = [r.params.get("resumptionToken") for r in services.seen("/oai")]
    assert tokens == [None, None, "tok-1", "tok-1", "tok-1", "tok-2", "tok-2"]
    assert_exactly_once(db_path)


def test_a_harvest_that_fails_halfway_keeps_its_pages_and_resumes_there(capsys, db_path, sync_config, services):
    services.oai_pages[1] = services.oai_pages[1][:5000]  # page 2 is damaged on every try
    failed = harvest(capsys, db_path, sync_config, rc=1)
    assert failed["status"] == "failed" and "invalid XML" in failed["error"] and "gave up after 3 tries" in failed["error"]
    assert (failed["pages"], failed["new"]) == (1, 6)
    assert paper_count(db_path) == 6
    (row,) = harvests(db_path)
    assert (row["status"], row["token"], row["pages"]) == ("open", "tok-1", 1)

    services.oai_pages[1] = FixtureServer().oai_pages[1]  # the server is well again
    services.requests.clear()
    resumed = harvest(capsys, db_path, sync_config)
    assert services.seen("/oai")[0].params == {"verb": "ListRecords", "resumptionToken": "tok-1"}
    assert (resumed["pages"], resumed["new"], resumed["unchanged"]) == (2, OAI_RECORDS - 6, 0)
    assert any("resuming" in note for note in resumed["notes"])
    (row,) = harvests(db_path)
    assert (row["status"], row["pages"], row["records"]) == ("done", 3, OAI_RECORDS)
    assert_exactly_once(db_path)


def test_a_crash_between_import_and_progress_record_creates_no_duplicates(capsys, db_path, sync_config, services,
                                                                          monkeypatch):
    """Page 2 is imported, then the process dies before its token is stored."""
    real = SQLiteStore.record_sync_page
    calls = []

    class Crash(BaseException):
        pass

    def record_page(store, run_id, counts, harvest=None, token=None, size=None):
        calls.append(token)
        if len(calls) == 2:
            raise Crash()
        return real(store, run_id, counts, harvest, token, size)

    monkeypatch.setattr(SQLiteStore, "record_sync_page", record_page)
    with pytest.raises(Crash):
        cli(capsys, "--db", db_path, "sync", "--no-embed", "arxiv", "--set", "cs", *WINDOW, "--config", sync_config)
    assert paper_count(db_path) == 6 + 46  # page 2 is in the store ...
    assert harvests(db_path)[0]["token"] == "tok-1"  # ... but not recorded as done
    monkeypatch.setattr(SQLiteStore, "record_sync_page", real)

    resumed = harvest(capsys, db_path, sync_config)
    assert services.seen("/oai")[-2].params["resumptionToken"] == "tok-1"  # page 2 again
    assert (resumed["new"], resumed["unchanged"]) == (5, 46)  # its second import changes nothing
    assert_exactly_once(db_path)


def test_an_expired_token_restarts_the_harvest_from_its_from_date(capsys, db_path, sync_config, services):
    harvest(capsys, db_path, sync_config)
    store = SQLiteStore(db_path)
    try:  # an unfinished harvest whose token the server no longer knows
        h = store.open_harvest(f"{services.base}/oai", "cs", "arXiv", "2015-01-16", "2015-01-18")
        store.record_sync_page(store.start_sync_run("arxiv-oai", {}), sync_state.Counts(records=6), h,
                               token="726959|1001")
    finally:
        store.close()
    services.requests.clear()
    report = harvest(capsys, db_path, sync_config)
    assert report["status"] == "ok"
    assert any("badResumptionToken" in n and "restarting the harvest from 2015-01-16" in n for n in report["notes"])
    assert [r.params.get("resumptionToken") for r in services.seen("/oai")] == ["726959|1001", None, "tok-1", "tok-2"]
    assert (report["new"], report["unchanged"]) == (0, OAI_RECORDS)
    assert [(r["status"], r["restarts"], r["records"]) for r in harvests(db_path)] == [
        ("done", 0, OAI_RECORDS), ("done", 1, OAI_RECORDS)]
    assert_exactly_once(db_path)
