"""Hugging Face API responses: real daily listings, real search answers, dirt."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest
from conftest import SHARED, parse_file, shared

from paperradar.ids import parse_arxiv_id
from paperradar.model import FormatError, Paper, Reject
from paperradar.sources.detect import HEAD_BYTES, detect
from paperradar.sources.hf_json import ENTRY_NOT_KEPT, PAPER_FIELDS, date_in_name, parse_daily, parse_search

DAILY = "data/hf-daily-papers"
SEARCH = "fixtures/huggingface_papers"


def parse_full_name(parser, path: Path) -> list:
    """The daily parser reads the listing day from the whole path it is given."""
    return parse_file(parser, path, str(path))


def papers_of(items: list) -> list[Paper]:
    return [item for _, item in items if isinstance(item, Paper)]


def run(parser, data: bytes, name: str = "<stdin>") -> list:
    return list(parser(io.BytesIO(data), name))


def entry(pid: str = "2503.02682", **paper_fields) -> dict:
    """A minimal daily-shaped entry for dirty-input tests."""
    paper = {
        "id": pid,
        "title": "A Title",
        "summary": "An abstract.",
        "authors": [{"name": "Ann Author", "hidden": False}],
        "publishedAt": "2025-03-04T14:54:45Z",
        "upvotes": 3,
    }
    paper.update(paper_fields)
    top = {"publishedAt": "2025-03-04T22:30:53.253Z", "title": paper["title"], "numComments": 0}
    return {"paper": paper, **top}


# --- real daily listings -------------------------------------------------


def test_daily_2025_03_05_first_and_last_entry() -> None:
    items = parse_full_name(parse_daily, shared(f"{DAILY}/2025-03-05.json"))
    papers = papers_of(items)
    assert len(items) == len(papers) == 12
    first = papers[0]
    assert items[0][0] == 1
    assert first.arxiv_id == first.id == "2503.02682"
    assert first.title == "MPO: Boosting LLM Agents with Meta Plan Optimization"
    assert first.abstract.startswith("Recent advancements in large language models (LLMs) have enabled")
    assert "\n" not in first.abstract
    assert first.authors == [
        "Weimin Xiong", "Yifan Song", "Qingxiu Dong", "Bingchan Zhao", "Feifan Song", "Xun Wang", "Sujian Li",
    ]  # fmt: skip
    assert first.upvotes == 12
    assert first.upvotes_at == first.published == "2025-03-05"
    assert first.meta_date == "2025-03-04T14:54:45Z"
    assert first.links["hf"] == "https://huggingface.co/papers/2503.02682"
    assert first.links["code"] == "https://github.com/WeiminXiong/MPO"
    assert first.links["abs"] == "https://arxiv.org/abs/2503.02682"
    assert "project" not in first.links
    # Every other HF field, under HF's names and as given (the entry's own publishedAt is not the paper's).
    assert set(first.extra) == {"numComments", "thumbnail", "submittedBy", "isAuthorParticipating", "authors",
                                "publishedAt", "discussionId", "githubRepo"}
    assert first.extra["numComments"] == 1 and first.extra["isAuthorParticipating"] is False
    assert first.extra["publishedAt"] == "2025-03-04T14:54:45.000Z"
    assert first.extra["submittedBy"]["name"] == "xwm"
    assert first.extra["authors"][0] == {"_id": "67c7c3d073299239b63f5378", "name": "Weimin Xiong", "hidden": False}
    # Saved before March 2025's submittedOnDailyAt: featured on the file's day, by the submitter, time unknown.
    assert (first.featured_day, first.featured_by, first.featured_at) == ("2025-03-05", "xwm", None)
    assert first.source == "hf-daily"
    last = papers[-1]
    assert items[-1][0] == 12
    assert last.arxiv_id == "2503.02876"
    assert last.title.startswith("SPIDER: A Comprehensive Multi-Organ Supervised Pathology Dat")
    assert last.authors[0] == "Dmitry Nechaev" and last.authors[-1] == "Ekaterina Ivanova"
    assert last.upvotes == 1


def test_daily_2026_08_21_new_fields() -> None:
    papers = papers_of(parse_full_name(parse_daily, shared(f"{DAILY}/2026-08-21.json")))
    assert len(papers) == 17
    first = papers[0]
    assert first.arxiv_id == "2608.19880"
    assert first.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert len(first.authors) == 17
    assert first.authors[:2] == ["Chengsong Huang", "Zifeng Wang"] and first.authors[-1] == "Chen-Yu Lee"
    assert first.upvotes == 163
    assert first.published == first.upvotes_at == "2026-08-21"
    assert first.meta_date == "2026-08-20T00:00:00Z"
    assert first.links["code"] == "https://github.com/google-research/envharness"
    assert first.links["project"] == "https://envharness.com/"
    assert first.extra["ai_keywords"][:3] == ["LLM agents", "Environment Harness", "EnvHarness"]
    assert len(first.extra["ai_keywords"]) == 8
    assert first.extra["numComments"] == 1


def test_daily_reconstructed_compact_file() -> None:
    """2024-12-11 is one of the 22 files turned back into JSON (compact form)."""
    path = shared(f"{DAILY}/2024-12-11.json")
    assert path.read_bytes()[:2] == b"[{"
    papers = papers_of(parse_full_name(parse_daily, path))
    assert len(papers) == 26
    first = papers[0]
    assert first.arxiv_id == "2412.07730"
    assert first.title == "STIV: Scalable Text and Image Conditioned Video Generation"
    assert first.upvotes == 54
    assert len(first.authors) == 17
    assert first.authors[:5] == ["Zongyu Lin", "Wei Liu", "Chen Chen", "Jiasen Lu", "Wenze Hu"]
    assert first.published == "2024-12-11"
    assert first.meta_date == "2024-12-10T18:27:06Z"


def test_daily_hidden_authors_are_kept_in_order() -> None:
    papers = papers_of(parse_full_name(parse_daily, shared(f"{DAILY}/2024-06-26.json")))
    last = papers[-1]
    assert last.arxiv_id == "2406.17774"
    # Wiersma, Philip and Deschaintre are marked hidden on HF but are real authors.
    assert last.authors == [
        "Ruben Wiersma", "Julien Philip", "Miloš Hašan", "Krishna Mullia",
        "Fujun Luan", "Elmar Eisemann", "Valentin Deschaintre",
    ]  # fmt: skip


def test_daily_project_page_with_stray_space() -> None:
    papers = papers_of(parse_full_name(parse_daily, shared(f"{DAILY}/2025-03-17.json")))
    paper = next(p for p in papers if p.arxiv_id == "2503.11646")
    assert paper.links["project"] == "https://sites.google.com/view/adc-robot"


def test_all_daily_files_detect_and_parse() -> None:
    shared(DAILY)
    files = sorted((SHARED / DAILY).glob("*.json"))
    assert len(files) == 580
    total, ids, misdetected = 0, set(), []
    for path in files:
        if detect(path.read_bytes()[:HEAD_BYTES]) != "hf-daily":
            misdetected.append(path.name)
        items = parse_full_name(parse_daily, path)
        assert all(isinstance(item, Paper) for _, item in items), path.name
        day = path.stem
        for _, paper in items:
            assert paper.published == paper.upvotes_at == day
            assert paper.source == "hf-daily" and paper.arxiv_id and paper.upvotes is not None
            assert paper.title and paper.abstract and paper.authors
        total += len(items)
        ids.update(paper.arxiv_id for _, paper in items)
    assert misdetected == []
    assert total == 9881
    assert len(ids) == 9877  # 4 papers were listed on two days


def test_daily_without_date_in_name_uses_the_entry() -> None:
    """From stdin the listing day comes from submittedOnDailyAt, else the entry's publishedAt."""
    newer = papers_of(run(parse_daily, shared(f"{DAILY}/2026-08-21.json").read_bytes()))
    assert newer[0].published == newer[0].upvotes_at == "2026-08-21"  # submittedOnDailyAt
    older = papers_of(run(parse_daily, shared(f"{DAILY}/2025-03-05.json").read_bytes()))
    assert older[0].published == older[0].upvotes_at == "2025-03-04"  # top-level publishedAt


