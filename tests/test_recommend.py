"""The recommender (rank/recommend.py), `paperradar recommend` and `paperradar eval recs`.

On a copy of the real slice database (``community``: 3,000 arXiv papers; the first 160, all of
its first day 2025-03-18, have vectors): a library of a few papers on one topic ranks that day's
other papers on the topic first; hiding a paper drops it and a near twin of it (a second record of
the same work, stored as another paper); ``why`` names saved papers that exist and terms the paper
holds; an account's signals become a cached model, retrained when the library changes, and with
fewer than three positives the answer is the cold start. `eval recs` runs on a tiny folder made
here (never the dev set) whose rankings are fixed by construction, and its metrics are checked
against values worked out by hand.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from community_fixtures import Site, add_member, community  # noqa: F401
from web_fixtures import embedded_ids, quiet_main

from paperradar.app import Radar
from paperradar.index.embed import paper_text, text_hash
from paperradar.model import Paper
from paperradar.rank import recommend as rec
from paperradar.store import SQLiteStore

DAY = "2025-03-18"  # the slice's first day: its first 160 papers have vectors
TOPICS = ("gaussian", "diffusion")  # the library: four papers of DAY with the word in their title
ABOUT = {"gaussian": ("gaussian", "splatting", "3dgs"), "diffusion": ("diffusion",)}  # what is on the topic
UNRELATED = "language model"
SAVED = 4


def about(row: Any, topic: str) -> bool:
    text = f"{row['title']} {row['abstract']}".lower()
    return any(word in text for word in ABOUT[topic])


def topic_papers(site: Site, topic: str) -> list[str]:
    """The embedded papers of DAY with the topic's word in their title, in rowid order."""
    store = site.store
    return [i for i in embedded_ids(store) if (r := store.get(i)) and r["published"] == DAY
            and topic in r["title"].lower()]


@pytest.mark.parametrize("topic", TOPICS)
def test_a_library_on_one_topic_ranks_that_topic_first(community: Site, topic: str) -> None:  # noqa: F811
    ids = topic_papers(community, topic)
    assert len(ids) >= SAVED + 4, ids
    library, others = ids[:SAVED], ids[SAVED:]
    found = rec.for_library(community.radar, library, [], DAY, limit=20)
    ranked = [r["id"] for r in found.papers]
    assert found.candidates == len(rec.day_papers(community.store, DAY)) - SAVED and found.positives == SAVED
    assert not set(ranked) & set(library)  # the library is never recommended back
    assert all(r["published"] == DAY for r in found.papers)
    rows = [community.store.get(i) for i in ranked]
    assert all(about(r, topic) for r in rows[:3]) and sum(about(r, topic) for r in rows[:5]) >= 4, [
        r["title"] for r in rows[:5]]
    assert len([i for i in ranked[:10] if i in others]) >= 2  # the topic's other papers of the day
    scores = [r["score"] for r in found.papers]
    assert scores == sorted(scores, reverse=True)
    # the same library, papers on an unrelated topic: far down
    everything = [r["id"] for r in rec.recommend_library(community.radar, library, [], DAY, limit=None, explain=0)]
    off = [everything.index(r["id"]) for r in rec.day_papers(community.store, DAY)
           if UNRELATED in f"{r['title']} {r['abstract']}".lower() and not about(r, topic) and r["id"] in everything]
    assert len(off) >= 5 and min(off) >= 3 and np.median(off) > len(everything) / 4, off


