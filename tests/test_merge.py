"""One record per paper across sources: joins, per-field freshness, order independence.

End to end through the CLI on real files (HF daily + arXiv listing, HF pages,
Kaggle + BibTeX), and directly on :meth:`SQLiteStore.merge` with explicit
``meta_date`` values where a rule needs exact control.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from community_fixtures import empty_db, opened  # noqa: F401  (empty_db: a fixture)
from conftest import shared
from helpers import (  # noqa: F401  (fixtures are used by name)
    FIXTURES,
    HF_DAILY,
    HF_PAGES,
    arxiv_lines,
    arxiv_record,
    arxiv_records,
    arxiv_slice,
    cli,
    db_dump,
    hf_page,
    import_json,
    paper_count,
    public_papers,
    show_json,
    stats_json,
)

from paperradar.model import Paper
from paperradar.sources.common import finish

# HF daily files whose days fall inside the slice's listing days (2025-03-18 .. 2025-03-28).
HF_DAYS = ["2025-03-18", "2025-03-19", "2025-03-20", "2025-03-21", "2025-03-24", "2025-03-25",
           "2025-03-26", "2025-03-27", "2025-03-28"]  # fmt: skip


def hf_day_paths() -> list[Path]:
    return [shared(f"{HF_DAILY}{day}.json") for day in HF_DAYS]


def hf_entries(paths: list[Path]) -> dict[str, dict]:
    """arXiv id -> the HF paper object of its last listing among ``paths``."""
    out = {}
    for path in paths:
        for entry in json.loads(path.read_bytes()):
            out[entry["paper"]["id"]] = entry["paper"]
    return out


# ---------------------------------------------------------------------------
# HF daily + arXiv listing


@pytest.mark.parametrize("order", ["arxiv-first", "hf-first"])
def test_hf_daily_and_arxiv_listing_make_one_record(capsys, tmp_path, arxiv_slice, arxiv_records, order):
    hf_paths = hf_day_paths()
    hf = hf_entries(hf_paths)
    listing = {r["arxiv_id"]: r for r in arxiv_records}
    both = sorted(set(hf) & set(listing))
    assert len(both) >= 100  # the real overlap in these days

    db = tmp_path / "papers.db"
    batches = [[arxiv_slice], hf_paths] if order == "arxiv-first" else [hf_paths, [arxiv_slice]]
    for paths in batches:
        import_json(capsys, db, *paths)
    assert paper_count(db) == len(set(hf) | set(listing))

    # "DreamRenderer" (2503.12885): 21 upvotes on HF 2025-03-18, cs.CV and "11 pages" on arXiv.
    paper = show_json(capsys, db, "2503.12885")
    assert paper["upvotes"] == 21
    assert paper["categories"] == ["cs.CV"]
    assert paper["comment"] == "11 pages"
    assert paper["date"] == "2025-03-18"
    assert {s["source"] for s in paper["sources"]} == {"arxiv-listing", "hf-daily"}
    assert {"abs", "pdf", "hf", "code"} <= set(paper["links"])
    assert "ai_keywords" in paper["extra"]

    dump = db_dump(db)
    for pid in both:
        row = dump["papers"][pid]
        assert json.loads(row["categories"]) == listing[pid]["categories"], pid
        assert row["upvotes"] == hf[pid]["upvotes"], pid
        assert row["comment"] == (listing[pid]["comment"] or None), pid
        assert row["published"] == min(listing[pid]["listed"], row["published"]), pid
    sources = {}
    for pid, source, *_ in dump["provenance"]:
        sources.setdefault(pid, set()).add(source)
    assert all(sources[pid] == {"arxiv-listing", "hf-daily"} for pid in both)


def test_hf_and_arxiv_import_order_does_not_matter(capsys, tmp_path, arxiv_slice):
    hf_paths = hf_day_paths()
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    import_json(capsys, a, arxiv_slice)
    import_json(capsys, a, *hf_paths)
    import_json(capsys, b, *hf_paths)
    import_json(capsys, b, arxiv_slice)
    pa, pb = public_papers(a), public_papers(b)
    assert set(pa) == set(pb)
    assert [pid for pid in pa if pa[pid] != pb[pid]] == []


def test_newer_upvote_snapshot_wins_in_either_order(capsys, tmp_path):
    # 2503.14378 ("Impossible Videos") has 35 upvotes in the 2025-03-19 file. An older
    # snapshot of the same entry (saved on 2025-03-19's eve with 3 upvotes) must not win.
    real = shared(HF_DAILY + "2025-03-19.json")
    doc = json.loads(real.read_bytes())
    entry = next(e for e in doc if e["paper"]["id"] == "2503.14378")
    older = json.loads(json.dumps(entry))
    older["paper"]["upvotes"] = 3
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    old_file = old_dir / "2025-03-18.json"
    old_file.write_text(json.dumps([older]))
    for order in ([real, old_file], [old_file, real]):
        db = tmp_path / f"{order[0].parent.name}.db"
        for path in order:
            import_json(capsys, db, path)
        paper = show_json(capsys, db, "2503.14378")
        assert paper["upvotes"] == 35
        assert paper["upvote_sources"] == [{"site": "huggingface", "count": 35, "observed_at": "2025-03-19"}]
        assert paper["date"] == "2025-03-18"  # first listed: the earliest day seen


# ---------------------------------------------------------------------------
# Newer metadata wins per field


@pytest.mark.parametrize("order", ["old-first", "new-first"])
def test_newer_listing_wins_per_field(capsys, tmp_path, order):
    old = tmp_path / "old.jsonl"
    new = tmp_path / "new.jsonl"
    old.write_bytes(arxiv_record(
        "2506.04321", title="Old title", abstract="Old abstract.", authors=["A One"],
        categories=["cs.LG"], comment="8 pages", listed="2025-06-02",
    ))  # fmt: skip
    new.write_bytes(arxiv_record(
        "2506.04321v2", title="New title", abstract="New abstract.", authors=["A One", "B Two"],
        categories=["cs.CL", "cs.LG"], comment=None, listed="2025-06-20",
    ))  # fmt: skip
    db = tmp_path / "papers.db"
    for path in ([old, new] if order == "old-first" else [new, old]):
        import_json(capsys, db, path)
    paper = show_json(capsys, db, "2506.04321")
    assert paper["title"] == "New title"
    assert paper["abstract"] == "New abstract."
    assert paper["authors"] == ["A One", "B Two"]
    assert paper["categories"] == ["cs.CL", "cs.LG"]
    assert paper["comment"] == "8 pages"  # the newer record has none: the older one's stays
    assert paper["date"] == "2025-06-02"  # first listed
    assert paper["version"] == 2
    assert paper_count(db) == 1


@pytest.mark.parametrize("order", ["old-first", "new-first"])
def test_newer_kaggle_snapshot_wins(capsys, tmp_path, order):
    line = shared(FIXTURES + "kaggle_arxiv_snapshot/arxiv-metadata-oai-snapshot.first200.jsonl").open("rb").readline()
    record = json.loads(line)
    newer = dict(record, title="Prompt diphoton production revisited", comments=None, update_date="2024-01-05",
                 versions=record["versions"] + [{"version": "v3", "created": "Fri, 5 Jan 2024 10:00:00 GMT"}])
    old_path, new_path = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old_path.write_bytes(line)
    new_path.write_text(json.dumps(newer) + "\n")
    db = tmp_path / "papers.db"
    for path in ([old_path, new_path] if order == "old-first" else [new_path, old_path]):
        import_json(capsys, db, path)
    paper = show_json(capsys, db, "0704.0001")
    assert paper["title"] == "Prompt diphoton production revisited"
    assert paper["comment"] == "37 pages, 15 figures; published version"
    assert paper["journal_ref"] == "Phys.Rev.D76:013009,2007"
    assert paper["date"] == "2007-04-02"
    assert paper["updated"] == "2024-01-05"
    assert paper["version"] == 3


def keyed(paper: Paper) -> Paper:
    _, item = finish(paper, 1)
    assert isinstance(item, Paper)
    return item


def draft(meta_date: str | None, **fields) -> Paper:
    base = {"title": "Untitled", "arxiv_id": "2506.05555", "source": "test"}
    base.update(fields)
    return keyed(Paper(meta_date=meta_date, **base))


RECORDS = [
    dict(meta_date="2025-06-01", title="T1", abstract="A1", authors=["X"], categories=["cs.AI"],
         comment="c1", journal_ref=None, published="2025-06-01", version=1, links={"code": "https://a"}),
    dict(meta_date="2025-07-01", title="T2", abstract="", authors=["X", "Y"], categories=[],
         comment=None, journal_ref="J2", published="2025-06-03", updated="2025-07-01", version=2,
         links={"code": "https://b"}),
    dict(meta_date="2025-06-15", title="T3", abstract="A3", authors=["Z"], categories=["cs.CL"],
         comment="c3", journal_ref="J3", published="2025-05-30", version=None, links={"project": "https://p"}),
]  # fmt: skip
EXPECTED = {
    "title": "T2",            # newest record has it
    "abstract": "A3",         # newest lacks it: the next newest
    "authors": ["X", "Y"],
    "categories": ["cs.CL"],  # newest lacks them
    "comment": "c3",
    "journal_ref": "J2",
    "published": "2025-05-30",  # earliest
    "updated": "2025-07-01",
    "version": 2,
    "links": {"abs": "https://arxiv.org/abs/2506.05555", "pdf": "https://arxiv.org/pdf/2506.05555",
              "code": "https://b", "project": "https://p"},
}  # fmt: skip


@pytest.mark.parametrize("perm", list(itertools.permutations(range(3))), ids=lambda p: "".join(map(str, p)))
@pytest.mark.parametrize("batched", [False, True], ids=["one-per-batch", "one-batch"])
def test_store_merge_fresher_wins_field_by_field_in_any_order(store, perm, batched):
    papers = [draft(**RECORDS[i]) for i in perm]
    if batched:
        store.merge(papers, "test")
    else:
        for p in papers:
            store.merge([p], "test")
    row = store.get("2506.05555")
    assert row is not None
    assert {k: row[k] for k in EXPECTED} == EXPECTED
    assert store.count() == 1


def test_store_merge_tie_later_import_wins_and_reimport_is_no_op(store):
    r1 = store.merge([draft(None, title="First wording")], "a")
    r2 = store.merge([draft(None, title="Second wording")], "b")
    assert (r1.new, r2.updated) == (1, 1)
    assert store.get("2506.05555")["title"] == "Second wording"
    r3 = store.merge([draft(None, title="Second wording")], "b")
    assert (r3.new, r3.updated, r3.unchanged) == (0, 0, 1)


def test_store_merge_reimport_of_conflicting_records_is_a_no_op(store):
    """Two records of one paper that disagree, in one input: importing the input again changes nothing."""
    batch = lambda: [draft(None, authors=["A", "B"]), draft(None, authors=["B", "A"])]  # noqa: E731
    store.merge(batch(), "refs.json")
    before = store.get("2506.05555")
    again = store.merge(batch(), "refs.json")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    after = store.get("2506.05555")
    assert after["authors"] == before["authors"] == ["B", "A"]
    assert after["changed_at"] == before["changed_at"]


def test_store_upvotes_one_count_per_site_and_local_votes_add(store):
    store.merge([draft("2025-06-02", upvotes=10, upvotes_at="2025-06-02", source="hf-daily")], "d")
    store.merge([draft("2025-06-02", upvotes=4, upvotes_at="2025-06-01", source="hf-daily")], "older")
    assert store.get("2506.05555")["upvotes"] == 10
    # The search API is the same site (Hugging Face): its newer count replaces, never adds.
    store.merge([draft("2025-06-02", upvotes=12, upvotes_at="2025-06-05", source="hf-search")], "s")
    assert store.get("2506.05555")["upvotes"] == 12
    assert store.add_user_vote("2506.05555")["total"] == 13  # the owner's vote adds to the imported count
    assert store.get("2506.05555")["upvotes"] == 13
    assert store.remove_user_vote("2506.05555")["total"] == 12
    assert store.remove_user_vote("2506.05555")["total"] == 12  # no vote to take back: nothing changes
    store.merge([draft("2025-06-02", upvotes=20, upvotes_at="2025-06-06", source="hf-daily")], "later")
    store.add_user_vote("2506.05555")
    assert store.vote_counts("2506.05555") == {"users": 1, "huggingface": 20, "total": 21}
    assert store.get("2506.05555")["upvotes"] == 21  # a newer HF count replaces HF's, the local vote stays


# ---------------------------------------------------------------------------
# Title-only records (HF page text) join the arXiv record with the same title


def crafted_page(records: list[dict], picks: tuple[int, ...]) -> bytes:
    return hf_page([(" ".join(records[i]["title"].split()), records[i]["abstract"]) for i in picks])


@pytest.mark.parametrize("order", ["arxiv-first", "page-first"])
def test_crafted_hf_page_joins_arxiv_by_title(capsys, tmp_path, arxiv_slice, arxiv_records, order, empty_db):
    picks = (3, 250, 1999)
    page = tmp_path / "hf-page.txt"
    page.write_bytes(crafted_page(arxiv_records, picks))
    db = empty_db  # on each backend: the join is the store's SQL
    for path in ([arxiv_slice, page] if order == "arxiv-first" else [page, arxiv_slice]):
        summary = import_json(capsys, db, path)
        assert summary["errors"] == []
    assert stats_json(capsys, db)["papers"] == 2000
    assert count(db, "SELECT COUNT(*) FROM papers WHERE id LIKE 'title:%'") == 0
    for i in picks:
        record = arxiv_records[i]
        paper = show_json(capsys, db, record["arxiv_id"])
        assert {s["source"] for s in paper["sources"]} == {"arxiv-listing", "hf-page"}
        assert paper["categories"] == record["categories"]
        assert paper["authors"] == record["authors"]
        assert paper["date"] == record["listed"]


@pytest.mark.parametrize("order", ["arxiv-first", "page-first"])
def test_real_hf_page_joins_arxiv_by_title(capsys, tmp_path, arxiv_slice, order):
    # Page 003 lists 52 papers; one of them, "KL3M Tokenizers ...", is 2503.17247 in the slice.
    page = shared(HF_PAGES + "003_6c3771268cde0a38.txt")
    db = tmp_path / "papers.db"
    for path in ([arxiv_slice, page] if order == "arxiv-first" else [page, arxiv_slice]):
        import_json(capsys, db, path)
    stats = stats_json(capsys, db)
    assert stats["papers"] == 2000 + 52 - 1
    paper = show_json(capsys, db, "2503.17247")
    assert paper["title"].startswith("KL3M Tokenizers")
    assert {s["source"] for s in paper["sources"]} == {"arxiv-listing", "hf-page"}


def test_local_votes_on_a_title_only_paper_survive_its_absorption(capsys, tmp_path, arxiv_slice, arxiv_records,
                                                                  empty_db):
    record = arxiv_records[42]
    page = tmp_path / "page.txt"
    page.write_bytes(crafted_page(arxiv_records, (42,)))
    db = empty_db
    import_json(capsys, db, page)
    with opened(db) as store:
        [(title_id,)] = [tuple(r) for r in store.conn.execute("SELECT id FROM papers")]
    assert title_id.startswith("title:")
    rc, _, _ = cli(capsys, "--db", db, "vote", title_id)
    assert rc == 0
    import_json(capsys, db, arxiv_slice)
    paper = show_json(capsys, db, record["arxiv_id"])
    assert paper["upvotes"] == 1
    assert stats_json(capsys, db)["papers"] == 2000


# ---------------------------------------------------------------------------
# DOI-only records join the paper with that DOI


BIB_DOI_ONLY = b"""@article{balazs2007diphoton,
  title   = {Diphoton production at the {Tevatron} and the {LHC}},
  author  = {Bal{\\'a}zs, C. and Berger, E. L. and Nadolsky, P. M. and Yuan, C.-P.},
  journal = {Physical Review D},
  volume  = {76},
  pages   = {013009},
  year    = {2007},
  doi     = {10.1103/PhysRevD.76.013009}
}
"""


@pytest.mark.parametrize("order", ["kaggle-first", "bib-first"])
def test_doi_only_bibtex_joins_paper_with_that_doi(capsys, tmp_path, order, empty_db):
    kaggle = shared(FIXTURES + "kaggle_arxiv_snapshot/arxiv-metadata-oai-snapshot.first200.jsonl")
    bib = tmp_path / "refs.bib"
    bib.write_bytes(BIB_DOI_ONLY)
    db = empty_db
    for path in ([kaggle, bib] if order == "kaggle-first" else [bib, kaggle]):
        summary = import_json(capsys, db, path)
        assert summary["errors"] == [] and summary["rejected"] == 0
    assert stats_json(capsys, db)["papers"] == 200
    paper = show_json(capsys, db, "0704.0001")
    assert paper["doi"] == "10.1103/physrevd.76.013009"
    assert {s["source"] for s in paper["sources"]} == {"kaggle", "bibtex"}
    # The dated arXiv metadata wins over the undated BibTeX wording.
    assert paper["title"] == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert count(db, "SELECT COUNT(*) FROM papers WHERE id LIKE 'doi:%'") == 0


def count(db: Path | str, sql: str) -> int:
    """A ``SELECT COUNT(*)`` on either backend."""
    with opened(db) as store:
        return int(store.conn.execute(sql).fetchone()[0])
