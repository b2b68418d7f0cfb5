"""Keyword search end to end: BM25 ranking, query syntax, filters, snippets, paging, hostile input, CLI.

Two databases, each built once per module: ``synth`` from a small generic
JSONL file whose papers are made up so that ranking questions have one
right answer, and ``real`` from a slice of the real arXiv file plus a few
Hugging Face daily files (see slice_db.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata

import pytest
import slice_db

from paperradar.cli import main
from paperradar.present import paper_json
from paperradar.rank.search import Filters, keyword_search
from paperradar.app import Radar
from paperradar.store import open_store

ALL = 100_000  # a limit above any result count here

FILLER_TOPICS = [
    "protein folding with evolutionary couplings", "traffic flow forecasting on road graphs",
    "speech enhancement in reverberant rooms", "market microstructure of limit order books",
    "glacier mass balance from satellite altimetry", "compiler autotuning for tensor programs",
    "soil moisture retrieval from radar backscatter", "bird song syllable classification",
    "quantum error correction with surface codes", "recommendation with implicit feedback",
    "crowd counting in dense scenes", "legal document summarization", "wildfire spread simulation",
    "music source separation", "handwriting recognition for historical archives",
    "molecular property prediction", "tabular anomaly detection", "sea ice concentration mapping",
    "code clone detection", "fairness in credit scoring", "bike sharing demand prediction",
    "polyp segmentation in colonoscopy", "sign language translation", "earthquake early warning",
    "solar flare forecasting", "drone swarm coordination", "table tennis ball tracking",
    "medical report generation", "poetry meter analysis", "supply chain disruption modelling",
]  # fmt: skip

# The abstract shared by the two papers of the field-weight test, long enough to be realistic.
BODY = (
    "We study representation learning for visual recognition under distribution shift. Our method "
    "combines contrastive pretraining with a lightweight adapter and is evaluated on six benchmarks, "
    "where it improves accuracy while keeping the number of trainable parameters small."
)

SYNTH = [
    # field weights: the same rare word once in a title, once in an abstract only
    {"id": "syn-title", "title": "Zorblax adapters for visual recognition", "abstract": BODY,
     "authors": ["Quintessa Varga", "Bartholomew Okonkwo"], "categories": ["cs.CV"], "published": "2025-05-01"},
    {"id": "syn-abstract", "title": "Lightweight adapters for visual recognition", "abstract": BODY + " We call it zorblax.",
     "authors": ["Ingrid Halvorsen"], "categories": ["cs.CV"], "published": "2025-05-02"},
    # phrases: adjacent vs. scattered words
    {"id": "syn-phrase", "title": "Message passing revisited",
     "abstract": "A graph neural network with quokka attention learns molecular energies.",
     "authors": ["Ana Lima"], "categories": ["cs.LG"], "published": "2025-05-03"},
    {"id": "syn-scattered", "title": "Spectral methods revisited",
     "abstract": "A neural model of each graph: quokka features feed a network of experts.",
     "authors": ["Ben Ode"], "categories": ["cs.LG"], "published": "2025-05-04"},
    # prefixes, including words whose Porter stem is shorter than the prefix typed
    {"id": "syn-prefix-1", "title": "Flimflammer models", "abstract": "Flimflammer for hallucination detection.",
     "authors": ["Cy Dorn"], "categories": ["cs.CL"], "published": "2025-05-05"},
    {"id": "syn-prefix-2", "title": "Many flimflammers", "abstract": "Flimflammers for image segmentation.",
     "authors": ["Di Eng"], "categories": ["cs.CV"], "published": "2025-05-06"},
    {"id": "syn-prefix-3", "title": "A flimflam", "abstract": "Plain flimflam for generalization.",
     "authors": ["Ed Fox"], "categories": ["cs.CV"], "published": "2025-05-07"},
    # snippets: HTML-special characters and control characters around a match
    {"id": "syn-html", "title": "Inequalities in estimation",
     "abstract": "We show that a < b && c > d for the wibblewock estimator, see <script>alert(1)</script>.",
     "authors": ["Fay Gill"], "categories": ["math.ST"], "published": "2025-05-08"},
    {"id": "syn-control", "title": "Control characters",
     "abstract": "Copied from a PDF: the \u0002snarkle\u0003 bound and the gromble estimator.",
     "authors": ["Gus Hale"], "categories": ["math.ST"], "published": "2025-05-09"},
] + [
    {"id": f"syn-filler-{i}", "title": topic.capitalize(),
     "abstract": f"We study {topic}. Experiments on public data show the approach works well.",
     "authors": [f"Author{i} Filler"], "categories": ["cs.LG"], "published": f"2025-04-{i % 28 + 1:02d}"}
    for i, topic in enumerate(FILLER_TOPICS)
]  # fmt: skip


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("synth")
    src = tmp / "synth.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in SYNTH), encoding="utf-8")
    db = tmp / "synth.db"
    assert main(["--db", str(db), "import", "--no-embed", str(src), "--no-progress"]) == 0
    store = open_store(str(db))
    assert store.count() == len(SYNTH)
    yield Radar(store)
    store.close()


@pytest.fixture(scope="module")
def real_slice(tmp_path_factory: pytest.TempPathFactory) -> slice_db.SliceDB:
    return slice_db.build(tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="module")
def real(real_slice: slice_db.SliceDB):
    store = open_store(str(real_slice.path))
    yield Radar(store)
    store.close()


def ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


def text_of(row: dict) -> str:
    return " ".join([row["title"] or "", row["abstract"] or "", " ".join(row["authors"])])


# ---------------------------------------------------------------------------
# BM25 and query syntax (made-up papers: one right answer)


def test_term_in_title_ranks_above_same_term_in_abstract(synth) -> None:
    rows = keyword_search(synth, "zorblax")
    assert ids(rows) == ["syn-title", "syn-abstract"]
    assert rows[0]["score"] > rows[1]["score"] > 0


def test_scores_are_non_increasing(real) -> None:
    rows = keyword_search(real, "diffusion", limit=50)
    assert len(rows) == 50
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_phrase_matches_only_adjacent_words(synth) -> None:
    assert ids(keyword_search(synth, '"graph neural network"')) == ["syn-phrase"]
    assert ids(keyword_search(synth, '"neural graph"')) == []
    # without quotes, both papers hold all the words: they come first (papers with some words fill below)
    assert set(ids(keyword_search(synth, "graph neural network quokka"))[:2]) == {"syn-phrase", "syn-scattered"}


def test_phrase_on_real_data_is_adjacent(real) -> None:
    rows = keyword_search(real, '"chain of thought"', limit=ALL)
    assert rows
    for row in rows:
        # Porter stemming lets "chains-of-thought" match, but the words must be adjacent
        assert re.search(r"\bchains?\W+of\W+thoughts?\b", text_of(row), re.I), row["id"]


def test_prefix_matches_longer_words(synth) -> None:
    assert set(ids(keyword_search(synth, "flimflam*"))) == {"syn-prefix-1", "syn-prefix-2", "syn-prefix-3"}
    assert set(ids(keyword_search(synth, "flimflammer*"))) == {"syn-prefix-1", "syn-prefix-2"}


def test_prefix_transform_matches_transformer_and_transformers(real) -> None:
    titles = [r["title"] for r in keyword_search(real, "title:transform*", limit=ALL)]
    words = {w.lower() for t in titles for w in re.findall(r"\btransform\w*", t, re.I)}
    assert {"transformer", "transformers"} <= words


@pytest.mark.parametrize("prefix", ["segmentat", "hallucinat", "generaliz"])
def test_prefix_matches_words_whose_stem_is_shorter_than_the_prefix(synth, prefix: str) -> None:
    """`segmentat*` must find "segmentation" although the Porter index holds it as "segment"."""
    expected = {p["id"] for p in SYNTH if re.search(rf"\b{prefix}", p["title"] + " " + p["abstract"], re.I)}
    assert expected  # the fixture holds such a word
    assert expected <= set(ids(keyword_search(synth, prefix + "*")))


@pytest.mark.parametrize(
    "prefix",
    # whole words typed with a star, then prefixes longer than the word's English stem
    ["transformer", "models", "diffusion", "language", "segmentat", "hallucinat", "transformat", "reasoni"],
)
def test_prefix_recall_on_real_data(real, prefix: str) -> None:
    """Every paper containing a word that starts with the prefix is found by ``prefix*``."""
    pattern = re.compile(rf"\b{prefix}", re.I)
    rows = real.store.conn.execute("SELECT id, title, abstract FROM papers").fetchall()
    expected = {r["id"] for r in rows if pattern.search(f"{r['title']} {r['abstract']}")}
    assert len(expected) > 10
    found = set(ids(keyword_search(real, prefix + "*", limit=ALL)))
    missed = expected - found
    assert not missed, f"{prefix}*: {len(missed)} of {len(expected)} papers missed, e.g. {sorted(missed)[:3]}"


def test_or(synth) -> None:
    assert set(ids(keyword_search(synth, "zorblax OR quokka"))) == {
        "syn-title", "syn-abstract", "syn-phrase", "syn-scattered",
    }  # fmt: skip
    assert set(ids(keyword_search(synth, "wibblewock OR nosuchwordanywhere"))) == {"syn-html"}


def test_exclusion(synth) -> None:
    assert ids(keyword_search(synth, "adapters -zorblax")) == []  # both adapters papers say zorblax
    assert set(ids(keyword_search(synth, "revisited -quokka"))) == set()
    assert set(ids(keyword_search(synth, "revisited -spectral"))) == {"syn-phrase"}
    assert set(ids(keyword_search(synth, "revisited NOT spectral"))) == {"syn-phrase"}
    assert set(ids(keyword_search(synth, "flimflam* -title:flimflam"))) == {"syn-prefix-1", "syn-prefix-2"}


def test_exclusion_on_real_data(real) -> None:
    rows = keyword_search(real, "diffusion -video", limit=ALL)
    assert rows
    for row in rows:
        assert not re.search(r"\bvideo", text_of(row), re.I), row["id"]


def test_exclusion_holds_when_the_query_has_a_nul_character(real) -> None:
    """A stray NUL (e.g. %00 in a URL) must not turn an excluded word into a required one."""
    rows = keyword_search(real, "diffusion -video\x00", limit=ALL)
    for row in rows:
        assert not re.search(r"\bvideo", text_of(row), re.I), row["id"]


def test_title_and_abstract_fields(synth) -> None:
    assert ids(keyword_search(synth, "title:zorblax")) == ["syn-title"]
    assert ids(keyword_search(synth, "abstract:zorblax")) == ["syn-abstract"]
    assert ids(keyword_search(synth, 'abstract:"graph neural network"')) == ["syn-phrase"]
    assert ids(keyword_search(synth, 'title:"graph neural network"')) == []


def test_author_field(synth) -> None:
    assert ids(keyword_search(synth, "author:varga")) == ["syn-title"]
    # the only paper with both comes first (papers with some of the clauses may fill the page below it)
    assert ids(keyword_search(synth, 'author:"Quintessa Varga" zorblax'))[0] == "syn-title"
    assert ids(keyword_search(synth, "author:zorblax")) == []


def test_field_syntax_on_real_data(real) -> None:
    for row in keyword_search(real, "title:segmentation", limit=ALL):
        assert re.search(r"segment", row["title"], re.I), row["id"]
    rows = keyword_search(real, "author:wang", limit=ALL)
    assert rows
    for row in rows:
        assert any(re.search(r"\bwang\b", a, re.I) for a in row["authors"]), row["id"]


# ---------------------------------------------------------------------------
# Filters (real data)


FILTERS = [
    Filters(category="cs.CL"),
    Filters(category="cs.RO"),
    Filters(since="2025-03-25"),
    Filters(until="2025-03-20"),
    Filters(since="2025-03-21", until="2025-03-24"),
    Filters(category="cs.CV", since="2025-03-27"),
]


def satisfies(row: dict, f: Filters) -> bool:
    if f.category and f.category not in row["categories"]:
        return False
    if f.since and not (row["published"] and row["published"] >= f.since):
        return False
    if f.until and not (row["published"] and row["published"] <= f.until):
        return False
    return True


@pytest.mark.parametrize("query", ["language model", "robot manipulation", "segmentation", "reasoning benchmark"])
@pytest.mark.parametrize("f", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in vars(f).items() if v))
def test_filters_keep_exactly_the_matching_results(real, query: str, f: Filters) -> None:
    """Every filtered result satisfies the filter, and no unfiltered result that does is lost."""
    unfiltered = keyword_search(real, query, limit=ALL)
    filtered = keyword_search(real, query, f, limit=ALL)
    for row in filtered:
        assert satisfies(row, f), (row["id"], row["categories"], row["published"])
    assert set(ids(filtered)) == {r["id"] for r in unfiltered if satisfies(r, f)}


def test_known_paper_survives_its_own_filters(real) -> None:
    paper = real.store.get("2503.16419")  # "Stop Overthinking: A Survey on Efficient Reasoning for LLMs", cs.CL, HF-upvoted
    assert paper is not None
    day = paper["published"]
    f = Filters(category=paper["categories"][0], since=day, until=day, author=paper["authors"][0])
    assert "2503.16419" in ids(keyword_search(real, "efficient reasoning survey", f, limit=10))
    assert "2503.16419" in ids(keyword_search(real, "overthinking", Filters(since=day), limit=10))
    assert "2503.16419" not in ids(keyword_search(real, "overthinking", Filters(until="2025-03-18"), limit=ALL))


def test_author_filter_results_have_that_author(real) -> None:
    for name in ["Wang", "Yang Sui", "Li"]:
        rows = keyword_search(real, "model", Filters(author=name), limit=ALL)
        assert rows, name
        words = name.lower().split()
        for row in rows:
            assert any(_name_has(a, words) for a in row["authors"]), (name, row["id"], row["authors"])


def _name_has(author: str, words: list[str]) -> bool:
    plain = "".join(c for c in unicodedata.normalize("NFKD", author) if not unicodedata.combining(c))
    tokens = re.findall(r"\w+", plain.lower())
    n = len(words)
    return any(tokens[i : i + n] == words for i in range(len(tokens) - n + 1))


def test_author_filter_does_not_match_across_two_authors(real) -> None:
    """Last name of one author + first name of the next is nobody's name."""
    paper = real.store.get("2503.16419")
    assert paper["authors"][:2] == ["Yang Sui", "Yu-Neng Chuang"]
    straddle = "Sui Yu-Neng"
    rows = keyword_search(real, "reasoning", Filters(author=straddle), limit=ALL)
    assert "2503.16419" not in ids(rows), "--author matched the end of one name and the start of the next"


