"""Hugging Face's own client against ``paperradar serve``: every paper method of the installed
``huggingface_hub`` (``list_daily_papers`` with each parameter, ``list_papers``, ``paper_info``,
``read_paper``), its answers checked against Hugging Face's saved responses of the same days.

The database is real data: the arXiv papers first listed 2025-06-12 to 2025-06-16 (over a
thousand, 381 on the 16th alone), every Hugging Face Daily Papers response of June 2025 and
one of January 2025 (saved before March 2025, in HF's older shape). What HF answered is
rebuilt into the client's objects (``PaperInfo(**entry)``, as the client does) and compared
with what the client makes of paperradar's answers. Titles and summaries are compared with
their whitespace normalised: paperradar stores them cleaned (one line, no hard wraps).
"""

from __future__ import annotations

import copy
import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from conftest import shared
from huggingface_hub import HfApi  # a dev dependency (pyproject.toml)
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import PaperInfo
from pydantic import TypeAdapter
from web_fixtures import WEB_BACKENDS, Server, quiet_main

from paperradar.rank import trending as trends
from paperradar.web import schemas

ARXIV = "data/arxiv/arxiv-2025-2026.jsonl.gz"
ARXIV_DAYS = ("2025-06-12", "2025-06-16")  # first listing days imported from arXiv
DAY = "2025-06-16"  # a day saved in HF's current shape (submittedOnDailyAt, submittedOnDailyBy)
OLD_DAY = "2025-01-09"  # saved before March 2025: no submittedOnDailyAt; every upvote count distinct
MONTH = "2025-06"
WEEK = "2025-W25"  # 2025-06-16 to 2025-06-22


def _json_days(month: str) -> list[str]:
    folder = shared("data/hf-daily-papers/")
    return sorted(p.stem for p in folder.glob(f"{month}-*.json"))


@dataclass
class Site:
    api: HfApi
    server: Server
    hf: dict[str, list[dict[str, Any]]]  # HF's saved answer by day
    arxiv: dict[str, dict[str, Any]]  # the imported arXiv records by id

    def entries(self, days: list[str]) -> list[dict[str, Any]]:
        return [e for d in days for e in self.hf[d]]

    def raw(self, path: str) -> Any:
        status, _, body = self.server.get(path)
        assert status == 200, (path, status, body[:300])
        return json.loads(body)


