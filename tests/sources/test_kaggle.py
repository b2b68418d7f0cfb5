"""The Kaggle arXiv metadata snapshot: the real first 200 lines, dirt, and streaming."""

from __future__ import annotations

import io
import itertools
import tracemalloc
from pathlib import Path

import orjson
import pytest
from conftest import shared

from paperradar.model import Paper, Reject
from paperradar.sources.detect import HEAD_BYTES, detect
from paperradar.sources.kaggle import parse, record_authors, rfc822_day, tex_to_unicode, version_dates

SAMPLE = "fixtures/kaggle_arxiv_snapshot/arxiv-metadata-oai-snapshot.first200.jsonl"
COPIES = 1000  # x 200 real lines = 200,000 lines, about 290 MB
TRACED_WINDOW = 2000


def run(data: bytes) -> list:
    return list(parse(io.BytesIO(data), "<stdin>"))


def record(**fields) -> bytes:
    base = {
        "id": "0704.0001",
        "submitter": "Someone",
        "authors": "A. Author and B. Writer",
        "title": "A Title",
        "abstract": "  An abstract.\n",
        "categories": "hep-ph",
        "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
        "update_date": "2008-11-26",
        "authors_parsed": [["Author", "A.", ""], ["Writer", "B.", ""]],
    }
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...}) + b"\n"


@pytest.fixture(scope="module")
def sample() -> dict[str, tuple[int, Paper]]:
    path = shared(SAMPLE)
    with path.open("rb") as stream:
        items = list(parse(stream, str(path)))
    assert len(items) == 200 and all(isinstance(item, Paper) for _, item in items)
    return {item.arxiv_id: (line, item) for line, item in items}


# --- the real sample -----------------------------------------------------


def test_detected_as_kaggle() -> None:
    assert detect(shared(SAMPLE).read_bytes()[:HEAD_BYTES]) == "kaggle"


def test_first_record(sample: dict[str, tuple[int, Paper]]) -> None:
    line, paper = sample["0704.0001"]
    assert line == 1
    assert paper.id == "0704.0001"
    title = "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert paper.title == title
    assert paper.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert paper.abstract.startswith("A fully differential calculation in perturbative quantum")
    assert paper.abstract.endswith("can be obtained with judicious selection of events.")
    assert paper.categories == ["hep-ph"]
    assert paper.comment == "37 pages, 15 figures; published version"
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert paper.doi == "10.1103/physrevd.76.013009"
    assert (paper.published, paper.updated, paper.version) == ("2007-04-02", "2007-07-24", 2)
    assert paper.meta_date == "2008-11-26"
    assert paper.source == "kaggle"
    assert paper.links == {"abs": "https://arxiv.org/abs/0704.0001", "pdf": "https://arxiv.org/pdf/0704.0001"}
    assert paper.upvotes is None


def test_categories_and_missing_fields(sample: dict[str, tuple[int, Paper]]) -> None:
    line, paper = sample["0704.0002"]
    assert line == 2
    assert paper.title == "Sparsity-certifying Graph Decompositions"
    assert paper.authors == ["Ileana Streinu", "Louis Theran"]
    assert paper.categories == ["math.CO", "cs.CG"]
    assert paper.comment == "To appear in Graphs and Combinatorics"
    assert paper.doi is None and paper.journal_ref is None


def test_three_versions(sample: dict[str, tuple[int, Paper]]) -> None:
    _, paper = sample["0704.0003"]
    assert paper.authors == ["Hongjun Pan"]
    assert paper.title == "The evolution of the Earth-Moon system based on the dark matter field fluid model"
    assert (paper.published, paper.updated, paper.version) == ("2007-04-01", "2008-01-13", 3)
    assert paper.meta_date == "2008-01-13"


def test_author_suffix_affiliation_and_collaboration(sample: dict[str, tuple[int, Paper]]) -> None:
    assert sample["0704.0009"][1].authors[5] == "Neal J. Evans II"
    # authors_parsed carries an affiliation as a fourth element: not part of the name.
    assert sample["0704.0044"][1].authors[:3] == ["A. A. Schekochihin", "S. C. Cowley", "W. Dorland"]
    assert sample["0704.0020"][1].authors == ["The BABAR Collaboration", "B. Aubert"]
    assert sample["0704.0147"][1].authors[0] == "Sudha"


def test_accented_names(sample: dict[str, tuple[int, Paper]]) -> None:
    assert sample["0704.0062"][1].authors == ["Rastislav Šrámek", "Broňa Brejová", "Tomáš Vinař"]
    assert sample["0704.0049"][1].authors == ["Mikkel Øbro"]
    assert sample["0704.0163"][1].authors == ["Peter Brommer", "Franz Gähler"]
    assert sample["0704.0032"][1].authors[1] == "R. Tomàs"


def test_last_record(sample: dict[str, tuple[int, Paper]]) -> None:
    line, paper = sample["0704.0200"]
    assert line == 200
    assert list(sample)[-1] == "0704.0200"


# --- names, dates, versions ----------------------------------------------


@pytest.mark.parametrize(
    "tex, text",
    [
        ("C. Bal\\'azs", "C. Balázs"),
        ("{\\'E}tienne", "Étienne"),
        ("\\'{E}tienne", "Étienne"),
        ('G\\"ahler', "Gähler"),
        ('M\\"{u}ller', "Müller"),
        ("\\v{S}r\\'amek", "Šrámek"),
        ("Fran\\c{c}ois", "François"),
        ("Fran\\c cois", "François"),
        ("Erd\\H{o}s", "Erdős"),
        ("Mikkel {\\O}bro", "Mikkel Øbro"),
        ("Stra\\ss e", "Straße"),
        ("\\L{}ukasz", "Łukasz"),
        ("Mart\\'{\\i}nez", "Martínez"),
        ("Pe\\~na", "Peña"),
        ("R. Tom\\`as", "R. Tomàs"),
        ("Plain Name", "Plain Name"),
    ],
)
def test_tex_to_unicode(tex: str, text: str) -> None:
    assert tex_to_unicode(tex) == text