def test_filters_with_no_match_return_empty_list(real) -> None:
    assert keyword_search(real, "diffusion", Filters(category="no.such")) == []
    assert keyword_search(real, "diffusion", Filters(since="2030-01-01")) == []
    assert keyword_search(real, "diffusion", Filters(until="2000-01-01")) == []
    assert keyword_search(real, "diffusion", Filters(author="Nobody Nowhere-Person")) == []


# ---------------------------------------------------------------------------
# Snippets


def test_snippet_marks_query_term(real) -> None:
    rows = keyword_search(real, "hallucination", limit=5)
    assert rows
    for row in rows:
        out = paper_json(row)
        if "hallucination" not in (row["abstract"] or "").lower():
            continue
        assert re.search(r"<mark>hallucinat\w*</mark>", out["snippet_html"], re.I), out["snippet_html"]
        assert "\x02" not in out["snippet"] and "\x03" not in out["snippet"]
        assert "hallucination" in out["snippet"].lower()


def test_snippet_html_is_escaped(synth) -> None:
    [row] = keyword_search(synth, "wibblewock")
    html = paper_json(row)["snippet_html"]
    assert "<mark>wibblewock</mark>" in html
    assert "a &lt; b &amp;&amp; c &gt; d" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert re.sub(r"</?mark>", "", html).count("<") == 0