def test_why_names_saved_papers_that_exist_and_terms_the_paper_has(community: Site) -> None:  # noqa: F811
    library = topic_papers(community, TOPICS[0])[:SAVED]
    titles = {i: community.store.get(i)["title"] for i in library}
    papers = rec.recommend_library(community.radar, library, [], DAY, limit=10)
    assert len(papers) == 10
    checked = 0
    for paper in papers:
        why = paper["why"]
        assert 1 <= len(why["near"]) <= rec.NEAR
        for near in why["near"]:
            assert near["id"] in titles and near["title"] == titles[near["id"]]  # saved, stored, named right
            assert -1.0 <= near["similarity"] <= 1.0
        sims = [n["similarity"] for n in why["near"]]
        assert sims == sorted(sims, reverse=True)
        # with a vector, the closest named is the library paper whose stored vector is nearest
        keys, vecs = community.store.get_vectors(community.radar.model, [paper["rowid"]] + [
            community.store.get(i)["rowid"] for i in library])
        if keys[0] == paper["rowid"]:
            cos = vecs[1:] @ vecs[0]
            best = library[int(np.argmax(cos))]
            assert why["near"][0]["id"] == best and abs(why["near"][0]["similarity"] - float(cos.max())) < 1e-3
            checked += 1
        text = f"{paper['title']} {paper['abstract']}".lower()
        assert 1 <= len(why["terms"]) <= rec.TERMS
        assert all(term in " ".join(text.split()) or all(w in text for w in term.split()) for term in why["terms"])
    assert checked >= 3  # most of the day's top papers have vectors
    assert any(any(w in t for w in ABOUT[TOPICS[0]])
               for p in papers[:3] for t in p["why"]["terms"])


def _twin(store: SQLiteStore, radar: Radar, paper_id: str, new_id: str) -> str:
    """A second record of the same work (a new id, one word of its abstract changed), with its own vector."""
    row = store.get(paper_id)
    abstract = row["abstract"].replace(" the ", " this ", 1)
    title = row["title"] + " (extended version)"
    store.merge([Paper(title=title, abstract=abstract, authors=row["authors"], categories=row["categories"],
                       id=new_id, arxiv_id=new_id, published=row["published"], meta_date=row["published"],
                       source="test")], "test")
    rowid = store.rowids([new_id])[new_id]
    vector = radar.encoder.encode([paper_text(title, abstract)])
    store.save_vectors(radar.model, [rowid], [text_hash(title, abstract)], vector)
    return new_id


def test_hiding_a_paper_drops_it_and_its_near_twins(community: Site) -> None:  # noqa: F811
    ids = topic_papers(community, TOPICS[0])
    library = ids[:SAVED]
    first = [r["id"] for r in rec.recommend_library(community.radar, library, [], DAY, limit=5, explain=0)]
    target = next(i for i in first if i in ids)  # the best ranked of the topic's other papers
    twin = _twin(community.store, community.radar, target, "2503.99990")
    before = [r["id"] for r in rec.recommend_library(community.radar, library, [], DAY, limit=None, explain=0)]
    assert target in before[:5] and twin in before[:5]  # the twin ranks with it
    after = [r["id"] for r in rec.recommend_library(community.radar, library, [target], DAY, limit=None, explain=0)]
    assert target not in after and twin not in after
    assert len(after) == len(before) - 2  # nothing else dropped ...
    others = [i for i in ids[SAVED:] if i in before[:15] and i not in (target, twin)]
    assert others and all(i in after[:20] for i in others)  # ... and the topic stays
    # the same through an account: hidden in the library, gone from for-you
    member = add_member(community.store, "hider@example.org")
    for paper_id in library:
        community.store.save_paper(member.user.id, paper_id)
    shown = [r["id"] for r in rec.for_user(community.radar, member.user.id, date.fromisoformat(DAY), 500).papers]
    assert target in shown and twin in shown
    community.store.hide_paper(member.user.id, target)
    shown = [r["id"] for r in rec.for_user(community.radar, member.user.id, date.fromisoformat(DAY), 500).papers]
    assert target not in shown and twin not in shown