def test_every_key_of_every_daily_file_is_kept_or_placed() -> None:
    """Each key HF gives (top level and under ``paper``) has a place of its own, is kept in
    ``extra`` as given, or is one of the few decided against (ENTRY_NOT_KEPT)."""
    shared(DAILY)
    seen: set[str] = set()
    for path in sorted((SHARED / DAILY).glob("*.json")):
        entries = orjson.loads(path.read_bytes())
        for raw, (_, paper) in zip(entries, parse_full_name(parse_daily, path)):
            for key, value in raw["paper"].items():
                seen.add(f"paper.{key}")
                if key in PAPER_FIELDS or value in (None, "", [], {}):
                    continue
                if key == "ai_keywords":
                    value = [k for k in value if k.strip()] or None  # blank keywords are left out
                assert paper.extra.get(key) == value, (path.name, key)
            for key, value in raw.items():
                seen.add(key)
                if key not in ENTRY_NOT_KEPT and value not in (None, "", [], {}):
                    assert paper.extra[key] == value, (path.name, key)
    assert {"paper.submittedOnDailyAt", "paper.submittedOnDailyBy", "paper.ai_summary", "paper.githubStars",
            "paper.organization", "paper.mediaUrls", "paper.githubRepoAddedBy", "paper.ai_summary_model",
            "submittedBy", "submitterOrganization", "mediaUrl", "thumbnail", "isAuthorParticipating"} <= seen


