"""The Daily Papers list as Hugging Face defines it: the papers HF featured on a day.

End to end on real files: Hugging Face's answers for 2025-06-16 (with
``submittedOnDailyAt``) and 2025-02-20 (saved before March 2025, without
it), with the arXiv listing records of the days around 2025-06-16; then
``paperradar feed`` and ``sync hf-daily``; then the featured table through
the ``store`` fixture (every backend).
"""

from __future__ import annotations

import gzip
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from conftest import shared
from helpers import ARXIV, HF_DAILY, cli, cli_json, import_json, show_json
from sync_server import services, sync_config  # noqa: F401  (fixtures used by name)

from paperradar.cli import main
from paperradar.model import Paper
from paperradar.sources.common import clean_abstract, finish
from paperradar.sources.hf_json import ENTRY_NOT_KEPT, PAPER_FIELDS
from paperradar.store import SQLiteStore

DAY = "2025-06-16"  # 9 papers, each with paper.submittedOnDailyAt and submittedBy
OLD_DAY = "2025-02-20"  # 15 papers, saved before HF gave submittedOnDailyAt
AROUND = ("2025-06-13", "2025-06-17")  # arXiv listing days imported besides the featured papers


def hf_file(day: str) -> Path:
    return shared(f"{HF_DAILY}{day}.json")


def hf_day(day: str) -> list[dict[str, Any]]:
    return json.loads(hf_file(day).read_bytes())


@pytest.fixture(scope="module")
def arxiv_around(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The arXiv records listed from 2025-06-13 to 2025-06-17 and those of the papers HF featured
    on 2025-06-16, as a .jsonl.gz; with each paper's first listing day among them."""
    featured = {e["paper"]["id"] for e in hf_day(DAY)}
    lines, listed = [], {}
    with gzip.open(shared(ARXIV), "rb") as f:
        for line in f:
            record = json.loads(line)
            if record["listed"] > "2025-06-30":
                break
            if record["arxiv_id"] in featured or AROUND[0] <= record["listed"] <= AROUND[1]:
                lines.append(line)
                pid = record["arxiv_id"]
                listed[pid] = min(listed.get(pid, record["listed"]), record["listed"])
    assert featured <= set(listed)
    path = tmp_path_factory.mktemp("arxiv") / "arxiv-around-2025-06-16.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.writelines(lines)
    return path, listed


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, arxiv_around) -> Path:
    """arXiv first, then the two HF days (the other order is checked on its own below)."""
    path = tmp_path_factory.mktemp("featured") / "papers.db"
    quiet_import(path, arxiv_around[0])
    quiet_import(path, hf_file(DAY), hf_file(OLD_DAY))
    return path