def test_snippet_html_marks_only_matches_even_with_control_characters(synth) -> None:
    """Characters \\x02/\\x03 copied into an abstract must not turn into <mark> tags."""
    [row] = keyword_search(synth, "gromble")
    out = paper_json(row)
    assert out["snippet_html"].count("<mark>") == 1, out["snippet_html"]
    assert "<mark>gromble</mark>" in out["snippet_html"]
    assert "<mark>snarkle</mark>" not in out["snippet_html"]


# ---------------------------------------------------------------------------
# Paging


@pytest.mark.parametrize("query", ["image", "efficient reasoning robot", "vision language model hallucination benchmark"])
def test_paging_is_consistent_with_a_larger_limit(real, query: str) -> None:
    big = ids(keyword_search(real, query, limit=30))
    assert len(big) == 30
    pages = [ids(keyword_search(real, query, limit=10, offset=o)) for o in (0, 10, 20)]
    assert pages[0] + pages[1] + pages[2] == big
    assert len(set(big)) == 30  # no paper twice


def test_offset_past_the_end(synth) -> None:
    assert keyword_search(synth, "zorblax", limit=10, offset=2) == []
    assert ids(keyword_search(synth, "zorblax", limit=1, offset=1)) == ["syn-abstract"]


def test_and_matches_rank_before_or_fill(real) -> None:
    """Papers with every word come first; papers with only some fill the page below them."""
    query = "gaussian splatting avatar"
    rows = keyword_search(real, query, limit=40)
    words = [r"gaussian", r"splat", r"avatar"]
    has_all = [all(re.search(rf"\b{w}", text_of(r), re.I) for w in words) for r in rows]
    assert any(has_all) and not all(has_all)
    first_partial = has_all.index(False)
    assert all(has_all[:first_partial]) and not any(has_all[first_partial:])


