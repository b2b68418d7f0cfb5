"""arXiv XML parsers on the real captured answers in ../shared/fixtures.

Every expected value below was read off the fixture file itself. Damaged
inputs are made by cutting or editing a copy of a real file in tmp_path.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from conftest import parse_file, shared

from paperradar.model import FormatError, Item, Paper, Reject
from paperradar.sources import arxiv_xml
from paperradar.sources.arxiv_xml import (
    ArxivApiError,
    OaiError,
    Resumption,
    oai_resumption,
    parse_api,
    parse_oai,
    parse_rss,
)
from paperradar.sources.detect import detect

Parser = Callable[[BinaryIO, str], Iterator[Item]]

API = "fixtures/arxiv_api/"
OAI = "fixtures/arxiv_oai/"
RSS = "fixtures/arxiv_rss/"


def run(parser: Parser, path: Path) -> list[Item]:
    return parse_file(parser, path)


def papers(parser: Parser, path: Path) -> list[Paper]:
    items = run(parser, path)
    assert all(isinstance(p, Paper) for _, p in items), [p for _, p in items if isinstance(p, Reject)]
    return [p for _, p in items if isinstance(p, Paper)]


def by_id(items: list[Paper]) -> dict[str, Paper]:
    return {p.arxiv_id or "": p for p in items}


def collect(parser: Parser, data: bytes | BinaryIO) -> tuple[list[Item], FormatError | None]:
    """Items yielded before a FormatError, and the error (None if none)."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    out: list[Item] = []
    try:
        for item in parser(stream, "test"):
            out.append(item)
    except FormatError as exc:
        return out, exc
    return out, None