def quiet_import(db: Path, *paths: Path) -> dict:
    """``paperradar import`` where no capsys is at hand (module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--db", str(db), "import", "--no-embed", "--no-progress", "--json", *map(str, paths)])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def open_db(path: Path) -> SQLiteStore:
    return SQLiteStore(path)


# ---------------------------------------------------------------------------
# The import: HF's list of the day, exactly


def test_the_featured_list_of_the_day_is_hfs_list(db) -> None:
    entries = hf_day(DAY)
    store = open_db(db)
    try:
        pairs, total = store.featured_papers(DAY, DAY, limit=100)
        assert total == len(pairs) == len(entries) == 9
        assert sorted(row["id"] for row, _ in pairs) == sorted(e["paper"]["id"] for e in entries)
        by_id = {e["paper"]["id"]: e for e in entries}
        assert [row["upvotes"] for row, _ in pairs] == sorted((e["paper"]["upvotes"] for e in entries), reverse=True)
        for row, f in pairs:
            entry = by_id[row["id"]]
            assert (f.day, f.source) == (DAY, "huggingface")
            assert f.submitted_by == entry["submittedBy"]["name"] == entry["paper"]["submittedOnDailyBy"]["user"]
            assert f.submitted_at == entry["paper"]["submittedOnDailyAt"]
            assert row["upvotes"] == entry["paper"]["upvotes"]
        assert pairs[0][0]["id"] == "2506.11924" and pairs[0][1].submitted_by == "bracio9623"
        assert store.featured_days("2025-06-01", "2025-06-30") == [(DAY, 9)]
        assert store.has_featured(DAY, DAY) and store.has_featured("2025-06-15", "2025-06-21")
        assert not store.has_featured("2025-06-13", "2025-06-13")
        assert store.latest_featured_day() == DAY
        assert store.latest_featured_day("2025-06-15") == OLD_DAY
    finally:
        store.close()


def test_a_day_saved_before_march_2025_is_featured_on_the_files_day(db) -> None:
    entries = hf_day(OLD_DAY)
    assert not any("submittedOnDailyAt" in e["paper"] for e in entries)
    store = open_db(db)
    try:
        pairs, total = store.featured_papers(OLD_DAY, OLD_DAY, limit=100)
        assert total == 15
        assert sorted(r["id"] for r, _ in pairs) == sorted(e["paper"]["id"] for e in entries)
        names = {e["paper"]["id"]: e["submittedBy"]["name"] for e in entries}
        for row, f in pairs:
            assert (f.day, f.submitted_by, f.submitted_at) == (OLD_DAY, names[row["id"]], None)
            assert row["published"] == OLD_DAY  # on HF only: its day is the paper's first listing
    finally:
        store.close()


@pytest.mark.parametrize("order", ["arxiv-first", "hf-first"])
def test_arxiv_listing_days_are_untouched_for_papers_in_both(capsys, tmp_path, arxiv_around, order) -> None:
    path, listed = arxiv_around
    db = tmp_path / "papers.db"
    for inputs in ([path], [hf_file(DAY)]) if order == "arxiv-first" else ([hf_file(DAY)], [path]):
        import_json(capsys, db, *inputs)
    for entry in hf_day(DAY):
        pid = entry["paper"]["id"]
        paper = show_json(capsys, db, pid)
        assert paper["date"] == listed[pid], pid
        assert paper["featured"] == [{"day": DAY, "source": "huggingface", "submitted_by": entry["submittedBy"]["name"],
                                      "submitted_at": entry["paper"]["submittedOnDailyAt"]}]
    # Listed on arXiv three days before HF featured it; and one HF featured the day before arXiv listed it.
    assert show_json(capsys, db, "2506.09366")["date"] == "2025-06-13"
    assert show_json(capsys, db, "2506.11928")["date"] == "2025-06-17"


def test_reimport_is_idempotent(capsys, db) -> None:
    store = open_db(db)
    try:
        rows = lambda: store.conn.execute("SELECT * FROM featured ORDER BY paper, day").fetchall()  # noqa: E731
        before = [tuple(r) for r in rows()]
        summary = import_json(capsys, db, hf_file(DAY), hf_file(OLD_DAY))
        assert (summary["new"], summary["updated"], summary["unchanged"]) == (0, 0, 24)
        assert [tuple(r) for r in rows()] == before  # first_seen kept too
        assert len(before) == 24
    finally:
        store.close()


def _expected_extra_value(key: str, value: Any) -> Any:
    if key == "ai_keywords":
        return [k.strip() for k in value if isinstance(k, str) and k.strip()]
    return value


@pytest.mark.parametrize("day", [DAY, OLD_DAY])
def test_every_hf_key_is_stored_and_served_back(capsys, db, day) -> None:
    for entry in hf_day(day):
        hf = entry["paper"]
        paper = show_json(capsys, db, hf["id"])
        extra = paper["extra"]
        # The keys paperradar has a place for ...
        assert set(PAPER_FIELDS) <= set(hf)
        assert paper["id"] == hf["id"]
        assert paper["title"] == " ".join(hf["title"].split())
        assert paper["abstract"] == clean_abstract(hf["summary"])
        assert paper["upvotes"] == hf["upvotes"]
        # ... and every other one, under HF's name, as HF gave it.
        for key, value in hf.items():
            if key not in PAPER_FIELDS:
                assert extra[key] == _expected_extra_value(key, value), (hf["id"], key)
        for key, value in entry.items():
            if key not in ENTRY_NOT_KEPT:
                assert extra[key] == value, (hf["id"], key)
        assert extra["authors"] == hf["authors"]  # the HF author objects (_id, hidden, user, status)
        assert extra["publishedAt"] == hf["publishedAt"]
        assert paper["featured"][0]["day"] == day


# ---------------------------------------------------------------------------
# paperradar feed


def feed(capsys, db: Path, *args: str) -> tuple[int, str, str]:
    return cli(capsys, "--db", db, "feed", *args)


def test_feed_defaults_to_the_featured_papers_and_says_so(capsys, db) -> None:
    code, out, _ = feed(capsys, db, "--date", DAY)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Featured on 2025-06-16: 9 papers"
    assert re.match(r"\s+1\. \[2506\.11924\] Aligned Novel View", lines[1])
    assert lines[3] == "     featured 2025-06-16 by bracio9623"
    items = cli_json(capsys, "--db", db, "feed", "--date", DAY)
    assert [i["id"] for i in items] == [i["id"] for i in cli_json(capsys, "--db", db, "feed", "--date", DAY, "--featured")]
    assert len(items) == 9 and all(i["featured"]["day"] == DAY for i in items)
    assert items[0]["featured"] == {"day": DAY, "source": "huggingface", "submitted_by": "bracio9623",
                                    "submitted_at": "2025-06-16T04:13:42.201Z"}
    assert items[0]["date"] == "2025-06-16"  # its arXiv listing day (2506.11924 was listed on the 16th)


def test_feed_all_lists_every_paper_first_listed(capsys, db, arxiv_around) -> None:
    _, listed = arxiv_around
    expected = {pid for pid, day in listed.items() if day == DAY}
    code, out, _ = feed(capsys, db, "--date", DAY, "--all", "--limit", "3")
    assert code == 0 and out.splitlines()[0] == f"All papers first listed on 2025-06-16: {len(expected)} papers"
    items = cli_json(capsys, "--db", db, "feed", "--date", DAY, "--all", "--limit", "1000")
    assert {i["id"] for i in items} == expected and len(expected) > 300
    assert all("featured" not in i for i in items)  # the all list is plain papers, as before


def test_feed_on_a_day_without_featured_papers_lists_all(capsys, db, arxiv_around) -> None:
    _, listed = arxiv_around
    n = sum(1 for day in listed.values() if day == "2025-06-13")
    code, out, _ = feed(capsys, db, "--date", "2025-06-13")
    assert code == 0 and out.splitlines()[0] == f"All papers first listed on 2025-06-13: {n} papers (none featured)"
    code, out, _ = feed(capsys, db, "--date", "2025-06-13", "--featured")
    assert code == 0 and out.splitlines() == ["Featured on 2025-06-13: 0 papers"]
    assert cli_json(capsys, "--db", db, "feed", "--date", "2025-06-13", "--featured") == []


def test_feed_week_month_category_and_paging(capsys, db) -> None:
    code, out, _ = feed(capsys, db, "--week", "2025-06-18")
    assert out.splitlines()[0] == "Featured in 2025-W25 (2025-06-16 to 2025-06-22): 9 papers"
    code, out, _ = feed(capsys, db, "--month", "2025-02")
    assert out.splitlines()[0] == "Featured in 2025-02: 15 papers"
    cv = cli_json(capsys, "--db", db, "feed", "--date", DAY, "--category", "cs.CV")
    assert cv and all("cs.CV" in i["categories"] for i in cv) and len(cv) < 9
    pages = [cli_json(capsys, "--db", db, "feed", "--date", DAY, "--limit", "4", "--offset", o) for o in ("0", "4", "8")]
    assert [i["id"] for p in pages for i in p] == [i["id"] for i in cli_json(capsys, "--db", db, "feed", "--date", DAY)]


def test_feed_featured_and_all_exclude_each_other(capsys, db) -> None:
    code, _, err = feed(capsys, db, "--date", DAY, "--featured", "--all")
    assert code == 2 and "not allowed with" in err and "Traceback" not in err


# ---------------------------------------------------------------------------
# sync hf-daily goes through the same parser


def test_sync_hf_daily_features_the_requested_day(capsys, db_path, sync_config, services) -> None:
    for day in (DAY, "2024-05-27"):  # with submittedOnDailyAt; without (the day is the request's)
        code, out, err = cli(capsys, "--db", db_path, "sync", "--no-embed", "--config", sync_config,
                             "hf-daily", "--date", day, "--json")
        assert code == 0, err
    store = SQLiteStore(db_path)
    try:
        assert store.featured_days("2024-01-01", "2026-12-31") == [
            ("2024-05-27", len(hf_day("2024-05-27"))), (DAY, 9)]
        pairs, _ = store.featured_papers("2024-05-27", "2024-05-27", limit=100)
        assert all(f.submitted_at is None for _, f in pairs)
    finally:
        store.close()


# ---------------------------------------------------------------------------
# The featured table, on every backend


def record(pid: str | None, title: str, day: str | None = None, by: str | None = None, source: str = "hf-daily",
           **fields: Any) -> Paper:
    draft = Paper(title=title, arxiv_id=pid, source=source, featured_day=day, featured_by=by, **fields)
    _, paper = finish(draft, 1)
    assert isinstance(paper, Paper)
    return paper


def test_store_featured_rows_merge_count_and_filter(store) -> None:
    first = store.merge([record("2506.00001", "Alpha", "2025-06-16", "ann", upvotes=5, upvotes_at="2025-06-16",
                                categories=["cs.CL"]),
                         record("2506.00002", "Beta", "2025-06-16", "bob", upvotes=9, upvotes_at="2025-06-16"),
                         record("2506.00003", "Gamma", "2025-06-17", "ann", featured_at="2025-06-17T04:00:00.000Z")],
                        "a")
    assert first.new == 3
    again = store.merge([record("2506.00001", "Alpha", "2025-06-16", "ann", upvotes=5, upvotes_at="2025-06-16",
                                categories=["cs.CL"])], "a")
    assert (again.updated, again.unchanged) == (0, 1)
    # Featured on one more day, nothing else new: still an update.
    more = store.merge([record("2506.00001", "Alpha", "2025-06-18", None, categories=["cs.CL"])], "b")
    assert more.updated == 1
    pairs, total = store.featured_papers("2025-06-16", "2025-06-18")
    assert total == 3
    assert [(r["id"], f.day, f.submitted_by) for r, f in pairs] == [
        ("2506.00002", "2025-06-16", "bob"), ("2506.00001", "2025-06-16", "ann"), ("2506.00003", "2025-06-17", "ann")]
    assert store.featured_papers("2025-06-16", "2025-06-18", category="cs.CL")[1] == 1
    ann, n = store.featured_papers("2025-06-16", "2025-06-18", submitter="ann")
    assert n == 2 and [r["id"] for r, _ in ann] == ["2506.00001", "2506.00003"]
    page, n = store.featured_papers("2025-06-16", "2025-06-18", limit=1, offset=1)
    assert n == 3 and [r["id"] for r, _ in page] == ["2506.00001"]
    assert store.featured_days("2025-06-16", "2025-06-18") == [("2025-06-16", 2), ("2025-06-17", 1),
                                                                ("2025-06-18", 1)]
    assert store.featured_days("2025-06-16", "2025-06-18", category="cs.CL") == [("2025-06-16", 1),
                                                                                  ("2025-06-18", 1)]
    rowid = store.rowids(["2506.00001"])["2506.00001"]
    assert [(f.day, f.source) for f in store.featured_of([rowid])[rowid]] == [("2025-06-16", "huggingface"),
                                                                             ("2025-06-18", "huggingface")]
    assert store.featured_of([10**9]) == {}


def test_store_local_submissions_beside_hugging_face(store) -> None:
    store.merge([record("2506.00001", "Alpha", "2025-06-16", "ann"), record("2506.00004", "Delta")], "a")
    assert store.add_featured("2506.00004v2", "2025-06-16", submitted_by="42")  # a local user's submission
    assert store.add_featured("2506.00001", "2025-06-16", submitted_by="7")
    assert not store.add_featured("2506.00001", "2025-06-16")  # already there: nothing erased
    pairs, total = store.featured_papers("2025-06-16", "2025-06-16")
    assert total == 2
    got = {r["id"]: (f.source, f.submitted_by) for r, f in pairs}
    assert got == {"2506.00001": ("huggingface", "ann"), "2506.00004": ("local", "42")}  # listed once, HF's row first
    rowid = store.rowids(["2506.00001"])["2506.00001"]
    local = [f for f in store.featured_of([rowid])[rowid] if f.source == "local"]
    assert local[0].submitted_by == "7" and local[0].submitted_at
    assert store.get("2506.00004")["featured"][0]["source"] == "local"
    with pytest.raises(KeyError):
        store.add_featured("2599.99999", "2025-06-16")
    with pytest.raises(ValueError):
        store.add_featured("2506.00001", "2025-13-01")
    with pytest.raises(ValueError):
        store.add_featured("2506.00001", "2025-06-16", source="alphaxiv")


def test_store_a_title_only_paper_keeps_its_featured_rows_when_absorbed(store) -> None:
    store.merge([record(None, "Epsilon: a study of absorption", "2025-06-16", "eve")], "page")
    ((row, _),), _ = store.featured_papers("2025-06-16", "2025-06-16")
    assert row["id"].startswith("title:")
    store.merge([record("2506.00005", "Epsilon: A Study of Absorption", source="arxiv-listing",
                        published="2025-06-13")], "arxiv")
    ((paper, f),), total = store.featured_papers("2025-06-16", "2025-06-16")
    assert total == 1 and paper["id"] == "2506.00005" and paper["rowid"] == row["rowid"]
    assert (f.day, f.submitted_by) == ("2025-06-16", "eve")
    assert store.count() == 1


def test_store_published_prefers_any_other_source_over_a_hugging_face_day(store) -> None:
    def hf(pid: str, day: str) -> Paper:
        return record(pid, "Zeta", day, published=day)

    def listing(pid: str, day: str) -> Paper:
        return record(pid, "Zeta", source="arxiv-listing", published=day)

    orders = [
        [hf, listing, hf],
        [listing, hf, hf],
        [hf, hf, listing, listing],
    ]
    days = {hf: ["2025-06-16", "2025-06-15"], listing: ["2025-06-18", "2025-06-17"]}
    for n, order in enumerate(orders):
        pid = f"2506.0010{n}"
        left = {kind: list(d) for kind, d in days.items()}
        for kind in order:
            store.merge([kind(pid, left[kind].pop())], "x")
        # HF's 15th and 16th never win over arXiv's 17th (nor its 18th over its 17th).
        assert store.get(pid)["published"] == "2025-06-17", n
    store.merge([hf("2506.00200", "2025-06-16")], "x")
    store.merge([hf("2506.00200", "2025-06-15")], "x")
    assert store.get("2506.00200")["published"] == "2025-06-15"  # HF alone: its earliest day
