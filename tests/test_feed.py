"""The feed: periods (unit tests of paperradar.rank.feed) and ``paperradar feed --all`` on real data.

The real database is a slice of the arXiv file plus a few Hugging Face daily
files (slice_db.py); its ``truth`` says, from the raw files alone, on which
day each paper was first listed and how many upvotes it has. These tests ask
for every paper first listed (``--all``); the featured list, the default on
days Hugging Face featured papers, is tested in test_featured.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
import slice_db
from web_fixtures import WEB_BACKENDS, quiet_main

from paperradar.cli import main
from paperradar.rank import feed as feeds

ALL = "100000"
KEYS = {"id", "title", "authors", "abstract", "categories", "date", "upvotes"}


# ---------------------------------------------------------------------------
# Periods


def test_day() -> None:
    p = feeds.day(date(2025, 3, 20))
    assert (p.start, p.end, p.kind, p.label) == (date(2025, 3, 20), date(2025, 3, 20), "day", "2025-03-20")


@pytest.mark.parametrize(
    "d, monday",
    [
        (date(2025, 3, 17), date(2025, 3, 17)),  # a Monday is its own week's start
        (date(2025, 3, 20), date(2025, 3, 17)),
        (date(2025, 3, 23), date(2025, 3, 17)),  # a Sunday belongs to the week before it
        (date(2025, 3, 24), date(2025, 3, 24)),
        (date(2026, 1, 1), date(2025, 12, 29)),  # a week across the new year
        (date(2024, 3, 1), date(2024, 2, 26)),  # across a leap-year February
    ],
)
def test_week_is_the_iso_week_monday_to_sunday(d: date, monday: date) -> None:
    p = feeds.week(d)
    assert p.start == monday and p.end == monday + timedelta(days=6)
    assert p.start.weekday() == 0 and p.end.weekday() == 6
    assert p.start <= d <= p.end
    assert p.start.isocalendar()[:2] == d.isocalendar()[:2]


def test_week_label_uses_iso_year_and_week() -> None:
    assert feeds.week(date(2025, 3, 20)).label == "2025-W12 (2025-03-17 to 2025-03-23)"
    assert feeds.week(date(2025, 12, 31)).label == "2026-W01 (2025-12-29 to 2026-01-04)"
    assert feeds.week(date(2027, 1, 1)).label == "2026-W53 (2026-12-28 to 2027-01-03)"


@pytest.mark.parametrize(
    "year, month, last",
    [(2025, 1, 31), (2025, 2, 28), (2024, 2, 29), (2100, 2, 28), (2000, 2, 29), (2025, 4, 30), (2025, 12, 31)],
)
def test_month(year: int, month: int, last: int) -> None:
    p = feeds.month(year, month)
    assert (p.start, p.end, p.kind) == (date(year, month, 1), date(year, month, last), "month")
    assert p.label == f"{year}-{month:02d}"


def test_parse_month() -> None:
    assert feeds.parse_month("2025-03") == feeds.month(2025, 3)
    assert feeds.parse_month("2026-12").end == date(2026, 12, 31)


@pytest.mark.parametrize(
    "text", ["", "2025", "2025-13", "2025-00", "2025-03-01", "March 2025", "2025/03", "-2025-03", "2025--03",
             "x-y", "0-01", "10000-01", "2025-3-"],
)  # fmt: skip
def test_parse_month_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        feeds.parse_month(text)


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "20250", "yesterday", "", "2025-3-1 "])
def test_parse_day_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        feeds.parse_day(text)


def test_day_previous_and_next_cross_month_and_year() -> None:
    assert feeds.day(date(2025, 3, 1)).previous() == feeds.day(date(2025, 2, 28))
    assert feeds.day(date(2024, 3, 1)).previous() == feeds.day(date(2024, 2, 29))
    assert feeds.day(date(2025, 12, 31)).next() == feeds.day(date(2026, 1, 1))
    assert feeds.day(date(2026, 1, 1)).previous() == feeds.day(date(2025, 12, 31))


def test_week_previous_and_next_cross_month_and_year() -> None:
    w = feeds.week(date(2025, 12, 31))  # 2025-12-29 .. 2026-01-04
    assert w.next() == feeds.week(date(2026, 1, 5))
    assert w.previous() == feeds.week(date(2025, 12, 22))
    assert w.previous().next() == w
    assert feeds.week(date(2025, 3, 31)).previous().start == date(2025, 3, 24)
    # stepping a year of weeks stays on Mondays and never skips or repeats one
    p = feeds.week(date(2025, 1, 1))
    seen = []
    for _ in range(60):
        seen.append(p.start)
        p = p.next()
    assert all(b - a == timedelta(days=7) for a, b in zip(seen, seen[1:]))
    assert all(s.weekday() == 0 for s in seen)


@pytest.mark.parametrize(
    "start, prev, nxt",
    [
        ((2025, 1), (2024, 12), (2025, 2)),
        ((2025, 12), (2025, 11), (2026, 1)),
        ((2024, 2), (2024, 1), (2024, 3)),
        ((2025, 3), (2025, 2), (2025, 4)),
    ],
)
def test_month_previous_and_next(start, prev, nxt) -> None:
    p = feeds.month(*start)
    assert p.previous() == feeds.month(*prev)
    assert p.next() == feeds.month(*nxt)
    assert p.next().previous() == p


def test_month_stepping_a_whole_year_and_back() -> None:
    p = feeds.month(2025, 11)
    for _ in range(14):
        p = p.next()
    assert p == feeds.month(2027, 1)
    for _ in range(26):
        p = p.previous()
    assert p == feeds.month(2024, 11)
    assert p.end == date(2024, 11, 30)


# ---------------------------------------------------------------------------
# ``paperradar feed`` on real data


@pytest.fixture(scope="module")
def real_file(tmp_path_factory: pytest.TempPathFactory) -> slice_db.SliceDB:
    return slice_db.build(tmp_path_factory.mktemp("feed"))


@pytest.fixture(scope="module", params=WEB_BACKENDS)
def real(request: pytest.FixtureRequest, real_file: slice_db.SliceDB) -> Iterator[slice_db.SliceDB]:
    """The slice on each backend: the SQLite file, or a new PostgreSQL database it was moved into by
    ``paperradar copy``; ``path`` is what ``--db`` takes."""
    if request.param == "sqlite":
        yield real_file
        return
    with request.getfixturevalue("pg_server").copy_of("template0") as url:  # an empty database: copy makes the schema
        code, output = quiet_main("copy", "--to", url, "--from", real_file.path, "--no-progress")
        assert code == 0, output
        yield replace(real_file, path=url)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def feed_json(real: slice_db.SliceDB, capsys, *args: str) -> list[dict]:
    code, out, err = run_cli(capsys, "--db", str(real.path), "feed", *args, "--all", "--json", "--limit", ALL)
    assert code == 0, err
    items = json.loads(out)
    assert isinstance(items, list)
    return items


def expected_ids(real: slice_db.SliceDB, start: str, end: str, category: str | None = None) -> set[str]:
    return {
        pid
        for pid, t in real.truth.items()
        if t.first_listed and start <= t.first_listed <= end and (category is None or category in t.categories)
    }


PERIODS = [
    (["--date", "2025-03-20"], "2025-03-20", "2025-03-20"),
    (["--date", "2025-03-25"], "2025-03-25", "2025-03-25"),
    (["--week", "2025-03-20"], "2025-03-17", "2025-03-23"),  # a Thursday
    (["--week", "2025-03-23"], "2025-03-17", "2025-03-23"),  # a Sunday
    (["--week", "2025-03-31"], "2025-03-31", "2025-04-06"),  # a week across a month boundary
    (["--month", "2025-03"], "2025-03-01", "2025-03-31"),
    (["--month", "2025-04"], "2025-04-01", "2025-04-30"),
]


@pytest.mark.parametrize("args, start, end", PERIODS, ids=lambda x: " ".join(x) if isinstance(x, list) else None)
def test_feed_returns_exactly_the_papers_first_listed_in_the_period(real, capsys, args, start, end) -> None:
    items = feed_json(real, capsys, *args)
    assert items
    for item in items:
        assert start <= item["date"] <= end, (item["id"], item["date"])
    assert {i["id"] for i in items} == expected_ids(real, start, end)


@pytest.mark.parametrize("args, start, end", PERIODS, ids=lambda x: " ".join(x) if isinstance(x, list) else None)
def test_feed_is_most_upvoted_first_then_newest(real, capsys, args, start, end) -> None:
    items = feed_json(real, capsys, *args)
    keys = [(i["upvotes"], i["date"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    for item in items:
        assert item["upvotes"] == real.truth[item["id"]].upvotes, item["id"]


def test_feed_week_has_upvoted_papers_on_top(real, capsys) -> None:
    items = feed_json(real, capsys, "--week", "2025-03-20")
    assert items[0]["upvotes"] > 0
    best = max(t.upvotes for pid, t in real.truth.items() if "2025-03-17" <= (t.first_listed or "") <= "2025-03-23")
    assert items[0]["upvotes"] == best
    assert items[-1]["upvotes"] == 0


@pytest.mark.parametrize("category", ["cs.CL", "cs.RO", "eess.IV", "astro-ph.GA"])
def test_feed_category_filter(real, capsys, category: str) -> None:
    items = feed_json(real, capsys, "--month", "2025-03", "--category", category)
    for item in items:
        assert category in item["categories"], (item["id"], item["categories"])
    assert {i["id"] for i in items} == expected_ids(real, "2025-03-01", "2025-03-31", category)


def test_feed_json_items_have_the_public_keys(real, capsys) -> None:
    items = feed_json(real, capsys, "--date", "2025-03-21")
    for item in items:
        assert KEYS <= item.keys(), KEYS - item.keys()
        assert isinstance(item["authors"], list) and isinstance(item["categories"], list)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["date"])


def test_feed_limit_and_offset(real, capsys) -> None:
    db = str(real.path)
    code, out, _ = run_cli(capsys, "--db", db, "feed", "--week", "2025-03-20", "--all", "--json", "--limit", "30")
    big = [i["id"] for i in json.loads(out)]
    assert code == 0 and len(big) == 30
    pages = []
    for offset in ("0", "10", "20"):
        code, out, _ = run_cli(capsys, "--db", db, "feed", "--week", "2025-03-20", "--all", "--json", "--limit", "10",
                               "--offset", offset)  # fmt: skip
        pages += [i["id"] for i in json.loads(out)]
    assert pages == big
    code, out, _ = run_cli(capsys, "--db", db, "feed", "--date", "2025-03-20", "--all", "--json")
    assert len(json.loads(out)) == 50  # default limit


def test_feed_text_output_counts_all_papers(real, capsys) -> None:
    code, out, _ = run_cli(capsys, "--db", str(real.path), "feed", "--week", "2025-03-20", "--all", "--limit", "3")
    assert code == 0
    n = len(expected_ids(real, "2025-03-17", "2025-03-23"))
    assert out.splitlines()[0] == f"All papers first listed in 2025-W12 (2025-03-17 to 2025-03-23): {n} papers"
    assert re.search(r"^\s+1\. \[\S+\] ", out, re.M)
    assert "▲" in out  # the top papers have upvotes


def test_feed_empty_period(real, capsys) -> None:
    assert feed_json(real, capsys, "--month", "2019-01") == []
    assert feed_json(real, capsys, "--date", "2025-03-22") == []  # a Saturday: no listing
    code, out, _ = run_cli(capsys, "--db", str(real.path), "feed", "--month", "2019-01")
    assert code == 0 and out.startswith("All papers first listed in 2019-01: 0 papers (none featured)")


@pytest.mark.parametrize(
    "args",
    [
        ["--month", "2025-13"],
        ["--month", "2025-00"],
        ["--month", "March"],
        ["--month", "2025-03-01"],
        ["--month", ""],
        ["--date", "2025-02-30"],
        ["--date", "2025-13-01"],
        ["--date", "tomorrow"],
        ["--week", "2025-02-29"],  # 2025 is no leap year
        ["--week", "not-a-date"],
        [],  # a period is required
        ["--date", "2025-03-20", "--week", "2025-03-20"],  # only one period
        ["--date", "2025-03-20", "--limit", "0"],
        ["--date", "2025-03-20", "--offset", "-1"],
    ],
    ids=lambda a: " ".join(a) or "none",
)
def test_feed_bad_arguments_exit_2(real, capsys, args: list[str]) -> None:
    code, _, err = run_cli(capsys, "--db", str(real.path), "feed", *args)
    assert code == 2, err
    assert "Traceback" not in err
