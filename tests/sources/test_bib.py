"""BibTeX, CSL-JSON and RIS: real exports from ../shared and dirty inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import parse_file, shared, write_input

from paperradar.model import FormatError, Paper, Reject
from paperradar.sources.bib import parse_bibtex, parse_csl_json, parse_ris
from paperradar.sources.detect import HEAD_BYTES, detect

ARXIV_BIB = "fixtures/bibtex/arxiv_bibtex_export_9entries.bib"
S2_BIB = "fixtures/bibtex/semantic_scholar_citationStyles_bibtex_4entries.bib"
ZOTERO_BIB = "fixtures/zotero_exports/zotero_bibtex_export_mixed_arxiv_acl.bib"
ZOTERO_CSL = "fixtures/zotero_exports/zotero_bbt_csljson_export_with_arxiv.json"
ZOTERO_RIS = "fixtures/zotero_exports/zotero_ris_export_5items.ris"


run = parse_file
write = write_input


def papers(items: list) -> list[Paper]:
    return [p for _, p in items if isinstance(p, Paper)]


def by_line(items: list) -> dict:
    return {line: p for line, p in items}


# ---------------------------------------------------------------------------
# Detection of the real files


@pytest.mark.parametrize(
    ("relative", "fmt"),
    [
        (ARXIV_BIB, "bibtex"),
        (S2_BIB, "bibtex"),
        (ZOTERO_BIB, "bibtex"),
        (ZOTERO_CSL, "csl-json"),
        (ZOTERO_RIS, "ris"),
    ],
)
def test_real_exports_are_detected_as_the_format_we_parse(relative: str, fmt: str) -> None:
    assert detect(shared(relative).read_bytes()[:HEAD_BYTES]) == fmt


# ---------------------------------------------------------------------------
# BibTeX, real files


def test_arxiv_export_bibtex() -> None:
    items = run(parse_bibtex, shared(ARXIV_BIB))
    assert [line for line, _ in items] == [1, 11, 21, 31, 41, 51, 61, 71, 81]
    ps = papers(items)
    assert [p.id for p in ps] == [
        "2407.07726", "2303.15343", "1706.03762", "2010.11929", "1910.07467",
        "1607.06450", "1911.02150", "2305.13245", "2104.09864",
    ]  # fmt: skip
    paligemma, attention, layernorm = ps[0], ps[2], ps[5]
    assert paligemma.title == "PaliGemma: A versatile 3B VLM for transfer"
    assert len(paligemma.authors) == 35
    assert paligemma.authors[:3] == ["Lucas Beyer", "Andreas Steiner", "André Susano Pinto"]
    assert "Matko Bošnjak" in paligemma.authors
    assert paligemma.categories == ["cs.CV"]
    assert attention.published == "2023-01-01"  # arXiv's export takes the latest version's year
    assert layernorm.authors == ["Jimmy Lei Ba", "Jamie Ryan Kiros", "Geoffrey E. Hinton"]
    assert layernorm.categories == ["stat.ML"]
    assert layernorm.links["url"] == "https://arxiv.org/abs/1607.06450"
    assert layernorm.links["pdf"] == "https://arxiv.org/pdf/1607.06450"
    assert all(p.source == "bibtex" and p.source_id is None for p in ps)


def test_semantic_scholar_bibtex_uses_the_key_without_global_ids() -> None:
    ps = papers(run(parse_bibtex, shared(S2_BIB)))
    assert [p.id for p in ps] == [
        "Bertrand2001HowMS", "Duflo2013TheMO", "Duflo2023ImprovingTA", "Turing1950ComputingMA",
    ]  # fmt: skip
    assert ps[0].journal_ref == "Experimental & Empirical Studies eJournal"
    assert ps[0].authors == ["Marianne Bertrand", "E. Duflo", "S. Mullainathan"]
    turing = ps[3]
    assert turing.title == "Computing Machinery and Intelligence"
    assert turing.journal_ref == "Mind"  # journal wins over booktitle
    assert turing.published == "1950-01-01"
    assert turing.source_id == "Turing1950ComputingMA"


def test_zotero_bibtex_export() -> None:
    items = run(parse_bibtex, shared(ZOTERO_BIB))
    assert len(items) == 50 and all(isinstance(p, Paper) for _, p in items)
    got = by_line(items)

    vitamin = got[2]
    assert vitamin.title == "Get Your Vitamin C! Robust Fact Verification with Contrastive Evidence"
    assert vitamin.authors == ["Tal Schuster", "Adam Fisch", "Regina Barzilay"]
    assert vitamin.doi == "10.18653/v1/2021.naacl-main.52"
    assert vitamin.id == "doi:10.18653/v1/2021.naacl-main.52"
    assert vitamin.source_id is None
    assert vitamin.published == "2021-06-01"  # month = jun
    assert vitamin.journal_ref.startswith("Proceedings of the 2021 Conference of the North American Chapter")
    assert "improving accuracy by 10% on adversarial" in vitamin.abstract

    demszky = got[18]  # @techreport, number = {arXiv:1809.02922}, institution = {arXiv}
    assert demszky.arxiv_id == "1809.02922" and demszky.id == "1809.02922"
    assert demszky.categories == ["cs"]
    assert demszky.published == "2018-09-01"
    assert demszky.journal_ref is None
    assert demszky.title == (
        "Transforming Question Answering Datasets Into Natural Language Inference Datasets"
    )

    abacha = got[125]  # an arXiv URL and a journal DOI
    assert abacha.arxiv_id == "1901.08079"
    assert abacha.doi == "10.1186/s12859-019-3119-4"
    assert abacha.journal_ref == "BMC Bioinformatics"
    assert abacha.authors == ["Asma Ben Abacha", "Dina Demner-Fushman"]

    assert got[35].id == got[35].source_id == "khot_scitail_2018"  # neither arXiv id nor DOI
    assert got[35].title == "SciTaiL: A Textual Entailment Dataset from Science Question Answering"
    assert got[378].categories == ["cs", "stat"]
    # Zotero escapes the TeX inside arXiv abstracts: 80{\textbackslash}\%, {\textbackslash}textit\{...\}
    assert "high-quality 80% of the time" in got[267].abstract
    assert "Transformers is an open-source library" in got[755].abstract
    assert "\\" not in got[755].abstract

    arxiv_ids = {p.arxiv_id for p in papers(items) if p.arxiv_id}
    assert arxiv_ids == {
        "1809.02922", "2203.12990", "1901.08079", "2111.08543", "2110.07803", "2203.11147", "2112.09332",
        "2206.05802", "1909.12434", "2112.08542", "2203.05227", "1907.11692", "2111.09543", "2006.03654",
        "1910.03771",
    }  # fmt: skip


def test_reimporting_a_bib_gives_the_same_keys() -> None:
    path = shared(ZOTERO_BIB)
    assert [p.id for p in papers(run(parse_bibtex, path))] == [p.id for p in papers(run(parse_bibtex, path))]


# ---------------------------------------------------------------------------
# BibTeX, dirty input

DIRTY_BIB = """\
% a comment line
@string{icml = "International Conference on Machine Learning"}

