"""`paperradar import` end to end: every format through the CLI into a fresh SQLite file.

Real files from ../shared wherever they exist (a 2,000-line slice of the
arXiv listing, HF daily files, every captured fixture, the csfcube corpus);
hand-made files only for dirt the real data does not have in a small slice.
Stored papers being whole, and a killed import keeping whole batches, are also
checked on PostgreSQL (the parsing is the same on both backends).
"""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from community_fixtures import empty_db, location, opened  # noqa: F401  (empty_db: a fixture)
from conftest import ROOT, shared
from helpers import (  # noqa: F401  (fixtures are used by name)
    CSFCUBE,
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
    read_arxiv_lines,
    run,
    show_json,
)

from paperradar.sources.common import MAX_ABSTRACT_CHARS

SUMMARY_KEYS = {
    "new", "updated", "unchanged", "rejected", "rejected_by_reason", "incomplete",
    "inputs", "errors", "aborted", "seconds", "papers_per_second",
}  # fmt: skip


# ---------------------------------------------------------------------------
# Every importer on the real files


def test_arxiv_listing_slice_end_to_end(capsys, tmp_path, arxiv_slice, arxiv_records):
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, arxiv_slice)
    assert SUMMARY_KEYS <= set(summary)
    assert (summary["new"], summary["updated"], summary["unchanged"], summary["rejected"]) == (2000, 0, 0, 0)
    assert summary["inputs"] == [{"name": str(arxiv_slice), "format": "arxiv-jsonl", "records": 2000, "error": None}]
    assert summary["errors"] == [] and summary["aborted"] is None
    assert paper_count(db) == 2000

    first, last = arxiv_records[0], arxiv_records[-1]
    for record in (first, last):
        paper = show_json(capsys, db, record["arxiv_id"])
        assert paper["id"] == record["arxiv_id"]
        assert paper["title"] == " ".join(record["title"].split())
        assert paper["authors"] == record["authors"]
        assert paper["categories"] == record["categories"]
        assert paper["date"] == record["listed"]
        assert paper["links"]["abs"] == f"https://arxiv.org/abs/{record['arxiv_id']}"
        assert [s["source"] for s in paper["sources"]] == ["arxiv-listing"]
        assert paper["sources"][0]["origin"] == str(arxiv_slice)