# ---------------------------------------------------------------------------
# Hostile input


HOSTILE = [
    "", " ", "\t\n", '"', '""', '"""', "'", "*", "**", "a*b*", "NOT", "AND", "OR", "AND OR NOT", "NOT NOT x",
    "NEAR(a b, 3)", "NEAR(", "a NEAR b", "a:b:c", "title:", "author:", "abstract:", "title:*", "author:\"\"",
    "title:\"", "(((", ")", "())(", "-", "--", "-*", "- -", "^", "^vision", "vision^2", "{col}: x", "{title}: x",
    "'; DROP TABLE papers; --", "\"; DROP TABLE papers_fts; --", "\x00", "a\x00b", "vision\x00",
    "title:vision\x00 -x", "😀", "🚀 rocket", "模型 学习", "نموذج لغوي كبير", "\u202evision\u202c", "שלום",
    "x" * 10_000, "vision " * 2_000, '"' * 5_000, "col:\"unterminated", 'title:"unterminated phrase', "a OR",
    "OR a", "OR OR", "OR OR OR vision", "a OR OR b", "!!!", "?.,;:", "@#$%^&()[]{}<>|\\/~`", "%_", "%vision%",
    "_", "___", "a AND ___", "vision -vision", "-vision", "-vision -model", "NOT vision", "+vision",
    "\\\"vision\\\"", "title:title:title:x", "author:-x", "-author:x", "x:", ":x", "::", "\u0301", "e\u0301",
    "\ufeffvision", "\u200b", "vision\u200bmodel", "ﬁne-tuning", "İstanbul", "ß", "\r\n", "\x1b[31mred",
    "abc\ud800", "\udcff", "vision\udcff model",
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: ascii(q[:30]))
def test_hostile_query_never_raises(real, query: str) -> None:
    result = keyword_search(real, query, limit=5)
    assert isinstance(result, list)
    assert len(result) <= 5