@inproceedings{good1,
  title = {A {Good} Paper on {\\'E}cole $O(n^{2})$ Bounds},
  author = {M{\\"u}ller, Hans and Smith, Jr, John and Ann {van Dyke}},
  booktitle = icml,
  year = 2021,
  month = mar,
}

this line is garbage } { with braces @ and an at sign
more garbage

@article{notitle,
  author = {Nobody, A.},
  year = {2020},
}

@misc{old,
  title = {An Old-Style Preprint},
  author = {Alice Jones and Bob Brown},
  eprint = {hep-th/9901001},
  archivePrefix = {arXiv},
  date = {1999-01-05},
}

@article{broken,
  title = {This entry never closes,
  author = {Someone},

@article{journalref,
  title = {Found via the Journal Field},
  journal = {arXiv preprint arXiv:2101.00001v3},
  year = {2021},
}

@comment{jabref-meta: databaseType:bibtex;}
"""


def test_bibtex_dirty_file(tmp_path: Path) -> None:
    items = run(parse_bibtex, write(tmp_path, DIRTY_BIB, "dirty.bib"))
    got = by_line(items)
    assert sorted(got) == [4, 15, 20, 28, 32]

    good = got[4]
    assert good.title == "A Good Paper on École $O(n^{2})$ Bounds"
    assert good.authors == ["Hans Müller", "John Smith, Jr", "Ann van Dyke"]
    assert good.journal_ref == "International Conference on Machine Learning"  # @string expanded
    assert good.published == "2021-03-01"
    assert good.source_id == "good1"

    assert got[15] == Reject(15, "missing title")

    old = got[20]
    assert old.arxiv_id == "hep-th/9901001" and old.id == "hep-th/9901001"
    assert old.authors == ["Alice Jones", "Bob Brown"]
    assert old.published == "1999-01-05"

    assert isinstance(got[28], Reject) and got[28].reason == "broken BibTeX"

    journalref = got[32]
    assert journalref.arxiv_id == "2101.00001" and journalref.version == 3
    assert journalref.journal_ref is None  # "arXiv preprint ..." is no venue


def test_bibtex_bad_encoding_rejects_only_that_entry(tmp_path: Path) -> None:
    data = (
        b"@misc{a,\n  title = {Fine},\n}\n\n"
        b"@misc{b,\n  title = {Caf\xe9 in Latin-1},\n}\n\n"
        b"@misc{c,\n  title = {Also Fine},\n  eprint = {2506.01234v2},\n}\n"
    )
    got = by_line(run(parse_bibtex, write(tmp_path, data, "bad.bib")))
    assert got[1].title == "Fine"
    assert got[5] == Reject(5, "bad encoding", "invalid UTF-8 in entry b")
    assert got[9].arxiv_id == "2506.01234" and got[9].version == 2


def test_bibtex_duplicates_are_both_yielded(tmp_path: Path) -> None:
    entry = "@misc{k,\n title = {Same},\n eprint = {2506.01234},\n archivePrefix = {arXiv},\n}\n"
    items = run(parse_bibtex, write(tmp_path, entry + "\n" + entry, "dup.bib"))
    assert [(line, p.id) for line, p in items] == [(1, "2506.01234"), (7, "2506.01234")]


def test_bibtex_eprint_of_another_archive_is_not_an_arxiv_id(tmp_path: Path) -> None:
    data = "@article{x,\n title = {PubMed Thing},\n eprint = {2101.00001},\n eprinttype = {pubmed},\n}\n"
    (paper,) = papers(run(parse_bibtex, write(tmp_path, data, "x.bib")))
    assert paper.arxiv_id is None and paper.source_id == "x"


def test_bibtex_empty_and_garbage_only(tmp_path: Path) -> None:
    assert run(parse_bibtex, write(tmp_path, b"", "empty.bib")) == []
    assert run(parse_bibtex, write(tmp_path, "just some text\nno entries\n", "text.bib")) == []


# ---------------------------------------------------------------------------
# CSL-JSON


def test_zotero_csl_json_export() -> None:
    items = run(parse_csl_json, shared(ZOTERO_CSL))
    assert len(items) == 134 and all(isinstance(p, Paper) for _, p in items)
    assert [line for line, _ in items[:3]] == [2, 3, 4]  # one item per line after "["
    got = by_line(items)

    abbott = got[2]
    assert abbott.title == "Understanding Analysis"
    assert abbott.id == abbott.source_id == "abbottUnderstandingAnalysis2015"
    assert abbott.published == "2015-01-01"
    assert abbott.links["url"] == "https://www.springer.com/us/book/9781493927111"

    arroyo = got[7]  # "container-title": "arXiv:1701.08140 [stat]"
    assert arroyo.arxiv_id == "1701.08140" and arroyo.source_id is None
    assert arroyo.categories == ["stat"]
    assert arroyo.journal_ref is None
    assert arroyo.published == "2017-01-27"
    assert arroyo.authors == [
        "Jesús D. Arroyo-Relión", "Daniel Kessler", "Elizaveta Levina", "Stephan F. Taylor",
    ]  # fmt: skip
    assert arroyo.source == "csl-json"

    assert got[8].categories == ["cs", "math", "stat"]
    assert got[50].arxiv_id == "2011.14990"  # only "number": "arXiv:2011.14990"
    assert got[83].arxiv_id == "1904.07163" and got[83].version == 3  # URL .../abs/1904.07163v3
    tooley = got[111]  # published in a journal, filed from arXiv
    assert tooley.arxiv_id == "1807.07687"
    assert (tooley.doi, tooley.journal_ref) == ("10.1093/cercor/bhz066", "Cerebral Cortex")
    assert got[65].authors == ["JuriaanM"]  # {"literal": ...}
    assert got[4].doi == "10.1371/journal.pcbi.0030017"

    arxiv = [p.arxiv_id for p in papers(items) if p.arxiv_id]
    assert len(arxiv) == 38
    # The library holds 1709.05506 twice (two versions); both come out, the store merges.
    assert arxiv.count("1709.05506") == 2 and got[95].id == got[96].id == "1709.05506"


def test_csl_json_broken_document_raises(tmp_path: Path) -> None:
    path = write(tmp_path, '[\n  {"id": "a", "title": "A"},\n  {"id": "b", "title": \n]', "broken.json")
    with pytest.raises(FormatError, match="broken JSON at line 4"):
        run(parse_csl_json, path)


def test_csl_json_must_be_an_array(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="array"):
        run(parse_csl_json, write(tmp_path, '{"id": "a", "title": "A"}', "obj.json"))
    with pytest.raises(FormatError, match="UTF-8"):
        run(parse_csl_json, write(tmp_path, b'[{"title": "Caf\xe9"}]', "latin1.json"))


def test_csl_json_odd_items(tmp_path: Path) -> None:
    data = """[
  "not an object",
  {"id": "k1", "type": "article"},
  {"id": "k2", "title": "Raw Date", "issued": {"raw": "2019-05-04"},
   "author": [{"given": "Ludwig", "non-dropping-particle": "van", "family": "Beethoven"},
              {"literal": "ACME Team"}]},
  {"id": "k3", "title": "<i>E. coli</i> and CO<sub>2</sub> <span class='nocase'>iPhone</span>",
   "issued": {"date-parts": [["2020", "7"]]}, "DOI": "https://doi.org/10.1234/ABC"}
]"""
    got = by_line(run(parse_csl_json, write(tmp_path, data, "odd.json")))
    assert got[2] == Reject(2, "not a JSON object")
    assert got[3] == Reject(3, "missing title")
    assert got[4].published == "2019-05-04"
    assert got[4].authors == ["Ludwig van Beethoven", "ACME Team"]
    assert got[7].title == "E. coli and CO2 iPhone"
    assert got[7].published == "2020-07-01"
    assert (got[7].id, got[7].source_id) == ("doi:10.1234/abc", None)


# ---------------------------------------------------------------------------
# RIS


def test_zotero_ris_export() -> None:
    items = run(parse_ris, shared(ZOTERO_RIS))
    assert [line for line, _ in items] == [1, 31, 50, 80, 98]
    ps = papers(items)
    assert len(ps) == 5
    first = ps[0]
    assert first.title == "Waste Not, Want Not: Why Rarefying Microbiome Data Is Inadmissible"
    assert first.authors == ["Paul J. McMurdie", "Susan Holmes"]
    assert first.published == "2014-04-03"  # DA 2014/04/03/ beats PY 2014
    assert first.doi == "10.1371/journal.pcbi.1003531" and first.id == "doi:10.1371/journal.pcbi.1003531"
    assert first.journal_ref == "PLOS Computational Biology"
    assert first.abstract.startswith("Current practice in the normalization of microbiome count data")
    assert first.source == "ris"
    second = ps[1]  # no DO: keyed by title
    assert second.doi is None and second.id.startswith("title:")
    assert second.published == "2017-01-01"  # DA 2017///
    assert second.links["url"] == "https://www.frontiersin.org/articles/10.3389/fmicb.2017.02224"
    assert ps[3].authors == ["Michael Greenacre", "Marina Martínez-Álvaro", "Agustín Blasco"]
    # A2 (editors) are not authors
    assert ps[2].authors == ["Michael R McLaren", "Amy D Willis", "Benjamin J Callahan"]


def test_ris_dirty(tmp_path: Path) -> None:
    data = (
        b"TY  - JOUR\r\nTI  - Good One\r\nAU  - Doe, Jane\r\nPY  - 2020\r\nER  - \r\n\r\n"
        b"TY  - JOUR\r\nTI  - Caf\xe9 Latin-1\r\nER  - \r\n\r\n"
        b"TY  - RPRT\r\nTI  - No Title Here? No: T1 is empty\r\nER  -\r\n"
        b"TY  - GEN\r\nAU  - Nobody\r\nER  - \r\n"
        b"TY  - RPRT\r\nT1  - An arXiv Report\r\nAB  - First half of the abstract\r\n"
        b"continued on a wrapped line.\r\nM3  - arXiv:2506.01234v2\r\nN1  - arXiv:2506.01234 [cs]\r\n"
        b"UR  - http://arxiv.org/abs/2506.01234\r\nY1  - 2025/06/02\r\n"
    )  # the last record has no ER
    got = by_line(run(parse_ris, write(tmp_path, data, "dirty.ris")))
    assert got[1].title == "Good One" and got[1].authors == ["Jane Doe"] and got[1].published == "2020-01-01"
    assert got[7] == Reject(7, "bad encoding", "invalid UTF-8 in RIS record")
    assert got[11].title == "No Title Here? No: T1 is empty"  # "ER  -" without the trailing space
    assert got[14] == Reject(14, "missing title")
    last = got[17]
    assert last.arxiv_id == "2506.01234" and last.version == 2 and last.categories == ["cs"]
    assert last.abstract == "First half of the abstract continued on a wrapped line."
    assert last.published == "2025-06-02"