# (file under ../shared, detected format, papers stored, an id that must be there, its title's start)
REAL_FILES = [
    ("fixtures/arxiv_api/idlist_1605.08386.xml", "arxiv-api", 1, "1605.08386", "Heat-bath random walks"),
    ("fixtures/arxiv_api/idlist_oldstyle_astro-ph_0601001.xml", "arxiv-api", 1, "astro-ph/0601001",
     "Frequency of Hot Jupiters"),
    ("fixtures/arxiv_api/idlist_oldstyle_versioned_quant-ph_0201082v1.xml", "arxiv-api", 1, "quant-ph/0201082",
     "Quantum Computers and Quantum Computer Languages"),
    ("fixtures/arxiv_api/search_testing_max100.xml", "arxiv-api", 100, "2202.12139", "Testing Deep Learning Models"),
    ("fixtures/arxiv_api/legacy2017_search_deep_dream_max10.xml", "arxiv-api", 10, "1611.09520",
     "Hierarchical Neural Representation"),
    ("fixtures/arxiv_oai/GetRecord_arXivRaw_1302.2146.xml", "arxiv-oai", 1, "1302.2146",
     "The Same-Sign Dilepton Signature"),
    ("fixtures/arxiv_oai/ListRecords_arXiv_set-cs_46records_complete.xml", "arxiv-oai", 46, "1101.4388",
     "Reproducing Kernel Banach Spaces"),
    ("fixtures/arxiv_oai/ListRecords_arXivRaw_trimmed6_resumptionToken.xml", "arxiv-oai", 6, "0704.0471",
     "Density dependence of the symmetry energy"),
    ("fixtures/arxiv_oai/ListRecords_oai_dc_set-cs_trimmed5_resumptionToken.xml", "arxiv-oai", 5, "1303.2033",
     "Extended Fourier analysis of signals"),
    ("fixtures/arxiv_rss/rss_arxiv_org_rss_multi-cat_trimmed4items.xml", "arxiv-rss", 4, "2609.26811",
     "The Drift Contract"),
    ("fixtures/arxiv_rss/rss_arxiv_org_atom_cs.LG_trimmed3.xml", "arxiv-rss", 3, "2609.28553", "SMILESGNN"),
    ("fixtures/arxiv_rss/legacy_export_arxiv_org_rss_hep-ex_2018-05-23_RDF_trimmed3.xml", "arxiv-rss", 3,
     "1805.08875", "Measurement of Transverse Single Spin Asymmetries"),
    ("fixtures/kaggle_arxiv_snapshot/arxiv-metadata-oai-snapshot.first200.jsonl", "kaggle", 200, "0704.0001",
     "Calculation of prompt diphoton production"),
    ("fixtures/huggingface_papers/papers_search_q-llama3herd_11results.json", "hf-search", 11, "2407.21783",
     "The Llama 3 Herd of Models"),
    ("fixtures/huggingface_papers/papers_search_q-kazakh_9results.json", "hf-search", 9, "2404.04487", "KazQAD"),
    ("fixtures/bibtex/arxiv_bibtex_export_9entries.bib", "bibtex", 9, "2407.07726", "PaliGemma"),
    ("fixtures/bibtex/semantic_scholar_citationStyles_bibtex_4entries.bib", "bibtex", 4, "Bertrand2001HowMS",
     "How Much Should We Trust Differences-in-Differences"),
    ("fixtures/zotero_exports/zotero_bibtex_export_mixed_arxiv_acl.bib", "bibtex", 50,
     "doi:10.18653/v1/2021.naacl-main.52", "Get Your Vitamin C!"),
    ("fixtures/zotero_exports/zotero_bbt_csljson_export_with_arxiv.json", "csl-json", 133,
     "abbottUnderstandingAnalysis2015", "Understanding Analysis"),
    ("fixtures/zotero_exports/zotero_ris_export_5items.ris", "ris", 5, "doi:10.1371/journal.pcbi.1003531",
     "Waste Not, Want Not"),
    ("fixtures/openalex/work_W2741809807.json", "jsonl", 1, "doi:10.7717/peerj.4375", "The state of OA"),
    ("fixtures/semantic_scholar/paper_turing1950_allfields_TRIMMED_citations20of1000.json", "jsonl", 1,
     "doi:10.1093/mind/lix.236.433", "Computing Machinery and Intelligence"),
    (CSFCUBE, "jsonl", 4205, "10010426", "And That's A Fact"),
    (HF_DAILY + "2025-03-18.json", "hf-daily", 17, "2503.12885", "DreamRenderer"),
    (HF_PAGES + "003_6c3771268cde0a38.txt", "hf-page", 52, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("relative", "fmt", "papers", "paper_id", "title"), REAL_FILES,
                         ids=[r[0].rsplit("/", 1)[-1] for r in REAL_FILES])
def test_every_importer_on_real_files(capsys, tmp_path, relative, fmt, papers, paper_id, title):
    db = tmp_path / "papers.db"
    path = shared(relative)
    summary = import_json(capsys, db, path)
    assert summary["inputs"][0]["format"] == fmt
    assert summary["errors"] == []
    assert summary["rejected"] == 0
    assert summary["new"] == papers
    assert paper_count(db) == papers
    if paper_id is not None:
        paper = show_json(capsys, db, paper_id)
        assert paper["title"].startswith(title)
        assert [s["source"] for s in paper["sources"]] == [fmt if fmt != "arxiv-jsonl" else "arxiv-listing"]


def test_hf_search_keeps_upvotes_and_hf_link(capsys, tmp_path):
    db = tmp_path / "papers.db"
    import_json(capsys, db, shared(FIXTURES + "huggingface_papers/papers_search_q-llama3herd_11results.json"))
    paper = show_json(capsys, db, "2407.21783")
    assert paper["upvotes"] == 115
    assert paper["links"]["hf"] == "https://huggingface.co/papers/2407.21783"


def test_several_hf_daily_days(capsys, tmp_path):
    days = ["2025-03-18", "2025-03-19", "2025-03-20"]
    paths = [shared(f"{HF_DAILY}{d}.json") for d in days]
    expected_ids = set()
    entries = 0
    for p in paths:
        doc = json.loads(p.read_bytes())
        entries += len(doc)
        expected_ids |= {e["paper"]["id"] for e in doc}
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, *paths)
    assert [i["format"] for i in summary["inputs"]] == ["hf-daily"] * 3
    assert sum(i["records"] for i in summary["inputs"]) == entries
    assert summary["new"] == len(expected_ids) == paper_count(db)
    # The listing day is the file's date, and the upvotes are HF's.
    paper = show_json(capsys, db, "2503.14378")  # "Impossible Videos", listed 2025-03-19 with 35 upvotes
    assert paper["date"] == "2025-03-19"
    assert paper["upvotes"] == 35
    assert paper["upvote_sources"] == [{"site": "huggingface", "count": 35, "observed_at": "2025-03-19"}]


