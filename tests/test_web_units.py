"""The pure parts of the web layer: TeX to MathML, BibTeX, trending scores, and the store's
browsing queries and author lookup on real data."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import bibtexparser
import pytest
from conftest import shared
from lxml import etree

from paperradar.app import Radar
from paperradar.citation import bibtex, bibtex_key, links
from paperradar.rank import trending as trends
from paperradar.rank.authors import author_papers, fold
from paperradar.web.tex import abstract_html, excerpt, math_html, tex_html

ARXIV = "data/arxiv/arxiv-2025-2026.jsonl.gz"


def real_abstracts_with_dollars(n: int = 300) -> list[str]:
    out = []
    with gzip.open(shared(ARXIV), "rt", encoding="utf-8") as f:
        for line in f:
            abstract = json.loads(line).get("abstract") or ""
            if "$" in abstract:
                out.append(abstract)
                if len(out) >= n:
                    break
    return out


def well_formed(fragment: str) -> etree._Element:
    """The HTML fragment parsed as XML (our output is well-formed: escaped text and MathML)."""
    return etree.fromstring(f"<div>{fragment}</div>".encode())


# -- TeX -------------------------------------------------------------------------


def test_real_abstracts_render_math_as_mathml_and_stay_well_formed() -> None:
    abstracts = real_abstracts_with_dollars()
    rendered = 0
    for text in abstracts:
        out = str(abstract_html(text))
        root = well_formed(out)
        maths = root.findall(".//{http://www.w3.org/1998/Math/MathML}math")
        rendered += bool(maths)
        for el in root.iter():
            name = etree.QName(el).localname
            assert name in {"div", "p", "em", "strong", "code", "u"} or etree.QName(el).namespace, name
            assert not any(a.startswith("on") or a in ("href", "style", "src") for a in el.attrib), el.attrib
    assert rendered >= 0.9 * len(abstracts), (rendered, len(abstracts))


def test_inline_and_display_math() -> None:
    out = str(tex_html(r"cost $O(n \log n)$ and $$\sum_i x_i$$"))
    assert out.count("<math") == 2 and 'display="inline"' in out and 'display="block"' in out
    assert "<mi>log</mi>" in out
    assert "&lt;" not in str(tex_html("$a+b$"))


def test_markup_inside_math_is_escaped_or_refused() -> None:
    for tex in [r"$\text{<script>alert(1)</script>}$", r"$\text{<img src=x onerror=alert(1)>}$",
                r"$\href{javascript:alert(1)}{x}$", r"$\color{red}{x}$", r"$a & b$", "$<b>x</b>$"]:
        out = str(tex_html(tex))
        well_formed(out)
        assert "<script" not in out and "<img" not in out and "<b>" not in out, out
        assert "javascript:" not in out or "<math" not in out, out
        assert "href=" not in out and "style=" not in out, out


def test_bad_tex_falls_back_to_escaped_text() -> None:
    assert str(tex_html(r"broken $\frac{a}{$ here")) == r"broken $\frac{a}{$ here"
    assert math_html(r"\frac{a}{") is None
    assert math_html("x" * 5000) is None


def test_dollar_amounts_are_not_math() -> None:
    assert str(tex_html("costs $5 and $10")) == "costs $5 and $10"
    assert str(tex_html("only $4 per test, and $1,000, total")) == "only $4 per test, and $1,000, total"
    assert "<math" in str(tex_html(r"512$\times$512 at $\ge$768"))
    assert "<math" in str(tex_html(r"DSC was $0.93 \pm 0.05$")) and "<math" in str(tex_html("of $2,500$ images"))


def test_text_is_escaped_and_simple_macros_understood() -> None:
    assert str(tex_html("a < b & c > d \"q\"")) == 'a &lt; b &amp; c &gt; d "q"'
    assert str(tex_html(r"\emph{new} and \textbf{bold} 50\% \& more")) == "<em>new</em> and <strong>bold</strong> 50% &amp; more"
    assert str(tex_html(r"\emph{<i>x</i>}")) == "<em>&lt;i&gt;x&lt;/i&gt;</em>"


def test_abstract_paragraphs_and_line_breaks() -> None:
    out = str(abstract_html("first line\nsame paragraph.\n  Indented new paragraph.\n\nThird."))
    assert out == "<p>first line same paragraph.</p><p>Indented new paragraph.</p><p>Third.</p>"
    assert str(abstract_html("")) == ""


def test_excerpt_never_ends_inside_math() -> None:
    text = "word " * 50 + r"$\alpha + \beta + \gamma$ and more words after it " * 3
    for chars in range(240, 300, 3):
        cut = excerpt(text, chars)
        assert cut.endswith(" …") and cut[:-2].count("$") % 2 == 0, (chars, cut)
    assert excerpt("short", 100) == "short"


# -- BibTeX -----------------------------------------------------------------------


def test_bibtex_of_real_papers_parses_back(web_store) -> None:
    rows = [web_store.get(pid) for pid in ("2503.15485", "2503.99902", "2503.99901")]
    rows += [r for r in web_store.feed("2025-03-18", "2025-03-20", limit=200)[0]]
    keys = Counter()
    for row in rows:
        if row is None:
            continue
        entry_text = bibtex(row)
        db = bibtexparser.loads(entry_text)
        assert len(db.entries) == 1, entry_text
        entry = db.entries[0]
        assert entry["ID"] == bibtex_key(row) and re.fullmatch(r"[a-z0-9]+", entry["ID"])
        assert "\n" not in entry["title"]
        assert entry_text.count("{") == entry_text.count("}")
        if row["id"][0].isdigit():
            assert entry["eprint"] == row["id"] and entry["archiveprefix"] == "arXiv"
            assert entry["url"] == f"https://arxiv.org/abs/{row['id']}"
        if row["authors"]:
            assert entry["author"].split(" and ")[0] == " ".join(row["authors"][0].split())
        keys[entry["ID"]] += 1


def test_bibtex_escapes_and_balances() -> None:
    row = {"id": "2503.99902", "title": "Price of $5 & 10% # {unbalanced } extra}", "authors": ["Ada Lovelace"],
           "published": "2025-03-19", "categories": ["cs.CR"]}
    entry = bibtex(row)
    assert r"\&" in entry and r"\%" in entry and r"\#" in entry
    assert entry.count("{") == entry.count("}")
    assert bibtex_key(row) == "lovelace2025price"
    assert bibtex_key({"id": "x", "title": "", "authors": []}) == "anonpaper"


def test_links_for_arxiv_and_other_papers() -> None:
    assert links({"id": "2405.21060", "links": {}}) == {
        "abs": "https://arxiv.org/abs/2405.21060", "pdf": "https://arxiv.org/pdf/2405.21060",
        "hf": "https://huggingface.co/papers/2405.21060"}
    assert links({"id": "hep-th/9901001", "links": {}})["pdf"] == "https://arxiv.org/pdf/hep-th/9901001"
    assert links({"id": "doi:10.1/x", "doi": "10.1/x", "links": {"evil": "javascript:alert(1)"}}) == {
        "doi": "https://doi.org/10.1/x"}


# -- trending ---------------------------------------------------------------------


def test_score_decays_with_age_and_grows_with_votes() -> None:
    assert trends.score(10, 0) == pytest.approx(10 / 2 ** 1.8)
    assert trends.score(10, 24) > trends.score(10, 48) > trends.score(10, 480)
    assert trends.score(20, 24) > trends.score(10, 24)
    assert trends.score(10, 24) > trends.score(100, 24 * 7)  # a fresh paper beats a week-old one with 10x
    assert trends.score(-3, 5) == 0 and trends.score(5, -10) == trends.score(5, 0)
    assert trends.FORMULA == "score = upvotes / (age_hours + 2) ^ 1.8"


def test_rank_orders_by_decayed_score() -> None:
    as_of = datetime(2025, 3, 26, tzinfo=UTC)
    rows = [{"id": "old", "upvotes": 100, "published": "2025-03-18"},
            {"id": "new", "upvotes": 10, "published": "2025-03-25"},
            {"id": "none", "upvotes": 5, "published": None}]
    ranked = trends.rank(rows, as_of)
    assert [r["id"] for r in ranked] == ["new", "old", "none"]
    assert ranked[0]["age_hours"] == 24 and ranked[0]["trend"] == pytest.approx(10 / 26 ** 1.8)


def test_trending_on_real_upvotes(web_store) -> None:
    as_of = datetime(2025, 3, 26, tzinfo=UTC)
    rows, got_as_of, total = trends.trending(web_store, as_of, limit=1000)
    assert got_as_of == as_of and total == len(rows) > 10
    first = date(2025, 3, 26) - timedelta(days=trends.WINDOW_DAYS - 1)
    assert all(r["upvotes"] > 0 and first.isoformat() <= r["published"] <= "2025-03-26" for r in rows)
    scores = [r["trend"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    # Without a time: the end of the newest listing day (the slice is old), not today.
    assert trends.reference_time(web_store) == datetime(2025, 4, 4, tzinfo=UTC)


# -- store browsing queries and authors --------------------------------------------


def test_day_counts_and_latest_day_match_the_raw_files(web_db, web_store) -> None:
    truth = Counter(t.first_listed for t in web_db.truth.values())
    truth["2025-03-19"] += 2  # the two hostile papers
    counts = dict(web_store.day_counts("2025-03-01", "2025-04-30"))
    assert counts == {d: n for d, n in truth.items() if d}
    assert web_store.latest_day() == max(counts)
    assert web_store.latest_day("2025-03-22") == max(d for d in counts if d <= "2025-03-22")
    assert web_store.latest_day("1999-01-01") == max(counts)  # nothing that old: the newest


def test_category_counts_and_listing(web_db, web_store) -> None:
    truth = Counter(c for t in web_db.truth.values() for c in t.categories)
    truth["cs.CR"] += 2
    counts = dict(web_store.category_counts())
    assert counts == dict(truth)
    day = dict(web_store.category_counts("2025-03-20", "2025-03-20"))
    assert day == dict(Counter(c for t in web_db.truth.values() if t.first_listed == "2025-03-20" for c in t.categories))
    rows, total = web_store.category_papers("cs.CL", limit=40)
    assert total == truth["cs.CL"] and len(rows) == 40
    assert all("cs.CL" in r["categories"] for r in rows)
    assert [r["published"] for r in rows] == sorted((r["published"] for r in rows), reverse=True)
    assert web_store.category_papers("CS.cl", limit=1)[1] == total  # categories are case-insensitive
    assert web_store.category_papers("no.such", limit=5) == ([], 0)


def test_author_papers_finds_exact_names_accents_folded(web_store) -> None:
    rows, total = author_papers(Radar(web_store), "José Ñúñez")
    assert total == 2 and {r["id"] for r in rows} == {"2503.99901", "2503.99902"}
    assert author_papers(Radar(web_store), "jose nunez")[1] == 2
    assert author_papers(Radar(web_store), "Nunez")[1] == 0  # a part of a name is not the name
    assert author_papers(Radar(web_store), "***")[1] == 0
    assert fold("  Émile   ZOLA ") == "emile zola"
    name = web_store.feed("2025-03-20", "2025-03-20", limit=1)[0][0]["authors"][0]
    rows, total = author_papers(Radar(web_store), name)
    assert total >= 1 and all(any(fold(a) == fold(name) for a in r["authors"]) for r in rows)


# -- the page registry -------------------------------------------------------------


def test_links_are_made_from_the_registered_routes(web_store) -> None:
    from paperradar.web import create_app
    from paperradar.web.links import linker, url_for, url_or_none

    create_app(Radar(web_store), catch_up_index=False)  # registers every page
    assert url_for("feed", "json", date="2025-03-20", period=None, category="") == "/api/feed?date=2025-03-20"
    assert url_for("search", "atom", q="a b", mode="keyword") == "/feeds/search.atom?q=a+b&mode=keyword"
    assert url_for("paper", "html", paper_id="hep-th/9901001") == "/papers/hep-th/9901001"
    assert url_for("paper", "json", paper_id="doi:10.1/x y") == "/api/paper/doi:10.1/x%20y"
    assert url_for("author", "json", name="Mallory/Slash", page=2) == "/api/authors/Mallory%2FSlash?page=2"
    assert url_for("category", "atom", category="cs.CL") == "/feeds/categories/cs.CL.atom"
    assert linker("trending", "html", date=None, category="cs.CV")(page=3) == "/trending?category=cs.CV&page=3"
    assert url_or_none("search", "json", None) is None


def test_every_page_is_registered_with_its_twin_documented_and_its_html_hidden(web_store) -> None:
    from paperradar.web import create_app
    from paperradar.web.links import ROUTES

    spec = create_app(Radar(web_store), catch_up_index=False).openapi()
    assert {name for name, _ in ROUTES} == {"feed", "search", "trending", "paper", "author", "categories", "category"}
    for (name, view), route in ROUTES.items():
        path = "".join(f"{{{part}}}" if i % 2 else part for i, part in enumerate(route.parts))  # as OpenAPI writes it
        documented = spec["paths"].get(path, {}).get("get")
        assert (documented is not None) == (view != "html"), (name, view, path)
        if documented:
            assert documented["summary"] and documented["operationId"], (name, view)