@pytest.mark.parametrize("query", HOSTILE[::3], ids=lambda q: ascii(q[:30]))
def test_hostile_query_with_filters_never_raises(real, query: str) -> None:
    f = Filters(category="cs.CV", author="Wang", since="2025-03-20", until="2025-03-31")
    assert isinstance(keyword_search(real, query, f, limit=5, offset=3), list)


@pytest.mark.parametrize("author", ["", "\"", "*", "'; --", "\x00", "NOT", "a:b", "Wang\udcff", "😀"], ids=ascii)
def test_hostile_author_filter_never_raises(real, author: str) -> None:
    assert isinstance(keyword_search(real, "model", Filters(author=author), limit=5), list)


def test_database_survives_hostile_queries(real) -> None:
    before = real.store.count()
    for query in HOSTILE:
        try:
            keyword_search(real, query, limit=1)
        except Exception:  # reported by test_hostile_query_never_raises
            pass
    assert real.store.count() == before
    assert keyword_search(real, "diffusion", limit=1)


@pytest.mark.parametrize(
    "query", [q for q in HOSTILE[::2] if "\x00" not in q and q != "-"], ids=lambda q: ascii(q[:30])
)  # a command-line argument cannot hold NUL; "-" means "read the query from stdin"
def test_hostile_query_via_cli(real_slice, capsys, query: str) -> None:
    code, out, err = run_cli(capsys, "--db", str(real_slice.path), "search", "--json", "--", query)
    assert code == 0, err
    assert "Traceback" not in err
    assert isinstance(json.loads(out), list)