def test_generic_csv(capsys, tmp_path):
    csv_path = tmp_path / "papers.csv"
    csv_path.write_bytes(
        b"Title,Abstract,Authors,ID,Date\n"
        b'Attention Is All You Need,"The dominant sequence transduction models.\n\nWe propose the Transformer.",'
        b'"Ashish Vaswani; Noam Shazeer",1706.03762v7,2017-06-12\n'
        b',An abstract without a title.,Nobody,x1,2020-01-01\n'
        b'Caf\xe9 broken,Latin-1 bytes in this row.,Someone,x2,2020-01-01\n'
        b'"A Paper, With a Comma",Short abstract.,"Grace Hopper",doi:10.1000/xyz123,2019\n'
    )
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, csv_path)
    assert summary["inputs"][0]["format"] == "csv"
    assert summary["new"] == 2
    assert summary["rejected_by_reason"] == {"missing title": 1, "bad encoding": 1}
    paper = show_json(capsys, db, "1706.03762")
    assert paper["title"] == "Attention Is All You Need"
    assert paper["abstract"] == "The dominant sequence transduction models.\n\nWe propose the Transformer."
    assert paper["authors"] == ["Ashish Vaswani", "Noam Shazeer"]
    assert paper["version"] == 7
    assert paper["date"] == "2017-06-12"
    other = show_json(capsys, db, "doi:10.1000/xyz123")
    assert other["title"] == "A Paper, With a Comma" and other["date"] == "2019-01-01"


def test_generic_jsonl_csfcube_corpus_fields(capsys, tmp_path):
    path = shared(CSFCUBE)
    first = json.loads(path.open("rb").readline())
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, path)
    # The corpus has no authors: kept, and reported as incomplete.
    assert summary["incomplete"] == {"missing authors": 4205}
    paper = show_json(capsys, db, first["paper_id"])
    assert paper["title"] == first["title"]
    assert paper["abstract"] == first["abstract"]
    assert paper["date"] == f"{first['year']}-01-01"


# ---------------------------------------------------------------------------
# Inputs: directories, .gz, stdin, --format


def test_directory_is_read_recursively_including_gz(capsys, tmp_path, arxiv_lines):
    root = tmp_path / "inbox"
    (root / "hf" / "march").mkdir(parents=True)
    (root / "bib").mkdir()
    shutil.copy(shared(HF_DAILY + "2025-03-18.json"), root / "hf" / "march" / "2025-03-18.json")
    shutil.copy(shared(FIXTURES + "bibtex/arxiv_bibtex_export_9entries.bib"), root / "bib" / "refs.bib")
    with gzip.open(root / "listing.data.gz", "wb") as f:  # recognised by content, not by name
        f.writelines(arxiv_lines[:100])
    (root / ".hidden.json").write_bytes(b"not read: hidden files are skipped")
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, root)
    formats = {Path(i["name"]).name: i["format"] for i in summary["inputs"]}
    assert formats == {"2025-03-18.json": "hf-daily", "refs.bib": "bibtex", "listing.data.gz": "arxiv-jsonl"}
    assert summary["errors"] == []
    listing_ids = {json.loads(line)["arxiv_id"] for line in arxiv_lines[:100]}
    hf_ids = {e["paper"]["id"] for e in json.loads(shared(HF_DAILY + "2025-03-18.json").read_bytes())}
    assert paper_count(db) == len(listing_ids | hf_ids) + 9


def test_stdin_plain_and_gzip(tmp_path, arxiv_lines):
    db = tmp_path / "papers.db"
    plain = b"".join(arxiv_lines[:50])
    proc = run("import", "--no-embed", "-", "--json", db=db, stdin=plain)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["new"] == 50
    assert summary["inputs"][0]["format"] == "arxiv-jsonl"

    proc = run("import", "--no-embed", "-", "--json", db=db, stdin=gzip.compress(b"".join(arxiv_lines[:80])))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["new"], summary["unchanged"]) == (30, 50)
    assert paper_count(db) == 80