def start_lines(path: Path, tag: str) -> list[int]:
    """1-based lines where a record's start tag stands alone on its line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [i for i, line in enumerate(lines, start=1) if line.strip() == tag]


# --------------------------------------------------------------------------
# detection: every fixture is recognised as the format we parse it with

DETECTED = {
    API: "arxiv-api",
    OAI: "arxiv-oai",
    RSS: "arxiv-rss",
}
FIXTURES = {
    API: [
        "empty_idlist_0000.0000.xml",
        "error_http400_bad_id_abc.xml",
        "idlist_1605.08386.xml",
        "idlist_oldstyle_astro-ph_0601001.xml",
        "idlist_oldstyle_versioned_quant-ph_0201082v1.xml",
        "idlist_two_ids_one_missing.xml",
        "legacy2017_search_deep_dream_max10.xml",
        "search_testing_max10.xml",
        "search_testing_max100.xml",
    ],
    OAI: [
        "GetRecord_arXivRaw_1302.2146.xml",
        "ListRecords_arXivRaw_trimmed6_resumptionToken.xml",
        "ListRecords_arXiv_set-cs_46records_complete.xml",
        "ListRecords_oai_dc_set-cs_trimmed5_resumptionToken.xml",
        "error_badArgument.xml",
        "error_badResumptionToken.xml",
        "error_idDoesNotExist.xml",
        "error_noRecordsMatch_empty_date_window.xml",
        "error_noRecordsMatch_unknown_set.xml",
    ],
    RSS: [
        "legacy_export_arxiv_org_rss_hep-ex_2018-05-23_RDF_trimmed3.xml",
        "rss_arxiv_org_atom_cs.LG_trimmed3.xml",
        "rss_arxiv_org_rss_multi-cat_trimmed4items.xml",
    ],
}


@pytest.mark.parametrize(
    "folder,name", [(folder, name) for folder, names in FIXTURES.items() for name in names]
)
def test_detect_each_fixture(folder: str, name: str) -> None:
    path = shared(folder + name)
    with open(path, "rb") as f:
        head = f.read(256 * 1024)
    assert detect(head) == DETECTED[folder]


def test_fixture_lists_are_complete() -> None:
    """A fixture added to ../shared later must be added here too."""
    for folder, names in FIXTURES.items():
        on_disk = sorted(p.name for p in shared(folder).iterdir())
        assert on_disk == sorted(names)


# --------------------------------------------------------------------------
# arXiv API


def test_api_single_id() -> None:
    path = shared(API + "idlist_1605.08386.xml")
    items = run(parse_api, path)
    assert len(items) == 1
    line, p = items[0]
    assert line == 10 and isinstance(p, Paper)
    assert p.arxiv_id == p.id == "1605.08386"
    assert p.version == 1
    assert p.title == "Heat-bath random walks with Markov bases"
    assert p.abstract.startswith("Graphs on lattice points are studied")
    assert p.abstract.endswith("is an expander in fixed dimension.")
    assert p.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert p.categories == ["math.CO", "math.ST"]
    assert p.published == "2016-05-26" and p.updated == "2016-05-26"
    assert p.meta_date == "2016-05-26T17:59:46Z"
    assert p.comment == "20 pages, 3 figures"
    assert p.journal_ref is None and p.doi is None
    assert p.links == {
        "abs": "https://arxiv.org/abs/1605.08386v1",
        "pdf": "https://arxiv.org/pdf/1605.08386v1",
    }
    assert p.source == "arxiv-api"


def test_api_old_style_id_with_journal_ref_and_affiliations() -> None:
    [p] = papers(parse_api, shared(API + "idlist_oldstyle_astro-ph_0601001.xml"))
    assert p.arxiv_id == "astro-ph/0601001" and p.version == 1
    assert p.categories == ["astro-ph"]
    assert p.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert p.journal_ref == "ActaAstron.56:1-50,2006"
    assert p.comment is not None and p.comment.startswith("62 pages including 16 figures")
    assert p.published == "2006-01-02"
    assert p.extra["affiliations"]["Andrzej Udalski"] == ["Warsaw University Observatory"]
    # TeX and entities survive as text; leading spaces of the summary do not.
    assert p.abstract.startswith("We derive the frequencies")
    assert "(1/310)(1^{+1.39}_{-0.59})" in p.abstract
    assert "V_max<17.5" in p.abstract and "Gould & Morgan (2003)" in p.abstract


def test_api_old_style_versioned_id() -> None:
    [p] = papers(parse_api, shared(API + "idlist_oldstyle_versioned_quant-ph_0201082v1.xml"))
    assert p.arxiv_id == "quant-ph/0201082" and p.version == 1
    assert p.categories == ["quant-ph", "cs.PL"]
    assert p.authors == ["Stephen Blaha"]
    assert p.comment == "32 pages"
    assert p.links["abs"] == "https://arxiv.org/abs/quant-ph/0201082v1"


def test_api_id_list_with_a_missing_id_gives_only_the_existing_one() -> None:
    """arXiv sends no entry at all for 0808.05394 (totalResults 1): nothing
    to reject, and nothing bogus may appear."""
    items = run(parse_api, shared(API + "idlist_two_ids_one_missing.xml"))
    assert len(items) == 1
    p = items[0][1]
    assert isinstance(p, Paper) and p.arxiv_id == "1707.08567"
    assert len(p.authors) == 34
    assert p.authors[0] == "Kees A. Schouhamer Immink"
    assert "Dirk Wübben" in p.authors
    assert p.categories == ["cs.IT"]


def test_api_empty_result_yields_nothing() -> None:
    assert run(parse_api, shared(API + "empty_idlist_0000.0000.xml")) == []


def test_api_error_feed_raises() -> None:
    with pytest.raises(ArxivApiError, match="incorrect id format for abc") as info:
        run(parse_api, shared(API + "error_http400_bad_id_abc.xml"))
    assert isinstance(info.value, FormatError)
    assert info.value.message == "incorrect id format for abc"
    assert info.value.url == "https://arxiv.org/api/errors#incorrect_id_format_for_abc"


def test_api_search_max10() -> None:
    path = shared(API + "search_testing_max10.xml")
    items = run(parse_api, path)
    assert [line for line, _ in items] == start_lines(path, "<entry>")
    ps = [p for _, p in items if isinstance(p, Paper)]
    assert len(ps) == 10
    first = ps[0]
    assert first.arxiv_id == "2202.12139"
    assert first.authors[0] == "Mohit Kumar Ahuja"
    assert first.categories == ["cs.SE", "cs.LG"]
    assert first.doi == "10.1109/icstw55395.2022.00035"
    assert first.links["doi"] == "https://doi.org/10.1109/ICSTW55395.2022.00035"
    assert first.journal_ref is not None
    assert first.journal_ref.startswith("Artificial Intelligence in Software Testing @ 2022 IEEE")
    assert ps[1].authors[:2] == ["Aurora Ramírez", "Mario Berrios"]
    third = ps[2]
    assert third.arxiv_id == "2005.14124" and third.version == 2
    assert third.published == "2020-05-28" and third.updated == "2020-07-16"
    assert third.categories == ["cs.SE", "cs.CR", "cs.LG"]
    assert sum(p.doi is not None for p in ps) == 6
    assert sum(p.journal_ref is not None for p in ps) == 6


def test_api_search_max100() -> None:
    ps = papers(parse_api, shared(API + "search_testing_max100.xml"))
    assert len(ps) == 100
    assert sum(p.doi is not None for p in ps) == 32
    assert sum(p.journal_ref is not None for p in ps) == 18
    found = by_id(ps)
    assert found["cs/0503050"].version == 1
    assert found["cs/0503050"].authors[0] == "Hanna Makaruk"
    assert found["hep-ph/0301050"].version == 2
    assert found["hep-ph/0301050"].title == "Statistical Test of Anarchy"
    anarchy = found["hep-ph/0301050"]
    assert (anarchy.published, anarchy.updated) == ("2003-01-08", "2003-06-30")
    assert found["gr-qc/0103067"].categories[0] == "gr-qc"
    assert found["0804.0970"].extra["affiliations"] == {
        "Marie-Claude Gaudel": ["LRI"],
        "Pascale Le Gall": ["IBISC"],
    }
    assert all(p.title and p.abstract and p.authors and p.categories for p in ps)


def test_api_legacy_2017_format() -> None:
    ps = papers(parse_api, shared(API + "legacy2017_search_deep_dream_max10.xml"))
    assert len(ps) == 10
    first = ps[0]
    assert first.arxiv_id == "1611.09520" and first.version == 2
    assert first.title == (
        "Hierarchical Neural Representation of Dreamed Objects Revealed by Brain "
        "Decoding with Deep Neural Network Features"
    )
    assert (first.published, first.updated) == ("2016-11-29", "2017-01-23")
    assert first.categories == ["q-bio.NC"]
    # Hard-wrapped summary lines are joined with single spaces.
    assert first.abstract.startswith(
        "Dreaming is generally thought to be generated by spontaneous brain activity during sleep"
    )
    found = by_id(ps)
    atmospheres = found["1511.08339"]
    assert atmospheres.doi == "10.3847/0004-637x/820/2/107"
    assert atmospheres.links["doi"] == "http://dx.doi.org/10.3847/0004-637X/820/2/107"
    assert atmospheres.comment == "ApJ accepted"
    assert atmospheres.categories == ["astro-ph.EP"]
    # A hard-wrapped journal ref comes out on one line.
    assert found["1510.02795"].journal_ref == (
        "Proceedings of the 19th International Conference on Artificial "
        "Intelligence and Statistics, pp. 342-350, 2016"
    )
    # MSC classes listed as Atom categories are not arXiv categories.
    assert found["1403.7984"].categories == ["math.AG"]
    assert found["1403.7984"].extra["classes"] == ["14A20, 14L30, 14M25"]
    pipe_dreams = found["0706.3031"]
    assert pipe_dreams.categories == ["math.CO"]
    assert pipe_dreams.extra["classes"] == ["05E99 (Primary), 05E05, 20B30 (Secondary)"]
    assert pipe_dreams.journal_ref == (
        "S\\'eminaire Lotharingien de Combinatoire, Issue 58 (2008), Article B58e. (electronic)"
    )
    assert found["1304.8005"].categories == ["math.AG"]


def test_api_entry_without_title_or_with_bad_id_is_rejected(tmp_path: Path) -> None:
    data = shared(API + "idlist_1605.08386.xml").read_bytes()
    no_title = data.replace(b"<title>Heat-bath random walks with Markov bases</title>", b"")
    [(line, r)] = list(parse_api(io.BytesIO(no_title), "x"))
    assert isinstance(r, Reject) and r.reason == "missing title" and line == 10
    bad_id = data.replace(b"http://arxiv.org/abs/1605.08386v1</id>", b"http://example.org/paper/7</id>")
    [(_, r)] = list(parse_api(io.BytesIO(bad_id), "x"))
    assert isinstance(r, Reject) and r.reason == "bad arXiv id"


# --------------------------------------------------------------------------
# OAI-PMH


def test_oai_arxiv_format_46_records() -> None:
    path = shared(OAI + "ListRecords_arXiv_set-cs_46records_complete.xml")
    items = run(parse_oai, path)
    assert [line for line, _ in items] == start_lines(path, "<record>")
    ps = [p for _, p in items if isinstance(p, Paper)]
    assert len(ps) == 46
    first = ps[0]
    assert first.arxiv_id == "1101.4388"
    assert first.title == "Reproducing Kernel Banach Spaces with the l1 Norm"
    assert first.authors == ["Guohui Song", "Haizhang Zhang", "Fred J. Hickernell"]
    assert first.categories == ["stat.ML", "cs.LG", "math.FA"]
    assert (first.published, first.updated) == ("2011-01-23", "2012-03-28")
    assert first.comment == "28 pages, an extra section was added"
    assert first.journal_ref == "Appl. Comput. Harmon. Anal., 34:96-116, 2013"
    assert first.doi == "10.1016/j.acha.2012.03.009"
    assert first.meta_date == "2015-01-16"
    assert first.source == "arxiv-oai"
    assert first.abstract.startswith("Targeting at sparse learning")
    found = by_id(ps)
    assert found["1111.1546"].authors == ["Tobias Brunsch", "Heiko Röglin"]
    assert found["1404.5569"].authors[1] == "Jiří Sgall"
    # Only one version: no <updated>, so the newest version is the first.
    fusion = found["1207.1019"]
    assert (fusion.published, fusion.updated) == ("2012-07-04", "2012-07-04")
    assert fusion.extra["affiliations"]["Emilie Morvant"] == ["LIF"]
    last = ps[-1]
    assert last.arxiv_id == "1501.03810"
    assert last.title == "Time-Varying Input and State Delay Compensation for Uncertain Nonlinear Systems"


def test_oai_arxivraw_versions_and_authors() -> None:
    path = shared(OAI + "ListRecords_arXivRaw_trimmed6_resumptionToken.xml")
    ps = papers(parse_oai, path)
    ids = ["0704.0471", "0704.0716", "0704.0874", "0704.1109", "0704.1114", "0704.1586"]
    assert [p.arxiv_id for p in ps] == ids
    assert [p.version for p in ps] == [1, 4, 3, 2, 1, 1]
    shetty = ps[0]
    assert shetty.authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert shetty.categories == ["nucl-ex", "nucl-th"]
    assert shetty.doi == "10.1103/physrevc.76.024606"
    assert shetty.extra["dois"] == ["10.1103/physrevc.76.024606", "10.1103/physrevc.76.039902"]
    assert shetty.meta_date == "2014-11-18"
    richard = ps[1]
    assert (richard.published, richard.updated) == ("2007-04-05", "2008-11-14")
    assert richard.categories == ["math-ph", "math.MP"]
    assert richard.extra["msc_class"] == "05A15, 05A16"
    assert richard.comment is not None and "\n" not in richard.comment
    assert ps[3].authors == ["Valeria M. Rosa", "Patricio S. letelier"]
    assert ps[5].title == "Core excitation in the elastic scattering and breakup of $^{11}$Be on protons"


def test_oai_getrecord_arxivraw() -> None:
    items = run(parse_oai, shared(OAI + "GetRecord_arXivRaw_1302.2146.xml"))
    [(line, p)] = items
    assert line == 6 and isinstance(p, Paper)
    assert p.arxiv_id == "1302.2146" and p.version == 2
    assert (p.published, p.updated) == ("2013-02-08", "2013-04-02")
    assert p.authors == ["Joshua Berger", "Maxim Perelstein", "Michael Saelim", "Philip Tanedo"]
    assert p.categories == ["hep-ph", "hep-ex"]
    assert p.comment == "18 pages, 6 figures; v2: References added"
    assert p.meta_date == "2013-04-03"
    assert p.extra["submitter"] == "Michael Saelim"


def test_oai_dublin_core() -> None:
    ps = papers(parse_oai, shared(OAI + "ListRecords_oai_dc_set-cs_trimmed5_resumptionToken.xml"))
    assert [p.arxiv_id for p in ps] == ["1303.2033", "2401.14034", "2401.14036", "2401.14038", "2401.14040"]
    fourier = ps[0]
    assert fourier.title == "Extended Fourier analysis of signals"
    assert fourier.authors == ["Vilnis Liepins"]
    assert fourier.comment == "32 pages, 9 figures"
    assert "Comment:" not in fourier.abstract
    assert fourier.abstract.startswith("This summary of the doctoral thesis")
    assert (fourier.published, fourier.updated) == ("2013-03-08", "2024-01-23")
    assert fourier.meta_date == "2024-01-25"
    # dc:subject names and the "cs" setSpec are not categories.
    assert all(p.categories == [] for p in ps)
    assert ps[1].authors[:2] == ["Chuankun Li", "Shuai Li"]
    assert ps[4].title == "(Chat)GPT v BERT: Dawn of Justice for Semantic Change Detection"
    assert ps[4].comment == "Accepted to the Findings of EACL 2024"
    assert ps[1].comment is None


@pytest.mark.parametrize(
    "name,code,words",
    [
        ("error_badArgument.xml", "badArgument", "illegal argument 'identifier'"),
        ("error_badResumptionToken.xml", "badResumptionToken", "resumptionToken supplied is illegal"),
        ("error_idDoesNotExist.xml", "idDoesNotExist", "'oai:arXiv.org:0813.2274' has correct form"),
    ],
)
def test_oai_errors_raise(name: str, code: str, words: str) -> None:
    with pytest.raises(OaiError) as info:
        run(parse_oai, shared(OAI + name))
    assert isinstance(info.value, FormatError)
    assert info.value.code == code
    assert words in info.value.message
    assert code in str(info.value) and words in str(info.value)
    with pytest.raises(OaiError):
        oai_resumption(shared(OAI + name).read_bytes())


@pytest.mark.parametrize(
    "name", ["error_noRecordsMatch_empty_date_window.xml", "error_noRecordsMatch_unknown_set.xml"]
)
def test_oai_no_records_match_is_empty(name: str) -> None:
    assert run(parse_oai, shared(OAI + name)) == []
    assert oai_resumption(shared(OAI + name).read_bytes()) == Resumption(None, None, None)


def test_oai_resumption_token() -> None:
    raw = shared(OAI + "ListRecords_arXivRaw_trimmed6_resumptionToken.xml")
    with open(raw, "rb") as f:
        assert oai_resumption(f) == ("726959|1001", 0, 58011)
    dc = shared(OAI + "ListRecords_oai_dc_set-cs_trimmed5_resumptionToken.xml").read_bytes()
    token = oai_resumption(dc)
    assert token.token == "6960524|1001"
    assert token.cursor == 0 and token.complete_list_size == 1162
    complete = shared(OAI + "ListRecords_arXiv_set-cs_46records_complete.xml").read_bytes()
    assert oai_resumption(complete) == Resumption(None, None, None)


def test_oai_last_page_has_an_empty_token() -> None:
    """The last page of a list carries an empty token with the counts."""
    data = shared(OAI + "ListRecords_oai_dc_set-cs_trimmed5_resumptionToken.xml").read_bytes()
    last = data.replace(
        b'<resumptionToken cursor="0" completeListSize="1162">6960524|1001</resumptionToken>',
        b'<resumptionToken cursor="1000" completeListSize="1162"/>',
    )
    assert oai_resumption(last) == Resumption(None, 1000, 1162)


def test_oai_parses_in_memory_pages() -> None:
    data = shared(OAI + "ListRecords_oai_dc_set-cs_trimmed5_resumptionToken.xml").read_bytes()
    items = list(parse_oai(data, "page-1"))
    assert len(items) == 5
    assert len(list(parse_oai(io.BytesIO(data), "page-1"))) == 5


def test_oai_deleted_records_are_skipped() -> None:
    data = shared(OAI + "ListRecords_arXivRaw_trimmed6_resumptionToken.xml").read_bytes()
    # Turn record 0704.0716 into what arXiv sends for a deleted record:
    # a header with status="deleted" and no metadata.
    start = data.index(b"<record>\n<header>\n <identifier>oai:arXiv.org:0704.0716")
    end = data.index(b"</record>", start)
    record = data[start:end]
    deleted = record.replace(b"<header>", b'<header status="deleted">')
    deleted = deleted[: deleted.index(b"<metadata>")]
    edited = data[:start] + deleted + data[end:]
    items = list(parse_oai(edited, "x"))
    assert [p.arxiv_id for _, p in items if isinstance(p, Paper)] == [
        "0704.0471", "0704.0874", "0704.1109", "0704.1114", "0704.1586"
    ]
    assert not any(isinstance(p, Reject) for _, p in items)


def test_oai_bad_id_is_rejected() -> None:
    data = shared(OAI + "GetRecord_arXivRaw_1302.2146.xml").read_bytes()
    data = data.replace(b"<id>1302.2146</id>", b"<id>abc</id>")
    [(line, r)] = list(parse_oai(data, "x"))
    assert isinstance(r, Reject) and r.reason == "bad arXiv id" and line == 6


# --------------------------------------------------------------------------
# listing feeds


def test_rss2_feed() -> None:
    path = shared(RSS + "rss_arxiv_org_rss_multi-cat_trimmed4items.xml")
    items = run(parse_rss, path)
    assert [line for line, _ in items] == start_lines(path, "<item>")
    ps = [p for _, p in items if isinstance(p, Paper)]
    assert [p.arxiv_id for p in ps] == ["2609.26811", "2609.26820", "2205.06398", "2009.13987"]
    assert [p.version for p in ps] == [1, 1, 2, 3]
    new = ps[0]
    assert new.title == "The Drift Contract: Spectral Updates for Depth-Robust Local Learning"
    assert new.abstract.startswith("Local learning trains each layer")
    assert "Announce Type" not in new.abstract
    assert new.authors == ["Fabien Polly"]
    assert new.categories == ["cs.LG"]
    assert (new.published, new.updated) == ("2026-09-24", "2026-09-24")
    assert new.extra == {"announce_type": "new", "listed": "2026-09-24"}
    assert new.source == "arxiv-rss"
    assert ps[1].authors == ["Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan"]
    cross = ps[2]
    assert cross.categories == ["stat.ME", "stat.AP", "stat.ML"]
    assert cross.doi == "10.1093/bioinformatics/btac431"
    assert cross.extra["announce_type"] == "cross"
    assert cross.published is None  # an old paper cross-listed now: 2026 is not its date
    replaced = ps[3]
    assert replaced.extra["announce_type"] == "replace"
    assert (replaced.published, replaced.updated) == (None, "2026-09-24")
    assert replaced.authors == ["Michael Joswig", "Marek Kaluba", "Lukas Ruff"]


def test_rss_atom_feed() -> None:
    ps = papers(parse_rss, shared(RSS + "rss_arxiv_org_atom_cs.LG_trimmed3.xml"))
    assert [p.arxiv_id for p in ps] == ["2609.28553", "2402.10149", "2401.08875"]
    first = ps[0]
    assert first.version == 1
    assert first.title.startswith("SMILESGNN: Interpretable Clinical Toxicity Prediction")
    assert first.abstract.startswith("Drug toxicity prediction is critical")
    assert len(first.authors) == 6 and first.authors[0] == "Quang Minh Nguyen"
    assert first.categories == ["cs.LG", "cs.AI"]
    assert first.journal_ref == (
        "2026 International Conference on Multimedia Analysis and Pattern Recognition (MAPR)"
    )
    assert first.doi == "10.1109/mapr72750.2026.11685822"
    assert (first.published, first.updated) == ("2026-09-25", "2026-09-25")
    assert first.meta_date == "2026-09-25T04:00:11Z"
    assert ps[1].categories[0] == "hep-ph"
    assert ps[1].extra["announce_type"] == "cross"
    assert ps[2].extra["announce_type"] == "replace"
    assert (ps[2].published, ps[2].updated, ps[2].version) == (None, "2026-09-25", 3)


def test_rss_legacy_rdf_feed() -> None:
    path = shared(RSS + "legacy_export_arxiv_org_rss_hep-ex_2018-05-23_RDF_trimmed3.xml")
    items = run(parse_rss, path)
    assert [line for line, _ in items] == [38, 58, 66]
    ps = [p for _, p in items if isinstance(p, Paper)]
    assert [p.arxiv_id for p in ps] == ["1805.08875", "1805.09166", "1805.06430"]
    assert [p.title for p in ps] == [
        "Measurement of Transverse Single Spin Asymmetries",
        "Recent Top quark results from the Tevatron",
        "New Perspective on Hybrid Mesons",
    ]
    first = ps[0]
    assert first.version == 1 and first.categories == ["hep-ex"]
    assert first.authors == ["Christopher Dilks"]
    assert first.published == "2018-05-23"
    assert first.meta_date == "2018-05-24T01:30:00Z"
    assert first.abstract.startswith("In 2015 the first collisions")
    assert "<p>" not in first.abstract and "&lt;" not in first.abstract
    assert "$2.6<\\eta<4$" in first.abstract and "$\\sqrt{s_{NN}}=200$" in first.abstract
    assert ps[1].extra["announce_type"] == "cross"
    assert ps[1].authors == ["Boris Tuchming"]
    updated = ps[2]
    assert updated.version == 2 and updated.categories == ["nucl-th"]
    assert updated.extra == {"announce_type": "replace", "listed": "2018-05-23"}
    assert (updated.published, updated.updated) == (None, "2018-05-23")
    assert updated.authors[0] == "Shu-Sheng Xu" and updated.authors[-1] == "Hong-Shi Zong"
    assert len(updated.authors) == 6


def test_rss_item_without_title_is_rejected() -> None:
    data = shared(RSS + "rss_arxiv_org_rss_multi-cat_trimmed4items.xml").read_bytes()
    data = data.replace(b"<title>Outlier Detection for Multi-Network Data</title>", b"<title> </title>")
    items = list(parse_rss(io.BytesIO(data), "x"))
    assert [type(p).__name__ for _, p in items] == ["Paper", "Paper", "Reject", "Paper"]
    reject = items[2][1]
    assert isinstance(reject, Reject) and reject.reason == "missing title" and items[2][0] == 42


# --------------------------------------------------------------------------
# damaged input: what came before the damage is kept, then FormatError


@pytest.mark.parametrize(
    "parser,relative,tag,expected",
    [
        (parse_api, API + "search_testing_max100.xml", b"</entry>", 40),
        (parse_oai, OAI + "ListRecords_arXiv_set-cs_46records_complete.xml", b"</record>", 21),
        (parse_rss, RSS + "rss_arxiv_org_rss_multi-cat_trimmed4items.xml", b"</item>", 2),
    ],
)
def test_truncated_file_yields_records_before_the_cut(
    tmp_path: Path, parser: Parser, relative: str, tag: bytes, expected: int
) -> None:
    data = shared(relative).read_bytes()
    cut_at = 0
    for _ in range(expected):  # just past the expected-th record, inside the next one
        cut_at = data.index(tag, cut_at) + len(tag)
    cut_at += 120
    copy = tmp_path / "truncated.xml"
    copy.write_bytes(data[:cut_at])
    with open(copy, "rb") as f:
        items, error = collect(parser, f)
    assert len(items) == expected
    assert all(isinstance(p, Paper) for _, p in items)
    assert error is not None
    assert re.match(r"invalid XML at line \d+: ", str(error))
    assert type(error) is FormatError


def test_invalid_xml_mid_file() -> None:
    data = shared(API + "search_testing_max10.xml").read_bytes()
    # Break the 5th summary's closing tag: 4 entries come out first.
    parts = data.split(b"</summary>")
    broken = b"</summary>".join(parts[:5]) + b"</summry>" + b"</summary>".join(parts[5:])
    items, error = collect(parse_api, broken)
    assert len(items) == 4
    assert error is not None and "invalid XML at line" in str(error)
    found = re.search(r"line (\d+)", str(error))
    assert found is not None
    assert b"</summry>" in broken.splitlines()[int(found.group(1)) - 1]


@pytest.mark.parametrize("parser", [parse_api, parse_oai, parse_rss])
@pytest.mark.parametrize("data", [b"", b"not xml at all", b"<feed><entry>"])
def test_not_xml_raises_format_error(parser: Parser, data: bytes) -> None:
    items, error = collect(parser, data)
    assert items == [] and error is not None
    assert str(error).startswith("invalid XML at line ")


def test_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42")
    data = shared(API + "idlist_1605.08386.xml").read_bytes()
    doctype = f'<!DOCTYPE feed [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'.encode()
    data = data.replace(b"?>\n", b"?>\n" + doctype, 1)
    data = data.replace(b"<title>Heat-bath", b"<title>&xxe;Heat-bath")
    items = list(parse_api(io.BytesIO(data), "x"))
    assert len(items) == 1
    assert "TOPSECRET" not in repr(items)


def test_records_are_freed_while_streaming() -> None:
    """A long OAI page (a real record repeated 3000 times) never holds more
    than the current record: handled ones are cleared and dropped."""
    data = shared(OAI + "ListRecords_arXiv_set-cs_46records_complete.xml").read_bytes()
    start = data.index(b"<record>")
    end = data.index(b"</record>", start) + len(b"</record>")
    page = data[:start] + data[start:end] * 3000 + data[data.rindex(b"</ListRecords>"):]
    seen = widest = 0
    for elem in arxiv_xml._elements(page, [arxiv_xml.OAI + "record"]):
        parent = elem.getparent()
        assert parent is not None
        widest = max(widest, len(parent))  # iterparse reads a chunk ahead
        arxiv_xml._free(elem)
        assert len(elem) == 0 and elem.getprevious() is None
        seen += 1
    assert seen == 3000
    assert widest < 100
    assert len(list(parse_oai(page, "big"))) == 3000