def test_undecodable_argument_via_cli_subprocess(real_slice) -> None:
    """Bytes that are not UTF-8 on the command line arrive as surrogates; they must not crash search."""
    cmd = [sys.executable, "-m", "paperradar", "--db", str(real_slice.path), "search", "--json", "--"]
    proc = subprocess.run([*cmd, b"vision\xff"], capture_output=True, timeout=60)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")[-600:]
    assert proc.returncode == 0
    assert isinstance(json.loads(proc.stdout), list)


# ---------------------------------------------------------------------------
# CLI


KEYS = {"id", "title", "authors", "abstract", "categories", "date", "score"}


def test_cli_search_json(real_slice, capsys) -> None:
    code, out, err = run_cli(capsys, "--db", str(real_slice.path), "search", "diffusion model", "--json")
    assert code == 0, err
    items = json.loads(out)
    assert isinstance(items, list) and len(items) == 10  # default limit
    for item in items:
        assert KEYS <= item.keys(), KEYS - item.keys()
        assert isinstance(item["authors"], list) and isinstance(item["categories"], list)
        assert isinstance(item["score"], float)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["date"])
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("limit", [1, 3, 25])
def test_cli_search_limit(real_slice, capsys, limit: int) -> None:
    code, out, _ = run_cli(capsys, "--db", str(real_slice.path), "search", "image", "--json", "--limit", str(limit))
    assert code == 0
    assert len(json.loads(out)) == limit


def test_cli_search_matches_api(real_slice, real, capsys) -> None:
    args = ["--category", "cs.CL", "--since", "2025-03-20", "--until", "2025-03-31", "--limit", "7", "--offset", "2"]
    code, out, _ = run_cli(capsys, "--db", str(real_slice.path), "search", "reasoning", "--json", *args)
    assert code == 0
    f = Filters(category="cs.CL", since="2025-03-20", until="2025-03-31")
    assert [i["id"] for i in json.loads(out)] == ids(keyword_search(real, "reasoning", f, limit=7, offset=2))


def test_cli_search_no_results(real_slice, capsys) -> None:
    code, out, _ = run_cli(capsys, "--db", str(real_slice.path), "search", "qwxzvbnmplk", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run_cli(capsys, "--db", str(real_slice.path), "search", "qwxzvbnmplk")
    assert code == 0 and "no results" in out


def test_cli_search_text_output(real_slice, capsys) -> None:
    code, out, _ = run_cli(capsys, "--db", str(real_slice.path), "search", "hallucination", "--limit", "2")
    assert code == 0
    assert re.search(r"^\s+1\. \[\S+\] .+score", out, re.M)
    assert "**" in out  # highlighted snippet term when not a terminal
    assert "\x02" not in out and "\x03" not in out


@pytest.mark.parametrize(
    "args",
    [["--limit", "0"], ["--limit", "-3"], ["--limit", "x"], ["--offset", "-1"], ["--since", "2025-13-01"],
     ["--until", "yesterday"], ["--mode", "fuzzy"], ["--text-file", "/nonexistent/query.txt"]],
)  # fmt: skip
def test_cli_search_bad_arguments_exit_2(real_slice, capsys, args: list[str]) -> None:
    code, _, err = run_cli(capsys, "--db", str(real_slice.path), "search", "vision", *args)
    assert code == 2
    assert "Traceback" not in err


def test_cli_db_after_subcommand(real_slice, capsys) -> None:
    code, out, _ = run_cli(capsys, "search", "vision", "--json", "--limit", "2", "--db", str(real_slice.path))
    assert code == 0 and len(json.loads(out)) == 2


def test_hostile_queries_cover_the_brief() -> None:
    """Guard: the list keeps the strings the spec names (so nobody trims it to green)."""
    for must in ['"', '""', "*", "NOT", "AND OR NOT", "NEAR(a b, 3)", "a:b:c", "title:", "(((", ")", "-", "--",
                 "^", "{col}: x", "'; DROP TABLE papers; --", "\x00", "col:\"unterminated", "a OR", "OR OR", "%_"]:  # fmt: skip
        assert must in HOSTILE
    assert any(len(q) >= 10_000 for q in HOSTILE)