def test_format_option_overrides_detection(capsys, tmp_path, arxiv_records):
    record = arxiv_records[0]
    title, abstract = " ".join(record["title"].split()), record["abstract"]
    page = tmp_path / "page.txt"
    page.write_bytes(hf_page([(title, abstract)], chrome=False))  # one pair, no chrome: not recognisable

    db = tmp_path / "papers.db"
    rc, _, err = cli(capsys, "--db", db, "import", "--no-embed", page)
    assert rc == 1
    assert "page.txt" in err and "not a recognised format" in err
    assert paper_count(db) == 0

    summary = import_json(capsys, db, page, extra=("--format", "hf-page"))
    assert summary["inputs"][0]["format"] == "hf-page"
    assert summary["new"] == 1

    # The override also wins over a format that detection would pick.
    listing = tmp_path / "listing.jsonl"
    listing.write_bytes(arxiv_record("2506.00001"))
    summary = import_json(capsys, db, listing, extra=("--format", "jsonl"))
    assert summary["inputs"][0]["format"] == "jsonl"
    assert [s["source"] for s in show_json(capsys, db, "2506.00001")["sources"]] == ["jsonl"]


# ---------------------------------------------------------------------------
# Summary, rejects, --report, --strict


def dirty_listing() -> bytes:
    """Good records mixed with every kind of bad line, in the arXiv listing format."""
    return b"".join([
        arxiv_record("2506.00001"),                                   # 1 good
        b'{"arxiv_id": "2506.00002", "title": "Broken\n',              # 2 broken JSON
        arxiv_record("2506.00003", title=""),                         # 3 missing title
        b'{"arxiv_id": "2506.00004", "title": "Caf\xe9", "listed": "2025-06-02"}\n',  # 4 invalid UTF-8
        arxiv_record("2506.00005", abstract=""),                      # 5 kept, missing abstract
        arxiv_record("2506.00006", authors=[]),                       # 6 kept, missing authors
        b"[1, 2, 3]\n",                                               # 7 not an object
        arxiv_record("2506.00001"),                                   # 8 duplicate of line 1
        arxiv_record("2506.01234v2", title="Versioned id"),           # 9 new-style id with version
        arxiv_record("hep-th/9901001", title="Old-style id"),         # 10 old-style id
    ])  # fmt: skip


def test_summary_counts_and_json_keys(capsys, tmp_path):
    path = tmp_path / "dirty.jsonl"
    path.write_bytes(dirty_listing())
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, path)
    assert SUMMARY_KEYS <= set(summary)
    # Five papers; line 8 repeats line 1 and changes nothing.
    assert (summary["new"], summary["updated"], summary["unchanged"]) == (5, 0, 1)
    assert summary["rejected"] == 4
    assert summary["rejected_by_reason"] == {
        "broken JSON": 1, "missing title": 1, "bad encoding": 1, "not a JSON object": 1,
    }  # fmt: skip
    assert summary["incomplete"] == {"missing abstract": 1, "missing authors": 1}
    assert summary["inputs"] == [{"name": str(path), "format": "arxiv-jsonl", "records": 10, "error": None}]
    assert summary["errors"] == [] and summary["aborted"] is None
    assert isinstance(summary["seconds"], float)
    assert show_json(capsys, db, "2506.00005")["abstract"] == ""
    assert show_json(capsys, db, "2506.00006")["authors"] == []


def test_text_summary_and_rejects_on_stderr(capsys, tmp_path):
    path = tmp_path / "dirty.jsonl"
    path.write_bytes(dirty_listing())
    db = tmp_path / "papers.db"
    rc, out, err = cli(capsys, "--db", db, "import", "--no-embed", path)
    assert rc == 0  # rejected records do not make the exit code non-zero
    assert out.startswith("5 new, 0 updated, 1 unchanged, 4 rejected")
    assert "rejected, missing title: 1" in out
    assert "kept, missing abstract: 1" in out and "kept, missing authors: 1" in out
    rejected = [line for line in err.splitlines() if line.startswith("rejected: ")]
    expected = [f"{path}:2: broken JSON", f"{path}:3: missing title", f"{path}:4: bad encoding",
                f"{path}:7: not a JSON object"]  # fmt: skip
    assert len(rejected) == len(expected)
    for line, want in zip(rejected, expected, strict=True):
        assert line.startswith(f"rejected: {want}"), line