def test_an_account_model_is_cached_and_retrained_when_the_library_changes(community: Site) -> None:  # noqa: F811
    ids = topic_papers(community, TOPICS[0])
    member = add_member(community.store, "reader@example.org")
    day = date.fromisoformat(DAY)
    community.store.add_follow(member.user.id, "category", "cs.CV")
    cold = rec.for_user(community.radar, member.user.id, day, 10)
    assert cold.cold and cold.positives == 0 and "cs.CV" in cold.reason
    assert cold.papers and all("cs.CV" in r["categories"] for r in cold.papers)
    trends = [r["score"] for r in cold.papers]
    assert trends == sorted(trends, reverse=True) and trends[0] > 0  # trending: upvoted papers first
    for paper_id in ids[:2]:
        community.store.save_paper(member.user.id, paper_id)
    assert rec.for_user(community.radar, member.user.id, day, 10).cold  # two positives: still cold
    community.store.add_user_vote(ids[2], member.user.id)  # an upvote is a positive too
    warm = rec.for_user(community.radar, member.user.id, day, 10)
    assert not warm.cold and warm.positives == 3 and len(warm.papers) == 10
    assert not {r["id"] for r in warm.papers} & set(ids[:3])
    model = rec.model_for(community.radar, member.user.id)
    assert rec.model_for(community.radar, member.user.id) is model  # cached: no retraining
    top = warm.papers[0]
    other = add_member(community.store, "voter@example.org")
    community.store.add_user_vote(top["id"], other.user.id)  # votes change no paper's text, only its count
    again_top = rec.for_user(community.radar, member.user.id, day, 10).papers[0]
    assert again_top["id"] == top["id"] and again_top["upvotes"] == top["upvotes"] + 1  # shown as it is now
    community.store.save_paper(member.user.id, ids[3])
    again = rec.model_for(community.radar, member.user.id)
    assert again is not model and len(again.positives) == 4
    sig = rec.signals(community.store, member.user.id)
    assert sig.categories == ["cs.CV"] and len(sig.positives) == 4 and sig.saved == 3 and sig.upvoted == 1


def test_followed_authors_and_the_library_authors_lift_their_papers(community: Site) -> None:  # noqa: F811
    ids = topic_papers(community, TOPICS[0])
    library = ids[:SAVED]
    rows = rec.recommend_library(community.radar, library, [], DAY, limit=None, explain=0)
    last = rows[-1]
    assert last["authors"]
    member = add_member(community.store, "follower@example.org")
    for paper_id in library:
        community.store.save_paper(member.user.id, paper_id)
    community.store.add_follow(member.user.id, "author", last["authors"][0])
    found = rec.for_user(community.radar, member.user.id, date.fromisoformat(DAY), 500).papers
    where = [r["id"] for r in found].index(last["id"])
    assert where < len(found) - 1  # no longer last
    assert f"author {last['authors'][0]}" in found[where]["why"]["follows"]


# -- the command line -----------------------------------------------------------------------------


def test_recommend_command(community: Site) -> None:  # noqa: F811
    library = topic_papers(community, TOPICS[0])[:SAVED]
    db = community.path
    code, out = quiet_main("--db", db, "recommend", "--library", *library, "--date", DAY, "--limit", "3")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith(f"{DAY}: ") and "ranked by a model of the 4 papers given" in lines[0]
    assert sum(1 for line in lines if line.strip().startswith("close to: [")) == 3
    assert sum(1 for line in lines if line.strip().startswith("terms: ")) == 3
    assert any(f"[{i}]" in out for i in library)  # the saved papers named in why
    code, out = quiet_main("--db", db, "recommend", "--library", *library, "--date", DAY, "--limit", "2", "--json")
    assert code == 0, out
    body = json.loads(out)
    assert body["date"] == DAY and body["cold"] is False and body["positives"] == 4 and len(body["papers"]) == 2
    assert body["papers"][0]["score"] >= body["papers"][1]["score"]
    assert {n["id"] for p in body["papers"] for n in p["why"]["near"]} <= set(library)
    hidden = body["papers"][0]["id"]
    code, out = quiet_main("--db", db, "recommend", "--library", *library, "--hidden", hidden, "--date", DAY,
                           "--json")
    assert code == 0 and hidden not in [p["id"] for p in json.loads(out)["papers"]]
    code, out = quiet_main("--db", db, "recommend", "--library", library[0], "2599.00001", "--date", DAY)
    assert code == 1 and "no paper with id '2599.00001'" in out
    code, out = quiet_main("--db", db, "recommend", "--library", library[0])
    assert code == 2 and "--date" in out
    code, out = quiet_main("--db", db, "recommend", "--user", "nobody@example.org")
    assert code == 1 and "no account" in out
    member = add_member(community.store, "cli@example.org")
    code, out = quiet_main("--db", db, "recommend", "--user", "cli@example.org", "--date", DAY, "--json")
    assert code == 0 and json.loads(out)["cold"] is True
    for paper_id in library:
        community.store.save_paper(member.user.id, paper_id)
    code, out = quiet_main("--db", db, "recommend", "--user", "cli@example.org", "--date", DAY, "--limit", "2")
    assert code == 0 and "4 saved" in out.splitlines()[0] and "close to: [" in out