def test_daily_featured_day_submitter_and_time() -> None:
    newer = papers_of(parse_full_name(parse_daily, shared(f"{DAILY}/2026-08-21.json")))
    raw = orjson.loads(shared(f"{DAILY}/2026-08-21.json").read_bytes())[0]
    assert newer[0].featured_day == "2026-08-21"
    assert newer[0].featured_by == raw["submittedBy"]["name"] == raw["paper"]["submittedOnDailyBy"]["user"]
    assert newer[0].featured_at == raw["paper"]["submittedOnDailyAt"]
    # From stdin: submittedOnDailyAt still says the day; an older answer has no day to say.
    assert papers_of(run(parse_daily, shared(f"{DAILY}/2026-08-21.json").read_bytes()))[0].featured_day == "2026-08-21"
    older = papers_of(run(parse_daily, shared(f"{DAILY}/2025-03-05.json").read_bytes()))
    assert {(p.featured_day, p.featured_by, p.featured_at) for p in older} == {(None, None, None)}
    # The sync request's URL carries the day of an older answer.
    url = "https://huggingface.co/api/daily_papers?date=2025-03-05&limit=100"
    synced = papers_of(run(parse_daily, shared(f"{DAILY}/2025-03-05.json").read_bytes(), url))
    assert {p.featured_day for p in synced} == {"2025-03-05"}


def test_search_features_nothing() -> None:
    papers = papers_of(parse_full_name(parse_search, shared(f"{SEARCH}/papers_search_q-llama3herd_11results.json")))
    assert {p.featured_day for p in papers} == {None}
    first = papers[0]
    assert first.extra["thumbnail"].endswith("/2407.21783.png") and first.extra["discussionId"]
    assert not {"upvoted", "highlightedTitle", "highlightedSummary"} & set(first.extra)
    assert first.extra["authors"][0]["user"]["user"] == "dubeya"  # HF's author objects, as given


def test_date_in_name() -> None:
    assert date_in_name("/data/hf-daily-papers/2025-03-05.json") == "2025-03-05"
    assert date_in_name("/backup/2024-01-01/daily-2025-03-05.json") == "2025-03-05"
    assert date_in_name("2025-13-45.json") is None
    assert date_in_name("<stdin>") is None


# --- real search responses -----------------------------------------------


def test_search_llama3_herd() -> None:
    path = shared(f"{SEARCH}/papers_search_q-llama3herd_11results.json")
    assert detect(path.read_bytes()[:HEAD_BYTES]) == "hf-search"
    before = datetime.now(timezone.utc).date().isoformat()
    items = parse_full_name(parse_search, path)
    after = datetime.now(timezone.utc).date().isoformat()
    papers = papers_of(items)
    assert len(items) == len(papers) == 11
    first = papers[0]
    assert first.arxiv_id == "2407.21783"
    assert first.title == "The Llama 3 Herd of Models"
    assert first.upvotes == 115
    assert first.upvotes_at in (before, after)
    assert first.published == "2024-07-31"
    assert first.meta_date == "2024-07-31T17:54:27Z"
    assert first.authors[:3] == ["Abhimanyu Dubey", "Abhinav Jauhri", "Abhinav Pandey"]
    assert first.authors[-1] == "Zhiwei Zhao"
    assert "Onur Çelebi" in first.authors
    assert first.extra["numComments"] == 6
    assert first.extra["ai_keywords"][0] == "Transformer"
    assert first.source == "hf-search"
    doge = next(p for p in papers if p.arxiv_id == "2503.05856")
    assert doge.links["code"] == "https://github.com/lorenzflow/robust-moa"
    assert doge.upvotes == 7
    assert [p.arxiv_id for p in papers][-1] == "2407.18743"


def test_search_kazakh_published_is_the_papers_day() -> None:
    path = shared(f"{SEARCH}/papers_search_q-kazakh_9results.json")
    assert detect(path.read_bytes()[:HEAD_BYTES]) == "hf-search"
    papers = papers_of(parse_full_name(parse_search, path))
    assert len(papers) == 9
    first = papers[0]
    assert first.arxiv_id == "2404.04487"
    assert first.title == "KazQAD: Kazakh Open-Domain Question Answering Dataset"
    # paper.publishedAt is 2024-04-06T03:40; the entry's own publishedAt says 04-05.
    assert first.published == "2024-04-06"
    assert first.authors == [
        "Rustem Yeshpanov", "Pavel Efimov", "Leonid Boytsov", "Ardak Shalkarbayuli", "Pavel Braslavski",
    ]  # fmt: skip
    assert first.upvotes == 1
    assert [p.arxiv_id for p in papers][3] == "2111.13419"