@pytest.fixture(scope="module", params=WEB_BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``paperradar serve`` over five arXiv days and HF's saved lists, imported by ``paperradar import``
    into a SQLite file or straight into a PostgreSQL database (the same command, ``--db URL``)."""
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    tmp = tmp_path_factory.mktemp("hf-client")
    arxiv: dict[str, dict[str, Any]] = {}
    slice_path = tmp / "arxiv-june.jsonl.gz"
    with gzip.open(shared(ARXIV), "rb") as src, gzip.open(slice_path, "wb") as dst:
        for line in src:
            record = json.loads(line)
            if record["listed"] > ARXIV_DAYS[1]:
                break
            if record["listed"] >= ARXIV_DAYS[0]:
                dst.write(line)
                arxiv.setdefault(record["arxiv_id"], record)
    days = [*_json_days(MONTH), OLD_DAY]
    files = [shared(f"data/hf-daily-papers/{d}.json") for d in days]
    hf = {d: json.loads(f.read_text(encoding="utf-8")) for d, f in zip(days, files, strict=True)}
    pg = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    name = pg.fresh_database() if pg else ""
    db = pg.url(name) if pg else tmp / "hf.db"
    code, output = quiet_main("--db", db, "import", "--no-embed", "--no-progress", slice_path, *files)
    assert code == 0, output
    server = Server(db, env={"NO_PROXY": "127.0.0.1,localhost"})
    try:
        yield Site(HfApi(endpoint=server.base, token=False), server, hf, arxiv)
    finally:
        server.stop()
        if pg:
            pg.release(name)


# -- comparing -----------------------------------------------------------------------


def words(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


def keywords(values: list[str] | None) -> list[str] | None:
    kept = [k.strip() for k in values or [] if k.strip()]
    return kept or None


def user(u: Any) -> tuple | None:
    """A User as the client makes it; ``name`` is what HF's list entries carry (kept by the
    client as an extra attribute), ``username`` what paper objects carry."""
    if u is None:
        return None
    return u.username, u.fullname, u.avatar_url, u.is_pro, getattr(u, "name", None), getattr(u, "_id", None)


def fields(p: PaperInfo, submitted: bool = True) -> dict[str, Any]:
    """What a client reads of a paper (all the fields the client's PaperInfo has, plus author details)."""
    out = {
        "id": p.id, "title": words(p.title), "summary": words(p.summary), "upvotes": p.upvotes,
        "authors": [(a.name, a.hidden, a.status, a.status_last_changed_at, getattr(a, "_id", None),
                     a.user.username if a.user else None) for a in p.authors or []],
        "published_at": p.published_at, "comments": p.comments, "discussion_id": p.discussion_id,
        "submitted_by": user(p.submitted_by), "ai_summary": p.ai_summary, "ai_keywords": keywords(p.ai_keywords),
        "organization": p.organization.name if p.organization else None, "project_page": p.project_page,
        "github_repo": p.github_repo, "github_stars": p.github_stars, "source": p.source,
        "thumbnail": getattr(p, "thumbnail", None), "is_author_participating": getattr(p, "isAuthorParticipating", None),
    }
    if submitted:
        out["submitted_at"] = p.submitted_at
    return out


def theirs(entry: dict[str, Any]) -> PaperInfo:
    """What the client makes of HF's own answer."""
    return PaperInfo(**copy.deepcopy(entry))


def normalised(value: Any) -> Any:
    """An HF JSON value with titles and summaries whitespace-normalised and blank keywords dropped."""
    if isinstance(value, dict):
        out = {k: normalised(v) for k, v in value.items()}
        for key in ("title", "summary"):
            if isinstance(out.get(key), str):
                out[key] = words(out[key])
        if "ai_keywords" in out:
            out["ai_keywords"] = keywords(out["ai_keywords"])
            if out["ai_keywords"] is None:
                del out["ai_keywords"]
        return out
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


# -- list_daily_papers ---------------------------------------------------------------


@pytest.mark.parametrize("day", [DAY, OLD_DAY])
def test_a_days_list_is_hugging_faces_list(site: Site, day: str) -> None:
    ours = list(site.api.list_daily_papers(date=day))
    hf = site.hf[day]
    assert [p.id for p in ours] == [e["paper"]["id"] for e in hf]  # HF's order too: most upvoted first
    current_shape = "submittedOnDailyAt" in hf[0]["paper"]
    for mine, entry in zip(ours, hf, strict=True):
        # before March 2025 HF's entry publishedAt was another time, which imports do not keep
        assert fields(mine, submitted=current_shape) == fields(theirs(entry), submitted=current_shape)
    if day == DAY:
        assert site.raw(f"/api/feed?date={day}&list=all")["total"] >= 381  # arXiv's listing of the day, not HF's list
        assert len(ours) == 9


def test_a_months_lists_are_hugging_faces_json(site: Site) -> None:
    """Every entry of every June day, as JSON: what HF answered, key for key (whitespace aside).
    The summary is the stored abstract: for a paper also imported from arXiv that is arXiv's,
    which keeps the TeX that HF's summary drops (``\\emph{...}``)."""
    from_arxiv = 0
    for day in _json_days(MONTH):
        ours, hf = normalised(site.raw(f"/api/daily_papers?date={day}")), normalised(site.hf[day])
        for mine, entry in zip(ours, hf, strict=True):
            if mine["summary"] != entry["summary"]:
                abstract = words(site.arxiv[mine["paper"]["id"]]["abstract"])
                assert mine["summary"] == mine["paper"]["summary"] == abstract
                mine["summary"] = mine["paper"]["summary"] = entry["summary"]
                from_arxiv += 1
        assert ours == hf, day
    assert from_arxiv < 20


def test_an_older_days_json_differs_only_where_hf_changed_its_shape(site: Site) -> None:
    ours = site.raw(f"/api/daily_papers?date={OLD_DAY}")
    for mine, entry in zip(ours, site.hf[OLD_DAY], strict=True):
        mine, entry = normalised(mine), normalised(entry)
        # today's shape: the entry's publishedAt is the paper's in US Eastern time; the
        # submitter is in the paper too (as submittedOnDailyBy, HF's other shape of a user)
        assert mine.pop("publishedAt") != entry.pop("publishedAt")
        assert mine.pop("summary") == entry["paper"]["summary"] and "summary" not in entry  # only in the paper then
        if "mediaUrls" in entry:  # in the entry only, then; today in the paper too
            assert mine["paper"].pop("mediaUrls") == entry["mediaUrls"] and "mediaUrls" not in entry["paper"]
        by = mine["paper"].pop("submittedOnDailyBy")
        assert by["user"] == entry["submittedBy"]["name"] and by["fullname"] == entry["submittedBy"]["fullname"]
        assert mine == entry


def test_week_and_month(site: Site) -> None:
    week_days = [d for d in _json_days(MONTH) if "2025-06-16" <= d <= "2025-06-22"]
    week = list(site.api.list_daily_papers(week=WEEK, limit=100))
    # newest day first, each day in HF's order
    assert [p.id for p in week] == [e["paper"]["id"] for e in site.entries(sorted(week_days, reverse=True))]
    month_days = sorted(_json_days(MONTH), reverse=True)
    expected = [e["paper"]["id"] for e in site.entries(month_days)]
    assert len(expected) == 351
    pages = [[p.id for p in site.api.list_daily_papers(month=MONTH, limit=100, p=page)] for page in range(5)]
    assert [len(page) for page in pages] == [100, 100, 100, 51, 0]
    assert [i for page in pages for i in page] == expected
    assert [p.id for p in site.api.list_daily_papers(month=MONTH)] == expected[:50]  # 50 a page by default
    assert [p.id for p in site.api.list_daily_papers(month=MONTH, limit=7, p=3)] == expected[21:28]
    assert list(site.api.list_daily_papers(month="2025-05")) == []
    assert [p.id for p in site.api.list_daily_papers(month="2025-01")] == [e["paper"]["id"] for e in site.hf[OLD_DAY]]


def test_most_recent_by_default(site: Site) -> None:
    newest = [e["paper"]["id"] for e in site.entries(sorted(_json_days(MONTH), reverse=True))]
    assert [p.id for p in site.api.list_daily_papers()] == newest[:50]
    older = [e["paper"]["id"] for e in site.hf[OLD_DAY]]
    assert [p.id for p in site.api.list_daily_papers(limit=100, p=3)] == newest[300:] + older
    explicit = [p.id for p in site.api.list_daily_papers(sort="publishedAt", month=MONTH, limit=100)]
    assert explicit == newest[:100]


def test_submitter(site: Site) -> None:
    june = site.entries(_json_days(MONTH))
    for who in ("yiren98", "akhaliq", "Franck-Dernoncourt"):
        theirs_ = [e for e in june if (e.get("submittedBy") or {}).get("name") == who]
        ours = list(site.api.list_daily_papers(submitter=who, month=MONTH))
        assert len(theirs_) >= 4 and {p.id for p in ours} == {e["paper"]["id"] for e in theirs_}, who
        assert all(p.submitted_by.name == who and p.submitted_by.username == "" for p in ours)  # as from HF
        earlier = {e["paper"]["id"] for e in site.hf[OLD_DAY] if (e.get("submittedBy") or {}).get("name") == who}
        assert {p.id for p in site.api.list_daily_papers(submitter=who)} == {p.id for p in ours} | earlier
    one = next(e for e in site.hf[DAY] if e.get("submittedBy"))
    ours = list(site.api.list_daily_papers(submitter=one["submittedBy"]["name"], date=DAY))
    assert one["paper"]["id"] in {p.id for p in ours}
    assert list(site.api.list_daily_papers(submitter="nobody-submitted-this")) == []


def test_trending(site: Site) -> None:
    june = [(day, e) for day in _json_days(MONTH) for e in site.hf[day]]
    as_of = datetime.combine(date(2025, 7, 1), time(0), tzinfo=UTC)  # the end of the month

    def score(item: tuple[str, dict[str, Any]]) -> tuple:
        day, e = item
        ups = e["paper"]["upvotes"]
        return trends.score(ups, trends.age_hours(day, as_of)), ups, day, e["paper"]["id"]

    expected = [e["paper"]["id"] for _, e in sorted(june, key=score, reverse=True)]
    ours = [p.id for p in site.api.list_daily_papers(month=MONTH, sort="trending", limit=100)]
    assert ours == expected[:100]
    by_date = [p.id for p in site.api.list_daily_papers(month=MONTH, limit=100)]
    assert ours != by_date and set(ours) != set(by_date)  # a heavily upvoted older paper rises
    # within one day, trending is the day's order (the same age for all)
    assert [p.id for p in site.api.list_daily_papers(date=DAY, sort="trending")] == [
        e["paper"]["id"] for e in site.hf[DAY]]
    # with no period: the papers featured in the 14 days before the newest featured day
    recent = [p.id for p in site.api.list_daily_papers(sort="trending", limit=100)]
    last = date(2025, 6, 30)
    window = [(d, e) for d, e in june if date.fromisoformat(d) > last - timedelta(days=14)]
    as_of = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    assert recent == [e["paper"]["id"] for _, e in sorted(window, key=score, reverse=True)][:100]


@pytest.mark.parametrize("params, name", [
    ({"date": "2025-02-30"}, "date"), ({"week": "2025-25"}, "week"), ({"week": "2025-W60"}, "week"),
    ({"month": "2025-13"}, "month"), ({"month": "June"}, "month"), ({"sort": "upvotes"}, "sort"),
    ({"p": -1}, "p"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
])
def test_bad_parameters_are_a_400_naming_them(site: Site, params: dict[str, Any], name: str) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        list(site.api.list_daily_papers(**params))
    assert caught.value.response.status_code == 400
    assert caught.value.response.json()["error"]["message"].startswith(name)


# -- list_papers, paper_info, read_paper ----------------------------------------------


def test_list_papers(site: Site) -> None:
    entry = site.hf[DAY][0]  # 2506.11924, "Aligned Novel View Image and Geometry Synthesis ..."
    found = list(site.api.list_papers(query=words(entry["paper"]["title"])))
    assert found[0].id == entry["paper"]["id"] and len(found) == 50
    mine, hf = fields(found[0], submitted=False), fields(theirs(entry), submitted=False)
    # a search result carries fewer fields than a daily list's entry (as HF's search)
    for key in ("id", "title", "summary", "upvotes", "authors", "published_at", "comments", "discussion_id",
                "ai_keywords", "thumbnail", "is_author_participating"):
        assert mine[key] == hf[key], key
    assert mine["submitted_by"] is None and mine["ai_summary"] is None and found[0].upvoted is False
    assert len(list(site.api.list_papers(query="diffusion", limit=3))) == 3
    assert list(site.api.list_papers(query="zzyzx qwxv")) == []
    arxiv_only = next(p for p in found if p.id in site.arxiv and p.discussion_id is None)
    record = site.arxiv[arxiv_only.id]
    assert [a.name for a in arxiv_only.authors] == record["authors"]
    assert all(a.hidden is False and a.user is None for a in arxiv_only.authors)
    assert arxiv_only.published_at == datetime.combine(date.fromisoformat(record["listed"]), time(0), tzinfo=UTC)


def test_paper_info(site: Site) -> None:
    for entry in (site.hf[DAY][0], site.hf[DAY][4]):
        info = site.api.paper_info(entry["paper"]["id"])
        hf = PaperInfo(**copy.deepcopy(entry["paper"]))  # /api/papers/{id} answers HF's paper object
        assert fields(info) == fields(hf)
        assert info.submitted_at == hf.submitted_at is not None and info.submitted_by.username
    old = site.hf[OLD_DAY][0]
    info = site.api.paper_info(old["paper"]["id"])
    assert fields(info, submitted=False) | {"submitted_by": None} == fields(
        PaperInfo(**copy.deepcopy(old["paper"])), submitted=False)
    assert info.submitted_by.username == old["submittedBy"]["name"] and info.submitted_at is None
    record = next(r for r in site.arxiv.values() if r["listed"] == DAY and r["authors"])
    info = site.api.paper_info(record["arxiv_id"])
    assert info.id == record["arxiv_id"] and words(info.title) == words(record["title"])
    assert [a.name for a in info.authors] == record["authors"]
    assert info.published_at == datetime.combine(date(2025, 6, 16), time(0), tzinfo=UTC)
    assert info.upvotes == 0 and info.submitted_by is None and info.discussion_id is None  # none known
    assert info.comments == 0 and info.ai_summary is None and info.github_repo is None
    with pytest.raises(HfHubHTTPError) as caught:
        site.api.paper_info("2501.00000")
    assert caught.value.response.status_code == 404


def test_read_paper(site: Site) -> None:
    entry = site.hf[DAY][0]
    text = site.api.read_paper(entry["paper"]["id"])
    assert text.startswith(f"# {words(entry['paper']['title'])}\n")
    assert words(entry["paper"]["summary"]) in words(text)
    assert ", ".join(a["name"] for a in entry["paper"]["authors"]) in text
    assert entry["paper"]["ai_summary"] in text and "https://arxiv.org/abs/2506.11924" in text
    with pytest.raises(HfHubHTTPError) as caught:
        site.api.read_paper("2501.00000")
    assert caught.value.response.status_code == 404


def test_answers_are_what_openapi_json_says(site: Site) -> None:
    """Every answer validates against the model /openapi.json gives it (``web/schemas.py``), and so
    do Hugging Face's own lists of June: the models describe HF's JSON."""
    daily, found = TypeAdapter(list[schemas.HfDailyEntry]), TypeAdapter(list[schemas.HfSearchEntry])
    for day in [*_json_days(MONTH), OLD_DAY]:
        assert daily.validate_python(site.raw(f"/api/daily_papers?date={day}"), strict=True), day
        if day != OLD_DAY:  # before March 2025 HF's entries had no summary of their own
            daily.validate_python(site.hf[day], strict=True)
    for query in (f"month={MONTH}&sort=trending&limit=100", "week=2025-W25&p=1&limit=7", "submitter=akhaliq"):
        assert daily.validate_python(site.raw(f"/api/daily_papers?{query}"), strict=True), query
    for q in ("diffusion", "Aligned Novel View Image and Geometry Synthesis"):
        assert found.validate_python(site.raw(f"/api/papers/search?q={quote(q)}&limit=100"), strict=True), q
    arxiv_only = next(i for i, r in site.arxiv.items() if r["listed"] == DAY)
    for paper_id in [e["paper"]["id"] for e in site.hf[DAY] + site.hf[OLD_DAY]] + [arxiv_only]:
        schemas.HfPaper.model_validate(site.raw(f"/api/papers/{paper_id}"), strict=True)
    paths = site.raw("/openapi.json")["paths"]
    for path, model in (("/api/daily_papers", "HfDailyEntry"), ("/api/papers/search", "HfSearchEntry"),
                        ("/api/papers/{paper_id}", "HfPaper")):
        body = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert f"#/components/schemas/{model}" in json.dumps(body), (path, body)


def test_every_paper_method_of_the_client_is_tested() -> None:
    methods = {name for name in dir(HfApi) if "paper" in name and not name.startswith("_")}
    assert methods == {"list_daily_papers", "list_papers", "paper_info", "read_paper"}, methods


def test_periods_given_together_the_narrowest_wins_and_far_pages_are_empty(site: Site) -> None:
    """Each value valid on its own is accepted (an outside API fuzzer expects no 400 for them): date over
    week over month; a page past the first 100,000 papers is empty."""
    by_day = [p.id for p in site.api.list_daily_papers(date=DAY)]
    assert by_day and [p.id for p in site.api.list_daily_papers(date=DAY, week=WEEK)] == by_day
    by_week = [p.id for p in site.api.list_daily_papers(week=WEEK)]
    assert [p.id for p in site.api.list_daily_papers(week=WEEK, month=DAY[:7])] == by_week
    assert list(site.api.list_daily_papers(month=DAY[:7], p=5000, limit=100)) == []


def test_periods_given_together_are_each_checked(site: Site) -> None:
    """Found by schemathesis: a bad month beside a good date was let through because the date won."""
    for params in ({"date": DAY, "month": "0.0"}, {"date": DAY, "week": "2025-60"}, {"week": WEEK, "month": "June"}):
        with pytest.raises(HfHubHTTPError) as caught:
            list(site.api.list_daily_papers(**params))
        assert caught.value.response.status_code == 400, params
