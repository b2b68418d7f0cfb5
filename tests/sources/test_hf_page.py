"""Hugging Face papers pages copied as text: the five real pages and dirt."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import shared

from paperradar.ids import normalize_title
from paperradar.model import Paper, Reject
from paperradar.sources.detect import HEAD_BYTES, detect
from paperradar.sources.hf_page import is_abstract, parse, pick_title, unglue_header

PAGES = "data/hf-papers-pages"
ABSTRACT = (
    "We study a problem that matters. Existing methods fail in several ways that we describe here. "
    "We propose a method that fixes them and evaluate it on many benchmarks, where it improves the "
    "state of the art by a wide margin. Code and models are released to the community for reuse, "
    "together with the data."
)

CHIMERA = (
    "Chimera: A Lossless Decoding Method for Accelerating Large Language Models Inference "
    "by Fusing all Tokens"
)

# (file, entries, first title line, first title, last title line, last title)
REAL_PAGES = [
    (
        "000_427ea85b41be9887.txt", 57,
        11, "Beyond Next-Token: Next-X Prediction for Autoregressive Visual Generation",
        235, CHIMERA,
    ),
    (
        "001_9b6aec0f688e2133.txt", 62,
        11, "The Unlocking Spell on Base LLMs: Rethinking Alignment via In-Context Learning",
        255, CHIMERA,
    ),
    (
        "002_4b58be3f9431e774.txt", 367,
        3, "SqueezeAttention: 2D Management of KV-Cache in LLM Inference via Layer-wise Optimal Budget",
        735, "Patch-Level Training for Large Language Models",
    ),
    (
        "003_6c3771268cde0a38.txt", 52,
        13, "Task Preference Optimization: Improving Multimodal Large Language Models "
        "with Vision Task Alignment",
        217, "Lawma: The Power of Specialization for Legal Tasks",
    ),
    (
        "004_218141e38ec33e88.txt", 246,
        3, "EditP23: 3D Editing via Propagation of Image Prompts to Multi-View",
        493, "UltraFeedback: Boosting Language Models with High-quality Feedback",
    ),
]  # fmt: skip


def parse_path(path: Path) -> list:
    with path.open("rb") as stream:
        return list(parse(stream, str(path)))


def run(text: str | bytes) -> list:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(parse(io.BytesIO(data), "<stdin>"))


def titles(items: list) -> list[str]:
    return [item.title for _, item in items if isinstance(item, Paper)]


# --- the five real pages -------------------------------------------------


@pytest.mark.parametrize("name, count, first_line, first, last_line, last", REAL_PAGES)
def test_real_page(name: str, count: int, first_line: int, first: str, last_line: int, last: str) -> None:
    path = shared(f"{PAGES}/{name}")
    assert detect(path.read_bytes()[:HEAD_BYTES]) == "hf-page"
    items = parse_path(path)
    assert all(isinstance(item, Paper) for _, item in items)
    assert len(items) == count
    assert (items[0][0], items[0][1].title) == (first_line, first)
    assert (items[-1][0], items[-1][1].title) == (last_line, last)
    for _, paper in items:
        assert paper.source == "hf-page"
        assert paper.arxiv_id is None and paper.source_id is None and paper.published is None
        assert paper.id.startswith("title:")
        assert len(paper.abstract) > 300 and len(paper.title) < 300
        assert not paper.title.startswith(("Subscribe", "Get trending", "byAK", "Daily Papers"))


def test_real_pages_total_and_distinct() -> None:
    all_titles: list[str] = []
    for name, *_ in REAL_PAGES:
        all_titles += titles(parse_path(shared(f"{PAGES}/{name}")))
    assert len(all_titles) == 784
    assert len({normalize_title(t) for t in all_titles}) == 706


def test_real_page_abstracts_belong_to_their_titles() -> None:
    items = parse_path(shared(f"{PAGES}/000_427ea85b41be9887.txt"))
    first = items[0][1]
    assert first.abstract.startswith(
        "Autoregressive (AR) modeling, known for its next-token prediction paradigm, underpins"
    )
    glued = parse_path(shared(f"{PAGES}/002_4b58be3f9431e774.txt"))[0][1]
    assert glued.abstract.startswith("Optimizing the Key-Value (KV) cache of the Large Language Model (LLM)")


def test_real_page_titles_with_tex_and_unicode() -> None:
    found = titles(parse_path(shared(f"{PAGES}/002_4b58be3f9431e774.txt")))
    assert (
        "CLIPA-v2: Scaling CLIP Training with 81.1% Zero-shot ImageNet Accuracy within a \\$10,000 Budget; "
        "An Extra \\$4,000 Unlocks 81.8% Accuracy" in found
    )
    assert "Nyströmformer: A Nyström-Based Algorithm for Approximating Self-Attention" in found
    later = titles(parse_path(shared(f"{PAGES}/004_218141e38ec33e88.txt")))
    phi = "φ-Decoding: Adaptive Foresight Sampling for Balanced Inference-Time Exploration and Exploitation"
    assert phi in later


# --- structure and chrome ------------------------------------------------


def test_chrome_between_and_around_entries_is_ignored() -> None:
    page = "\n".join(
        [
            "new", "", "Get trending papers in your email inbox!", "", "Subscribe", "", "Daily Papers", "",
            "byAK and the research community", "", "Mar 13", "", "Previous", "Next", "",
            "42", "First Paper: A Study", "Submitted by someone", "Ann Lee, Bo Chen, Cy Dong and Di Wu",
            "· 5 authors", "3 comments", ABSTRACT, "",
            "1.2k", "Second Paper of the Day", "Published on Mar 12", ABSTRACT,
            "Upvote", "17", "Third, Fourth: Commas in a Title", ABSTRACT, "",
            "Load more", "© Hugging Face", "",
        ]
    )  # fmt: skip
    items = run(page)
    expected = ["First Paper: A Study", "Second Paper of the Day", "Third, Fourth: Commas in a Title"]
    assert titles(items) == expected
    assert [line for line, _ in items] == [17, 25, 30]


def test_no_blank_lines_and_crlf() -> None:
    page = "Get trending papers in your email inbox!\r\nSubscribeA Glued Title\r\n" + ABSTRACT + "\r\n"
    page += "Second Title\r\n" + ABSTRACT + "\r\n"
    items = run(page)
    assert [(line, item.title) for line, item in items] == [(2, "A Glued Title"), (4, "Second Title")]
    assert items[0][1].abstract == ABSTRACT


def test_utf8_bom_is_ignored() -> None:
    items = run(b"\xef\xbb\xbfA Title\n" + ABSTRACT.encode())
    assert titles(items) == ["A Title"]


def test_abstract_without_title_is_rejected_and_parsing_goes_on() -> None:
    lines = ["Mar 13", "", ABSTRACT, "", "Good Title", "", ABSTRACT, "", ABSTRACT, "", "Last Title", ABSTRACT]
    page = "\n".join(lines)
    items = run(page)
    kinds = [(line, item.reason if isinstance(item, Reject) else item.title) for line, item in items]
    assert kinds == [(3, "missing title"), (5, "Good Title"), (9, "missing title"), (11, "Last Title")]


def test_invalid_utf8_entry_is_rejected_and_later_entries_survive() -> None:
    data = b"Broken \xff Title\n\n" + ABSTRACT.encode() + b"\n\nFine Title\n\n" + ABSTRACT.encode() + b"\n"
    items = run(data)
    assert isinstance(items[0][1], Reject) and items[0][1].reason == "bad encoding" and items[0][0] == 1
    assert titles(items) == ["Fine Title"] and items[1][0] == 5


def test_empty_and_chrome_only_pages_yield_nothing() -> None:
    assert run("") == []
    assert run("new\n\nGet trending papers in your email inbox!\n\nSubscribe\n") == []


def test_short_multi_sentence_abstract_counts() -> None:
    short = (
        "We show one thing about language models here. Then another thing is shown at some length. "
        "Finally, we release all the code and the data for everyone to use."
    )
    assert 150 <= len(short) < 300
    assert is_abstract(short)
    assert is_abstract(ABSTRACT)
    title = "Tomayto, Tomahto. Beyond Token-level Answer Equivalence for Question Answering Evaluation"
    assert not is_abstract(title)
    assert not is_abstract("A" * 150 + ". B" + "b" * 20 + ". C" + "c" * 20)  # no closing full stop


def test_unglue_header_leaves_real_words_alone() -> None:
    assert unglue_header("SubscribeSqueezeAttention: 2D KV") == "SqueezeAttention: 2D KV"
    assert unglue_header("Subscriber Churn Prediction") == "Subscriber Churn Prediction"
    assert unglue_header("Get trending papers in your email inbox!Daily PapersMy Title") == "My Title"


def test_pick_title_none_when_only_chrome() -> None:
    from paperradar.sources.hf_page import Line

    assert pick_title([Line(1, "Mar 13", False), Line(2, "42", False)]) is None