def test_json_summary_still_names_rejects_on_stderr(capsys, tmp_path):
    """Rejects are shown on stderr (file:line and reason) with --json too: stdout holds the JSON."""
    path = tmp_path / "dirty.jsonl"
    path.write_bytes(dirty_listing())
    db = tmp_path / "papers.db"
    rc, out, err = cli(capsys, "--db", db, "import", "--no-embed", "--json", path)
    assert rc == 0
    assert json.loads(out)["rejected"] == 4
    assert f"{path}:3: missing title" in err


def test_first_20_rejects_shown_all_counted_and_reported(capsys, tmp_path):
    lines = []
    for i in range(1, 61):
        lines.append(arxiv_record(f"2506.{i:05d}", title="" if i % 2 == 0 else f"Paper {i}"))
    path = tmp_path / "many-bad.jsonl"
    path.write_bytes(b"".join(lines))
    report = tmp_path / "rejects.jsonl"
    db = tmp_path / "papers.db"
    rc, out, err = cli(capsys, "--db", db, "import", "--no-embed", path, "--report", report)
    assert rc == 0
    assert out.startswith("30 new, 0 updated, 0 unchanged, 30 rejected")
    shown = [line for line in err.splitlines() if line.startswith("rejected: ")]
    assert shown == [f"rejected: {path}:{n}: missing title" for n in range(2, 41, 2)]
    assert f"... and 10 more rejected (all in {report})" in err
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(rows) == 30
    assert rows[0] == {"file": str(path), "line": 2, "reason": "missing title", "detail": ""}
    assert [r["line"] for r in rows] == list(range(2, 61, 2))
    assert paper_count(db) == 30


def test_bad_records_never_abort_the_good_ones(capsys, tmp_path, arxiv_lines):
    # Bad lines sprinkled through a real slice: every good record still lands.
    lines = list(arxiv_lines[:300])
    for pos in (0, 100, 200, 299):
        lines.insert(pos, b'{"arxiv_id": "9999.9999", "title": \n')
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(lines))
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, path)
    assert summary["new"] == 300
    assert summary["rejected_by_reason"] == {"broken JSON": 4}
    assert paper_count(db) == 300


def test_strict_imports_nothing_and_exits_1(tmp_path, arxiv_slice):
    bad = tmp_path / "dirty.jsonl"
    bad.write_bytes(dirty_listing())
    db = tmp_path / "papers.db"
    # A good file first, then the bad one: the whole run is rolled back.
    proc = run("import", "--no-embed", "--strict", arxiv_slice, bad, db=db)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "--strict" in err and f"{bad}:2: broken JSON" in err
    assert "Traceback" not in err
    dump = db_dump(db)
    assert dump["papers"] == {} and dump["provenance"] == [] and dump["categories"] == []
    # Nor does the keyword index know any of the rolled-back papers.
    proc = run("search", "DreamRenderer", "--json", db=db)
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_strict_with_clean_input_imports_everything(capsys, tmp_path, arxiv_slice):
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, arxiv_slice, extra=("--strict",))
    assert summary["new"] == 2000 and summary["aborted"] is None


def test_strict_with_damaged_input_imports_nothing(tmp_path, arxiv_slice):
    data = arxiv_slice.read_bytes()
    half = tmp_path / "half.jsonl.gz"
    half.write_bytes(data[: len(data) // 2])
    db = tmp_path / "papers.db"
    proc = run("import", "--no-embed", "--strict", half, db=db)
    assert proc.returncode == 1
    assert "truncated" in proc.stderr.decode()
    assert paper_count(db) == 0


# ---------------------------------------------------------------------------
# Damaged inputs: one clear line, no traceback, exit code 1


def one_error_line(stderr: bytes, name: str) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if name in line]
    assert len(lines) == 1, text
    return lines[0]


def test_random_binary_file(tmp_path):
    path = tmp_path / "random.bin"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    db = tmp_path / "papers.db"
    proc = run("import", "--no-embed", path, db=db)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr, str(path))
    assert "not a recognised format" in line and "binary" in line


def test_text_file_in_no_known_format(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Shopping list\n\neggs\nmilk\n")
    proc = run("import", "--no-embed", path, db=tmp_path / "papers.db")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr, str(path))
    assert "not a recognised format" in line