def test_search_with_date_in_name_observes_upvotes_that_day() -> None:
    data = shared(f"{SEARCH}/papers_search_q-kazakh_9results.json").read_bytes()
    papers = papers_of(run(parse_search, data, "search-2025-05-18.json"))
    assert {p.upvotes_at for p in papers} == {"2025-05-18"}


def test_each_parser_tolerates_the_other_shape() -> None:
    search = shared(f"{SEARCH}/papers_search_q-kazakh_9results.json").read_bytes()
    daily = shared(f"{DAILY}/2025-03-05.json").read_bytes()
    as_daily = papers_of(run(parse_daily, search, "q.json"))
    assert len(as_daily) == 9 and as_daily[0].arxiv_id == "2404.04487"
    assert as_daily[0].published == "2024-04-05"  # the entry's publishedAt: no listing day known
    as_search = papers_of(run(parse_search, daily, "2025-03-05.json"))
    assert len(as_search) == 12 and as_search[0].published == "2025-03-04"
    assert as_search[0].upvotes_at == "2025-03-05"


# --- dirty input ---------------------------------------------------------


def test_truncated_document_raises() -> None:
    data = shared(f"{DAILY}/2025-03-05.json").read_bytes()
    for parser in (parse_daily, parse_search):
        with pytest.raises(FormatError, match="not valid JSON"):
            run(parser, data[: len(data) // 2])


def test_invalid_utf8_raises() -> None:
    data = orjson.dumps([entry()]).replace(b"A Title", b"A \xff Title")
    with pytest.raises(FormatError, match="UTF-8"):
        run(parse_daily, data)


def test_not_an_array_raises() -> None:
    with pytest.raises(FormatError, match="not a JSON array"):
        run(parse_daily, b'{"error": "Invalid date"}')


def test_empty_array_and_empty_input_yield_nothing() -> None:
    assert run(parse_daily, b"[]") == []
    assert run(parse_search, b" [ ]\n") == []
    assert run(parse_daily, b"") == []


def test_single_entry_object_counts_as_one() -> None:
    papers = papers_of(run(parse_daily, orjson.dumps(entry())))
    assert [p.arxiv_id for p in papers] == ["2503.02682"]


def test_bad_elements_are_rejected_by_position_and_others_survive() -> None:
    data = orjson.dumps([entry(), 42, {"title": "no paper"}, entry(title=""), entry("2503.00001")])
    items = run(parse_daily, data, "2025-03-05.json")
    assert [line for line, _ in items] == [1, 2, 3, 4, 5]
    kinds = [(item.reason if isinstance(item, Reject) else item.arxiv_id) for _, item in items]
    assert kinds == ["2503.02682", "not a JSON object", "missing paper", "missing title", "2503.00001"]
    assert all(item.line == line for line, item in items if isinstance(item, Reject))


def test_counts_that_are_not_whole_numbers_are_left_out() -> None:
    raw = entry(githubStars="many", discussionId="abc")
    raw["numComments"] = True
    (paper,) = papers_of(run(parse_daily, orjson.dumps([raw]), "2025-03-05.json"))
    assert "numComments" not in paper.extra and "githubStars" not in paper.extra
    assert paper.extra["discussionId"] == "abc"


def test_title_falls_back_to_the_entry() -> None:
    raw = entry()
    del raw["paper"]["title"]
    raw["title"] = "Top-level Title"
    (paper,) = papers_of(run(parse_daily, orjson.dumps([raw])))
    assert paper.title == "Top-level Title"


def test_non_arxiv_id_is_kept_with_its_hf_id() -> None:
    assert parse_arxiv_id("abc123def") is None
    items = run(parse_daily, orjson.dumps([entry("abc123def")]), "2025-03-05.json")
    ((line, paper),) = items
    assert isinstance(paper, Paper)
    assert paper.arxiv_id is None
    assert paper.source_id == paper.id == "hf:abc123def"
    assert paper.links == {"hf": "https://huggingface.co/papers/abc123def"}


def test_versioned_id_and_missing_fields() -> None:
    raw = entry("2503.02682v2", upvotes=None, authors=None, githubRepo="", projectPage=None, ai_keywords=[])
    raw["paper"].pop("publishedAt")
    del raw["numComments"]
    (paper,) = papers_of(run(parse_daily, orjson.dumps([raw]), "2025-03-05.json"))
    assert paper.arxiv_id == "2503.02682" and paper.version == 2
    assert paper.upvotes is None and paper.upvotes_at is None
    assert paper.authors == [] and paper.meta_date is None and paper.extra == {}
    assert set(paper.links) == {"abs", "pdf", "hf"}
    assert paper.links["hf"] == "https://huggingface.co/papers/2503.02682"