# -- eval recs ----------------------------------------------------------------------------------------

WORDS = {  # one topic per list: a paper's text is drawn from one of them
    "codes": "quantum error correction surface codes logical qubits decoder syndrome threshold lattice stabilizer",
    "galaxy": "galaxy clusters redshift dark matter halo lensing survey telescope luminosity stellar mass",
    "cooking": "recipe flavour kitchen baking dough oven sugar butter pastry dessert chocolate",
}


def _paper(arxiv_id: str, topic: str, share: float, day: str, category: str, seed: int) -> dict[str, Any]:
    """A paper whose text is ``share`` of its topic's words and the rest cooking (the filler topic)."""
    words = WORDS[topic].split()
    filler = WORDS["cooking"].split()
    k = round(len(words) * share)
    rng = np.random.default_rng(seed)
    body = words[:k] + list(rng.permutation(filler))[: len(words) - k]
    return {"arxiv_id": arxiv_id, "title": f"{' '.join(body[:4]).title()} {arxiv_id}",
            "abstract": " ".join(body * 3), "authors": [], "categories": [category], "listed": day}


def _tiny_set(folder: Path, gz: bool) -> None:
    """Two readers. A's library is on codes; on 2026-04-01 four papers have 100%, 70%, 40% and 0% of
    its words (the rest cooking), so their order is fixed; A's own paper is the 70% one (rank 2).
    B's library is on galaxies; on 2026-04-02 two papers are on galaxies and ten are pure cooking;
    B's own papers are the first galaxy one (rank 1) and a cooking one (rank 3 to 12)."""
    corpus = [_paper(f"2501.0000{i}", "codes", 1.0, "2025-01-10", "quant-ph", i) for i in range(1, 4)]
    corpus += [_paper(f"2501.0001{i}", "galaxy", 1.0, "2025-01-10", "astro-ph.GA", 10 + i) for i in range(1, 4)]
    corpus += [_paper("2604.00001", "codes", 1.0, "2026-04-01", "quant-ph", 21),
               _paper("2604.00002", "codes", 0.7, "2026-04-01", "quant-ph", 22),
               _paper("2604.00003", "codes", 0.4, "2026-04-01", "quant-ph", 23),
               _paper("2604.00004", "cooking", 1.0, "2026-04-01", "physics.pop-ph", 24)]
    corpus += [_paper("2604.00011", "galaxy", 1.0, "2026-04-02", "astro-ph.GA", 31),
               _paper("2604.00012", "galaxy", 0.6, "2026-04-02", "astro-ph.GA", 32)]
    corpus += [_paper(f"2604.000{20 + i}", "cooking", 1.0, "2026-04-02", "physics.pop-ph", 40 + i) for i in range(10)]
    lines = "".join(json.dumps(p) + "\n" for p in corpus).encode("utf-8")
    if gz:
        (folder / "corpus.jsonl.gz").write_bytes(gzip.compress(lines))
    else:
        (folder / "corpus.jsonl").write_bytes(lines)
    tasks = [{"user": "a", "library": ["2501.00001", "2501.00002", "2501.00003"], "day": "2026-04-01",
              "relevant": ["2604.00002"]},
             {"user": "b", "library": ["2501.00011", "2501.00012", "2501.00013"], "day": "2026-04-02",
              "relevant": ["2604.00011", "2604.00025"]}]
    (folder / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")


@pytest.mark.parametrize("gz", [False, True])
def test_eval_recs_on_a_tiny_set_gives_the_metrics_worked_out_by_hand(tmp_path: Path, gz: bool) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    _tiny_set(folder, gz)
    own_db = tmp_path / "mine.db"
    rankings = tmp_path / "rankings.json"
    code, out = quiet_main("--db", own_db, "eval", "recs", folder, "--json", "--rankings", rankings,
                           "--no-progress")
    assert code == 0, out
    assert not own_db.exists()  # a temporary store: the user's database is untouched
    result = json.loads(out[out.index("{"):])
    ranked = json.loads(rankings.read_text(encoding="utf-8"))
    assert set(ranked) == {"a|2026-04-01", "b|2026-04-02"}
    assert ranked["a|2026-04-01"] == ["2604.00001", "2604.00002", "2604.00003", "2604.00004"]
    b = ranked["b|2026-04-02"]
    assert b[:2] == ["2604.00011", "2604.00012"] and len(b) == 12 and set(b[2:]) == {
        f"2604.000{20 + i}" for i in range(10)}
    cooking_rank = b.index("2604.00025") + 1  # among ten identical-looking cooking papers: 3 to 12
    assert 3 <= cooking_rank <= 12
    # by hand: A's relevant paper at rank 2; B's at ranks 1 and cooking_rank
    mrr = (1 / 2 + 1 / 1) / 2
    recall = (1 + (2 if cooking_rank <= 10 else 1) / 2) / 2
    ndcg_a = (1 / math.log2(3)) / 1
    ndcg_b = (1 + (1 / math.log2(cooking_rank + 1) if cooking_rank <= 10 else 0)) / (1 + 1 / math.log2(3))
    assert result["tasks"] == 2 and result["papers"] == 22
    assert result["tuning"] == asdict(rec.DEFAULT) and result["candidates"] == (4 + 12) / 2
    assert result["mrr"] == round(mrr, 4) == 0.75
    assert result["recall@10"] == round(recall, 4)
    assert result["ndcg@10"] == round((ndcg_a + ndcg_b) / 2, 4)
    code, text = quiet_main("eval", "recs", folder, "--no-progress")
    assert code == 0 and "MRR          0.750" in text and "(2 tasks" in text and "embedding 22 papers" in text


def test_eval_recs_says_what_is_wrong_with_a_folder(tmp_path: Path) -> None:
    code, out = quiet_main("eval", "recs", tmp_path, "--no-progress")
    assert code == 1 and "no corpus.jsonl or corpus.jsonl.gz" in out
    code, out = quiet_main("eval", "recs", tmp_path, "--set", "nope=1")
    assert code == 2 and "--set: expected NAME=VALUE with NAME one of C, idf_power" in out
    code, out = quiet_main("eval", "recs", tmp_path, "--set", "vector=lots")
    assert code == 2 and "--set: vector takes a float: 'lots'" in out
    _tiny_set(tmp_path, gz=False)
    (tmp_path / "tasks.jsonl").write_text('{"user": "a", "day": "2026-04-01"}\n', encoding="utf-8")
    code, out = quiet_main("eval", "recs", tmp_path, "--no-progress")
    assert code == 1 and "tasks.jsonl, line 1: missing or bad field 'library'" in out
    (tmp_path / "tasks.jsonl").write_text('{"user": "a", "library": ["2599.00009"], "day": "2026-04-01", '
                                          '"relevant": []}\n', encoding="utf-8")
    code, out = quiet_main("eval", "recs", tmp_path, "--no-progress")
    assert code == 1 and "task a|2026-04-01: no paper with id '2599.00009'" in out