def test_missing_path_exit_1_others_still_imported(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_bytes(arxiv_record("2506.00001"))
    missing = tmp_path / "nope.jsonl"
    db = tmp_path / "papers.db"
    proc = run("import", "--no-embed", missing, good, db=db)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr, str(missing))
    assert "no such file" in line
    assert paper_count(db) == 1


def test_unknown_file_does_not_stop_the_others(capsys, tmp_path, arxiv_slice):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02" * 1000)
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, junk, arxiv_slice, rc=1)
    assert summary["new"] == 2000
    [error] = summary["errors"]
    assert error.startswith(f"{junk}: not a recognised format (binary data)")
    assert summary["inputs"][1] == {"name": str(arxiv_slice), "format": "arxiv-jsonl", "records": 2000, "error": None}


def test_truncated_gzip_keeps_records_before_the_damage(tmp_path, arxiv_slice):
    data = arxiv_slice.read_bytes()
    half = tmp_path / "half.jsonl.gz"
    half.write_bytes(data[: len(data) // 2])
    db = tmp_path / "papers.db"
    proc = run("import", "--no-embed", half, db=db)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr, str(half))
    assert "truncated gzip" in line
    assert paper_count(db) > 0


def test_truncated_xml_keeps_records_before_the_damage(tmp_path):
    data = shared(FIXTURES + "arxiv_oai/ListRecords_arXiv_set-cs_46records_complete.xml").read_bytes()
    half = tmp_path / "half-oai.xml"
    half.write_bytes(data[: len(data) // 2])
    db = tmp_path / "papers.db"
    proc = run("import", "--no-embed", half, db=db)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr, str(half))
    assert "XML" in line
    assert 0 < paper_count(db) < 46


def test_empty_inputs_are_read_to_the_end(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n\n  \n")
    db = tmp_path / "papers.db"
    proc = run("import", "--no-embed", empty, blank, "-", "--json", db=db, stdin=b"")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["new"], summary["rejected"], summary["errors"]) == (0, 0, [])


def complete_lines_before_damage(compressed: bytes) -> int:
    """How many whole lines a reader can decompress from a cut gzip file."""
    return zlib.decompressobj(31).decompress(compressed).count(b"\n")


def test_truncated_gzip_keeps_every_complete_record_before_the_damage(capsys, tmp_path, arxiv_slice):
    data = arxiv_slice.read_bytes()
    for size in (30_000, len(data) // 2):  # a cut inside the first 256 KB read, and one further on
        cut = tmp_path / f"cut-{size}.jsonl.gz"
        cut.write_bytes(data[:size])
        readable = complete_lines_before_damage(cut.read_bytes())
        assert readable > 40
        db = tmp_path / f"cut-{size}.db"
        summary = import_json(capsys, db, cut, rc=1)
        assert "truncated gzip" in summary["errors"][0]
        assert paper_count(db) == readable, f"{size} bytes: {readable} complete records before the cut"


# ---------------------------------------------------------------------------
# Dirty records


def test_invalid_utf8_line_rejected_alone(capsys, tmp_path, arxiv_lines):
    lines = list(arxiv_lines[:10])
    lines[4] = lines[4].replace(b'"title": "', b'"title": "\xff\xfe', 1)
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b"".join(lines))
    db = tmp_path / "papers.db"
    rc, out, err = cli(capsys, "--db", db, "import", "--no-embed", path)
    assert rc == 0
    assert f"{path}:5: bad encoding" in err
    assert paper_count(db) == 9


def test_huge_abstract_is_imported_capped(capsys, tmp_path):
    words = "lorem ipsum dolor sit amet " * 400_000  # ~10.8 MB
    path = tmp_path / "huge.jsonl"
    path.write_bytes(arxiv_record("2506.00077", abstract=words) + arxiv_record("2506.00078"))
    assert path.stat().st_size > 10_000_000
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, path)
    assert summary["new"] == 2
    abstract = show_json(capsys, db, "2506.00077")["abstract"]
    assert 1000 < len(abstract) <= MAX_ABSTRACT_CHARS + 2
    assert abstract.startswith("lorem ipsum dolor sit amet lorem")


def test_duplicates_inside_one_file_make_one_paper(capsys, tmp_path, arxiv_lines):
    lines = list(arxiv_lines[:20]) + list(arxiv_lines[:5])
    path = tmp_path / "dups.jsonl"
    path.write_bytes(b"".join(lines))
    db = tmp_path / "papers.db"
    summary = import_json(capsys, db, path)
    assert summary["new"] == 20 and summary["updated"] == 0
    assert summary["inputs"][0]["records"] == 25
    assert paper_count(db) == 20
    paper = show_json(capsys, db, json.loads(arxiv_lines[0])["arxiv_id"])
    assert len(paper["sources"]) == 1


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("2506.01234", "2506.01234"),
        ("2506.01234v2", "2506.01234"),
        ("2506.01234v9", "2506.01234"),
        ("arXiv:2506.01234v2", "2506.01234"),
        ("https://arxiv.org/abs/2506.01234v2", "2506.01234"),
        ("https://arxiv.org/pdf/2506.01234", "2506.01234"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("http://arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
    ],
)
def test_versioned_and_old_style_ids(capsys, tmp_path, query, stored):
    path = tmp_path / "ids.jsonl"
    path.write_bytes(
        arxiv_record("2506.01234v2", title="Versioned id") + arxiv_record("hep-th/9901001v3", title="Old-style id")
    )
    db = tmp_path / "papers.db"
    import_json(capsys, db, path)
    with sqlite3.connect(db) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT id FROM papers")) == ["2506.01234", "hep-th/9901001"]
    paper = show_json(capsys, db, query)
    assert paper["id"] == stored
    assert paper["version"] == (2 if stored == "2506.01234" else 3)


# ---------------------------------------------------------------------------
# Idempotent re-import; papers are never half written


def test_reimport_is_a_no_op(capsys, tmp_path, arxiv_slice):
    inputs = [
        arxiv_slice,
        shared(HF_DAILY + "2025-03-18.json"),
        shared(HF_DAILY + "2025-03-19.json"),
        shared(HF_PAGES + "003_6c3771268cde0a38.txt"),
        shared(FIXTURES + "kaggle_arxiv_snapshot/arxiv-metadata-oai-snapshot.first200.jsonl"),
        shared(FIXTURES + "arxiv_oai/ListRecords_arXiv_set-cs_46records_complete.xml"),
        shared(FIXTURES + "arxiv_api/search_testing_max100.xml"),
        shared(FIXTURES + "arxiv_rss/rss_arxiv_org_rss_multi-cat_trimmed4items.xml"),
        shared(FIXTURES + "zotero_exports/zotero_bibtex_export_mixed_arxiv_acl.bib"),
        shared(FIXTURES + "zotero_exports/zotero_bbt_csljson_export_with_arxiv.json"),
        shared(FIXTURES + "zotero_exports/zotero_ris_export_5items.ris"),
        shared(FIXTURES + "huggingface_papers/papers_search_q-llama3herd_11results.json"),
    ]
    db = tmp_path / "papers.db"
    first = import_json(capsys, db, *inputs)
    assert first["errors"] == []
    before = db_dump(db)
    shown_before = {pid: show_json(capsys, db, pid) for pid in ("2503.12885", "2503.14378", "0704.0001")}
    time.sleep(1.05)  # timestamps have one-second resolution: a rewrite would show

    second = import_json(capsys, db, *inputs)
    total = first["new"] + first["updated"] + first["unchanged"]
    assert (second["new"], second["updated"], second["unchanged"]) == (0, 0, total)
    after = db_dump(db)
    # Every column of every table, timestamps included.
    assert [pid for pid, row in after["papers"].items() if row != before["papers"].get(pid)] == []
    assert set(after["provenance"]) - set(before["provenance"]) == set()
    assert after == before
    assert {pid: show_json(capsys, db, pid) for pid in shown_before} == shown_before


def test_every_stored_paper_is_whole(capsys, store, arxiv_slice, arxiv_records):
    """Each paper has its categories and its provenance, and keyword search finds it (on each backend)."""
    db = location(store)
    import_json(capsys, db, arxiv_slice, shared(HF_DAILY + "2025-03-18.json"))
    with opened(db) as seen:
        conn = seen.conn
        papers = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        no_source = conn.execute(
            "SELECT COUNT(*) FROM papers WHERE rowid NOT IN (SELECT paper FROM provenance)"
        ).fetchone()[0]
        uncategorised = conn.execute(
            "SELECT COUNT(*) FROM papers WHERE categories != '[]'"
            " AND rowid NOT IN (SELECT paper FROM paper_categories WHERE is_primary = 1)"
        ).fetchone()[0]
    assert papers == 2008
    assert no_source == 0 and uncategorised == 0
    for record in (arxiv_records[0], arxiv_records[1234], arxiv_records[-1]):
        rc, out, _ = cli(capsys, "--db", db, "search", f'title:"{" ".join(record["title"].split())}"', "--json")
        assert rc == 0
        assert record["arxiv_id"] in [hit["id"] for hit in json.loads(out)]


def _count_papers(db: Path | str) -> int:
    """How many papers the database holds now; 0 while it (or its schema) is not there yet."""
    if isinstance(db, Path):  # SQLite: never create the file before the import does
        if not db.exists():
            return 0
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # schema not there yet
    with opened(db) as seen:
        return int(seen.conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0])


