"""Generic JSON (lines, arrays, single objects) and CSV: real files and dirty inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import parse_file, shared, write_input

from paperradar.model import FormatError, Paper, Reject
from paperradar.sources.common import MAX_ABSTRACT_CHARS
from paperradar.sources.detect import HEAD_BYTES, detect
from paperradar.sources.generic import parse_csv, parse_jsonl

CSFCUBE = "eval/csfcube-dev/corpus.jsonl"
OPENALEX = "fixtures/openalex/work_W2741809807.json"


run = parse_file
write = write_input


def by_line(items: list) -> dict:
    return {line: p for line, p in items}


def jl(*objs: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


# ---------------------------------------------------------------------------
# Real files


@pytest.mark.parametrize("relative", [CSFCUBE, OPENALEX])
def test_real_json_files_are_detected_as_jsonl(relative: str) -> None:
    assert detect(shared(relative).read_bytes()[:HEAD_BYTES]) == "jsonl"


def test_csfcube_corpus() -> None:
    items = run(parse_jsonl, shared(CSFCUBE))
    assert len(items) == 4205
    assert [line for line, _ in items[:3]] == [1, 2, 3]
    assert all(isinstance(p, Paper) for _, p in items)
    first = items[0][1]
    assert first.id == first.source_id == "10010426"
    assert first.arxiv_id is None and first.doi is None
    assert first.title == (
        "And That's A Fact: Distinguishing Factual and Emotional Argumentation in Online Dialogue"
    )
    assert first.abstract.startswith("We investigate the characteristics of factual and emotional")
    assert first.published == "2017-01-01"  # "year": "2017"
    assert first.source == "jsonl"
    last = items[-1][1]
    assert last.id == "102352181" and last.title.startswith("Inferring Which Medical Treatments Work")
    assert len({p.id for _, p in items}) == 4205


def test_openalex_work() -> None:
    (item,) = run(parse_jsonl, shared(OPENALEX))
    line, work = item
    assert line == 1
    assert work.title == (
        "The state of OA: a large-scale analysis of the prevalence and impact of Open Access articles"
    )
    assert work.doi == "10.7717/peerj.4375" and work.id == "doi:10.7717/peerj.4375"
    assert work.source_id == "https://openalex.org/W2741809807"
    assert work.published == "2018-02-13"
    assert work.journal_ref == "PeerJ"
    assert work.authors == [
        "Heather Piwowar", "Jason Priem", "Vincent Larivière", "Juan Pablo Alperín", "Lisa Matthias",
        "Bree Norlander", "Ashley Farley", "Jevin D. West", "Stefanie Haustein",
    ]  # fmt: skip
    # abstract_inverted_index put back in word order (258 words)
    assert work.abstract.startswith("Despite growing interest in Open Access (OA) to scholarly literature,")
    assert work.abstract.endswith("as a way to inform OA policy and practice.")
    assert len(work.abstract.split()) == 258


# ---------------------------------------------------------------------------
# JSON lines, dirty


def test_jsonl_broken_and_bad_lines_do_not_stop_the_rest(tmp_path: Path) -> None:
    data = (
        (
            jl({"id": "2506.00001", "title": "Good One"})
            + '{"id": "2506.00002", "title": "broken\n'
            + "\n"
            + jl({"id": "x", "abstract": "no title"})
        ).encode()
        + b'{"title": "Caf\xe9"}\n'
        + jl({"title": "Last"}).encode()
        + b"[1, 2]\n"
    )
    got = by_line(run(parse_jsonl, write(tmp_path, data, "dirty.jsonl")))
    assert got[1].id == "2506.00001"
    assert got[2].reason == "broken JSON" and got[2].line == 2
    assert got[4] == Reject(4, "missing title")
    assert got[5] == Reject(5, "bad encoding", "invalid UTF-8")
    assert got[6].title == "Last"
    assert got[7] == Reject(7, "not a JSON object")
    assert sorted(got) == [1, 2, 4, 5, 6, 7]


def test_jsonl_broken_first_line(tmp_path: Path) -> None:
    data = '{"title": "cut off\n' + jl({"title": "Second"}, {"title": "Third"})
    got = by_line(run(parse_jsonl, write(tmp_path, data, "first.jsonl")))
    assert got[1].reason == "broken JSON"
    assert (got[2].title, got[3].title) == ("Second", "Third")


def test_jsonl_ids_versions_old_style_duplicates(tmp_path: Path) -> None:
    data = jl(
        {"id": "2506.01234v2", "title": "Versioned"},
        {"arxiv_id": "hep-th/9901001", "title": "Old Style"},
        {"paper_id": "https://arxiv.org/abs/1706.03762v7", "title": "From a URL"},
        {"id": "https://doi.org/10.1234/ABC.5", "title": "DOI Id"},
        {"id": "W123", "doi": "10.5555/xyz", "title": "Own Id And DOI"},
        {"id": "2506.01234v3", "title": "Versioned Again"},
        {"arxiv_id": "not-an-id", "title": "Bad arXiv Id"},
    )
    got = by_line(run(parse_jsonl, write(tmp_path, data, "ids.jsonl")))
    assert (got[1].id, got[1].arxiv_id, got[1].version) == ("2506.01234", "2506.01234", 2)
    assert (got[2].id, got[2].arxiv_id) == ("hep-th/9901001", "hep-th/9901001")
    assert (got[3].id, got[3].version) == ("1706.03762", 7)
    assert (got[4].id, got[4].doi, got[4].source_id) == ("doi:10.1234/abc.5", "10.1234/abc.5", None)
    assert (got[5].id, got[5].source_id) == ("doi:10.5555/xyz", "W123")
    # duplicates inside one file are both yielded; merging is the store's job
    assert (got[6].id, got[6].version) == ("2506.01234", 3)
    assert got[7].reason == "bad arXiv id"


def test_jsonl_field_variants(tmp_path: Path) -> None:
    data = jl(
        {
            "Title": "Upper Case Keys",
            "Summary": "A summary.",
            "authors": "Ann Lee, Bob Ray and Cy Dee",
            "categories": "cs.LG cs.AI",
            "date": "2024-03-05T10:00:00Z",
            "journal": {"name": "Some Journal"},
            "url": "https://example.org/p",
            "comment": "10 pages",
        },
        {"title": "Semicolons", "author": "Lee, Ann; Ray, Bob", "categories": "cs.CL, stat.ML", "year": 2019},
        {"title": "Objects", "authors": [{"name": "Ann Lee"}, {"given": "Bob", "family": "Ray"}, "Cy Dee"]},
        {"title": "S2", "paperId": "abc", "externalIds": {"ArXiv": "2101.00001", "DOI": "10.1/x"}},
        {"title": "Listed", "listed": "2025-06-02", "description": "From description.", "journal": "arXiv"},
    )
    got = by_line(run(parse_jsonl, write(tmp_path, data, "fields.jsonl")))
    one = got[1]
    assert (one.title, one.abstract) == ("Upper Case Keys", "A summary.")
    assert one.authors == ["Ann Lee", "Bob Ray", "Cy Dee"]
    assert one.categories == ["cs.LG", "cs.AI"]
    assert one.published == "2024-03-05"
    assert (one.journal_ref, one.comment) == ("Some Journal", "10 pages")
    assert one.links == {"url": "https://example.org/p"}
    assert got[2].authors == ["Ann Lee", "Bob Ray"] and got[2].categories == ["cs.CL", "stat.ML"]
    assert got[2].published == "2019-01-01"
    assert got[3].authors == ["Ann Lee", "Bob Ray", "Cy Dee"]
    assert got[4].arxiv_id == "2101.00001" and got[4].source_id == "abc"
    assert got[5].published == "2025-06-02" and got[5].abstract == "From description."
    assert got[5].journal_ref is None


def test_jsonl_huge_abstract_is_capped(tmp_path: Path) -> None:
    abstract = "word " * (2 * 1024 * 1024)  # 10 MB
    path = write(tmp_path, jl({"id": "2506.09999", "title": "Big", "abstract": abstract}), "big.jsonl")
    got = run(parse_jsonl, path)
    ((line, paper),) = got
    assert line == 1 and paper.id == "2506.09999"
    assert len(paper.abstract) <= MAX_ABSTRACT_CHARS + 2 and paper.abstract.endswith(" …")


def test_json_pretty_array_gives_real_lines(tmp_path: Path) -> None:
    data = json.dumps(
        [{"id": "2506.00001", "title": "First"}, 42, {"title": "Third", "authors": ["A"]}], indent=2
    )
    items = run(parse_jsonl, write(tmp_path, data, "array.json"))
    assert [line for line, _ in items] == [2, 6, 7]
    assert items[0][1].id == "2506.00001"
    assert items[1][1] == Reject(6, "not a JSON object")
    assert items[2][1].authors == ["A"]


def test_json_pretty_single_object_and_concatenated_objects(tmp_path: Path) -> None:
    one = json.dumps({"title": "Pretty", "doi": "10.1234/p"}, indent=2)
    items = run(parse_jsonl, write(tmp_path, one, "one.json"))
    assert [(line, p.id) for line, p in items] == [(1, "doi:10.1234/p")]
    two = "\n" + one + "\n" + json.dumps({"title": "Second"}, indent=2) + "\n"
    assert [line for line, _ in run(parse_jsonl, write(tmp_path, two, "two.json"))] == [2, 6]


def test_json_wrapper_object_is_unwrapped(tmp_path: Path) -> None:
    data = json.dumps({"meta": {"count": 2}, "results": [{"title": "R1"}, {"title": "R2"}]}, indent=1)
    items = run(parse_jsonl, write(tmp_path, data, "wrapped.json"))
    assert [(line, p.title) for line, p in items] == [(6, "R1"), (9, "R2")]


def test_json_broken_document_raises(tmp_path: Path) -> None:
    data = '[\n  {"title": "A"},\n  {"title": "B",,}\n]\n'
    with pytest.raises(FormatError, match="broken JSON at line 3"):
        run(parse_jsonl, write(tmp_path, data, "broken.json"))
    with pytest.raises(FormatError, match="UTF-8"):
        run(parse_jsonl, write(tmp_path, b'[\n{"title": "Caf\xe9"}\n]', "latin1.json"))


def test_jsonl_empty(tmp_path: Path) -> None:
    assert run(parse_jsonl, write(tmp_path, b"", "empty.jsonl")) == []
    assert run(parse_jsonl, write(tmp_path, b"\n\n", "blank.jsonl")) == []


# ---------------------------------------------------------------------------
# CSV


def test_csv_multiline_quoted_fields_and_line_numbers(tmp_path: Path) -> None:
    data = (
        "ID,Title,Abstract,Authors,Year,Categories\r\n"
        '2506.01234v2,"A Title, With Comma","Line one\r\nline two\r\n\r\nnew paragraph",'
        "Ann Lee and Bob Ray,2025,cs.LG\r\n"
        'hep-th/9901001,Old Style,,"Lee, Ann; Ray, Bob",1999,hep-th\r\n'
        "\r\n"
        "x1,,No title here,,,\r\n"
        "x2,Dup,,,,\r\n"
        "x2,Dup,,,,\r\n"
    )
    got = by_line(run(parse_csv, write(tmp_path, data, "papers.csv")))
    assert sorted(got) == [2, 6, 8, 9, 10]
    first = got[2]
    assert (first.id, first.version, first.title) == ("2506.01234", 2, "A Title, With Comma")
    assert first.abstract == "Line one line two\n\nnew paragraph"
    assert first.authors == ["Ann Lee", "Bob Ray"]
    assert (first.published, first.categories, first.source) == ("2025-01-01", ["cs.LG"], "csv")
    assert got[6].id == "hep-th/9901001" and got[6].authors == ["Ann Lee", "Bob Ray"]
    assert got[8] == Reject(8, "missing title")
    assert got[9].id == got[10].id == "x2"


def test_csv_bad_encoding_rejects_only_that_row(tmp_path: Path) -> None:
    data = b'title,authors\nFine,"A, B"\n"Caf\xe9\nspanning",C\nAlso Fine,D\n'
    got = by_line(run(parse_csv, write(tmp_path, data, "bad.csv")))
    assert got[2].title == "Fine" and got[2].authors == ["A", "B"]
    assert got[3] == Reject(3, "bad encoding", "invalid UTF-8")
    assert got[5].title == "Also Fine"


def test_csv_huge_field(tmp_path: Path) -> None:
    abstract = "word " * (2 * 1024 * 1024)  # 10 MB, far above csv's default 128 KB field limit
    data = f"title,abstract,doi\nBig,{abstract},10.1234/big\nSmall,tiny,\n"
    items = run(parse_csv, write(tmp_path, data, "big.csv"))
    assert [line for line, _ in items] == [2, 3]
    big = items[0][1]
    assert big.id == "doi:10.1234/big" and len(big.abstract) <= MAX_ABSTRACT_CHARS + 2


def test_csv_zotero_style_headers_bom_and_last_first_names(tmp_path: Path) -> None:
    data = (
        "\ufeffKey,Item Type,Publication Year,Author,Title,Publication Title,DOI,Url,Abstract Note\n"
        'ABCD1234,journalArticle,2021,"Schuster, Tal; Fisch, Adam",Vitamin C,Proc. NAACL,,'
        "http://arxiv.org/abs/2103.08541,About facts.\n"
    )
    ((line, paper),) = run(parse_csv, write(tmp_path, data, "zotero.csv"))
    assert line == 2
    assert paper.authors == ["Tal Schuster", "Adam Fisch"]
    assert paper.published == "2021-01-01" and paper.journal_ref == "Proc. NAACL"
    assert paper.abstract == "About facts."
    assert paper.arxiv_id == "2103.08541" and paper.source_id == "ABCD1234"


def test_csv_tab_separated(tmp_path: Path) -> None:
    data = "title\tyear\tid\nTabbed\t2020\t2001.00001\n"
    ((_, paper),) = run(parse_csv, write(tmp_path, data, "papers.tsv"))
    assert (paper.title, paper.published, paper.id) == ("Tabbed", "2020-01-01", "2001.00001")


def test_csv_empty(tmp_path: Path) -> None:
    assert run(parse_csv, write(tmp_path, b"", "empty.csv")) == []
    assert run(parse_csv, write(tmp_path, b"title,abstract\n", "header.csv")) == []