def test_authors_string_fallback_drops_affiliations() -> None:
    obj = {
        "authors": "A. Greilich (1), M. Wiemann (1), D. R.\n  Yakovlev (1,2) and "
        "M. M\\\"uller ((1) Universit\\\"at Dortmund, (2) Ioffe Institute)",
    }
    assert record_authors(obj) == ["A. Greilich", "M. Wiemann", "D. R. Yakovlev", "M. Müller"]
    assert record_authors({"authors_parsed": [], "authors": "Ann Lee and Bo Chen"}) == ["Ann Lee", "Bo Chen"]
    assert record_authors({"authors_parsed": [["Lee", "Ann", "", "MIT"]]}) == ["Ann Lee"]


def test_dates_and_versions() -> None:
    assert rfc822_day("Mon, 2 Apr 2007 19:18:42 GMT") == "2007-04-02"
    assert rfc822_day("Sat, 31 Mar 2007 04:47:20 GMT") == "2007-03-31"
    assert rfc822_day("2007-04-02") == "2007-04-02"
    assert rfc822_day(None) is None
    versions = [
        {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
    ]
    assert version_dates(versions) == ("2007-04-02", "2007-07-24", 2)
    assert version_dates([]) == (None, None, None)
    assert version_dates(None) == (None, None, None)


def test_old_style_ids() -> None:
    items = run(record(id="math/0309136") + record(id="math.GT/0309137") + record(id="hep-th/9901001v2"))
    assert [item.arxiv_id for _, item in items] == ["math/0309136", "math/0309137", "hep-th/9901001"]
    assert items[0][1].links["abs"] == "https://arxiv.org/abs/math/0309136"


# --- dirty input ---------------------------------------------------------


def test_broken_line_is_rejected_and_later_lines_survive() -> None:
    data = record() + b'{"id": "0704.0002", "title": "cut off\n' + b"\n" + record(id="0704.0003")
    items = run(data)
    kinds = [(line, type(item).__name__) for line, item in items]
    assert kinds == [(1, "Paper"), (2, "Reject"), (4, "Paper")]
    assert items[1][1].reason == "broken JSON" and items[1][1].line == 2
    assert items[2][1].arxiv_id == "0704.0003"


def test_invalid_utf8_line_is_rejected() -> None:
    data = record() + record(id="0704.0002").replace(b"A Title", b"A \xff Title") + record(id="0704.0003")
    items = run(data)
    assert isinstance(items[1][1], Reject) and items[1][1].reason == "bad encoding" and items[1][0] == 2
    assert [item.arxiv_id for _, item in items if isinstance(item, Paper)] == ["0704.0001", "0704.0003"]


def test_missing_title_and_bad_id_are_rejected() -> None:
    items = run(record(title=...) + record(title="   ") + record(id="not-an-id") + b"[1, 2]\n" + record())
    reasons = [item.reason if isinstance(item, Reject) else "ok" for _, item in items]
    assert reasons == ["missing title", "missing title", "bad arXiv id", "not a JSON object", "ok"]
    assert [line for line, _ in items] == [1, 2, 3, 4, 5]


def test_sparse_record() -> None:
    data = record(versions=..., authors_parsed=..., update_date=None, categories=None, doi="", comments=None)
    ((_, paper),) = run(data)
    assert paper.authors == ["A. Author", "B. Writer"]
    assert paper.published is None and paper.updated is None and paper.version is None
    assert paper.meta_date is None and paper.categories == [] and paper.doi is None


# --- streaming -----------------------------------------------------------


@pytest.fixture(scope="module")
def big_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 real lines: the sample repeated with a new id prefix per copy."""
    lines = shared(SAMPLE).read_bytes().splitlines(keepends=True)
    path = tmp_path_factory.mktemp("kaggle") / "arxiv-metadata-oai-snapshot.json"
    with path.open("wb") as out:
        for copy in range(COPIES):
            prefix = b'"id":"%04d.' % (1001 + copy)
            out.write(b"".join(line.replace(b'"id":"0704.', prefix, 1) for line in lines))
    return path


def traced(items, count: int) -> tuple[int, int, int]:
    """(records consumed, memory still held, peak) while consuming ``count`` items."""
    tracemalloc.start()
    try:
        consumed = sum(1 for _ in itertools.islice(items, count))
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return consumed, current, peak


def test_streaming_memory_stays_flat(big_snapshot: Path) -> None:
    """Consuming 200k lines holds no more memory at the end than at the start.

    tracemalloc slows allocation several fold, so it watches a window at
    the start and one at the end; the 190k lines between run untraced and
    RSS (psutil) checks that nothing piles up there either.
    """
    psutil = pytest.importorskip("psutil")
    process = psutil.Process()
    with big_snapshot.open("rb") as stream:
        items = parse(stream, str(big_snapshot))
        first, held_first, peak_first = traced(items, TRACED_WINDOW)
        rss_start = rss_max = process.memory_info().rss
        middle = COPIES * 200 - 2 * TRACED_WINDOW
        for n, _ in enumerate(itertools.islice(items, middle), start=1):
            if n % 20_000 == 0:
                rss_max = max(rss_max, process.memory_info().rss)
        last, held_last, peak_last = traced(items, TRACED_WINDOW + 10)
    assert first + middle + last == COPIES * 200
    assert peak_first < 2_000_000 and peak_last < 2_000_000
    assert held_first < 100_000 and held_last < 100_000
    assert rss_max - rss_start < 32_000_000