def test_killed_import_leaves_only_whole_batches(tmp_path, empty_db):
    """A crash loses at most the batch in flight: what is stored is whole batches of whole papers."""
    lines = read_arxiv_lines(16_000)
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(lines))
    db = empty_db
    env = {"PAPERRADAR_DB": str(db), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "paperradar", "import", "--no-embed", "--no-progress", str(path)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline and proc.poll() is None:
            count = _count_papers(db)
            if count:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
    ids = {json.loads(line)["arxiv_id"] for line in lines}
    with opened(db) as seen:
        conn = seen.conn
        stored = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        with_source = conn.execute("SELECT COUNT(DISTINCT paper) FROM provenance").fetchone()[0]
        uncategorised = conn.execute(
            "SELECT COUNT(*) FROM papers WHERE categories != '[]'"
            " AND rowid NOT IN (SELECT paper FROM paper_categories WHERE is_primary = 1)"
        ).fetchone()[0]
    assert stored in (5000, 10000, 15000, len(ids))
    assert with_source == stored
    assert uncategorised == 0
    # What was committed is searchable: the first paper and the last one of the last whole batch.
    for record in (json.loads(lines[0]), json.loads(lines[stored - 1])):
        proc = run("search", f'title:"{" ".join(record["title"].split())}"', "--json", db=db)
        assert proc.returncode == 0, proc.stderr
        assert record["arxiv_id"] in [hit["id"] for hit in json.loads(proc.stdout)]


def test_cut_title_and_abstract_are_counted_and_reported(capsys, tmp_path):
    """Nothing is cut in silence: the summary counts truncations and --report names file, line and field."""
    long_title = "A very long title " * 80  # 1,440 characters
    path = tmp_path / "long.jsonl"
    path.write_bytes(arxiv_record("2506.00081", title=long_title, abstract="lorem ipsum " * 3000)
                     + arxiv_record("2506.00082"))
    report = tmp_path / "report.jsonl"
    code, out, err = cli(capsys, "--db", tmp_path / "p.db", "import", path, "--no-embed", "--no-progress",
                         "--report", report)
    assert code == 0, err
    assert "truncated: 1 title longer than 1,000 characters" in out
    assert "truncated: 1 abstract longer than 20,000 characters" in out
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert {(r["file"], r["line"], r["truncated"]) for r in lines} == {(str(path), 1, "title"), (str(path), 1, "abstract")}
    assert all(r["length"] > r["kept"] for r in lines)
    summary = import_json(capsys, tmp_path / "q.db", path)
    assert summary["truncated"] == 2 and summary["truncated_by_field"] == {"title": 1, "abstract": 1}


def test_import_puts_the_switch_interval_back(tmp_path, arxiv_lines):
    """Imports shorten the process's GIL switch interval while they run (see importer._quick_gil_handoffs);
    two at once in one process (a server) leave it as it was, whichever ends first."""
    from paperradar import importer
    from paperradar.app import Radar
    from paperradar.store import open_store

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.004)
    try:
        store = open_store(str(tmp_path / "a.db"))
        summary = importer.import_bytes(Radar(store), b"".join(arxiv_lines[:300]), "slice.jsonl")
        store.close()
        assert summary.new > 250
        assert sys.getswitchinterval() == 0.004
        first, second = importer._quick_gil_handoffs(), importer._quick_gil_handoffs()
        first.__enter__()
        second.__enter__()
        assert sys.getswitchinterval() == importer.SWITCH_INTERVAL
        first.__exit__(None, None, None)  # the first import ends while the second still runs
        assert sys.getswitchinterval() == importer.SWITCH_INTERVAL
        second.__exit__(None, None, None)
        assert sys.getswitchinterval() == 0.004
    finally:
        sys.setswitchinterval(before)
