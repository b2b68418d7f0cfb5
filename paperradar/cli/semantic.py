"""Commands of the semantic engine: ``embed``, ``similar``, ``eval csfcube`` (``eval recs``: cli/recommend.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..app import Radar
from ..index.embed import EmbedReport
from ..index.embed_ray import Cluster, ClusterError
from ..present import paper_json
from ..rank.facets import FACETS
from ..rank.fusion import MODES
from ..store import StorageFault
from .common import emit_json, positive, print_paper


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("embed", parents=[common], help="embed papers that have no vector yet (or whose text changed)",
                       description="Compute the vectors semantic search and similar papers need, for every paper "
                                   "that lacks one of the current model or whose title or abstract changed, then "
                                   "update the vector index. Batches are committed as they finish: an interrupted "
                                   "run resumes where it stopped.")
    p.add_argument("--limit", type=positive, metavar="N", help="embed at most N papers this time")
    p.add_argument("--status", action="store_true", help="only report how many papers are embedded and pending")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="compute the vectors as Ray tasks on the cluster at ADDRESS (as ray.init takes it: "
                        "HOST:PORT, ray://HOST:PORT, auto; without ADDRESS a local Ray); needs "
                        "pip install 'paperradar[ray]' here and on every worker")
    p.set_defaults(run=cmd_embed)

    p = sub.add_parser("similar", parents=[common], help="papers similar to one paper",
                       description="All other papers ranked by similarity to paper ID: shared words (BM25), "
                                   "document vectors, and a sentence-by-sentence comparison, fused by rank. "
                                   "--facet makes the paper's sentences about that aspect drive the ranking.")
    p.add_argument("id", help="paper id (arXiv id with or without version, doi:..., or another stored id)")
    p.add_argument("--limit", type=positive, default=10, help="number of papers (default 10)")
    p.add_argument("--facet", choices=FACETS,
                   help="compare on one aspect: background (the problem), method, or result (the findings)")
    p.add_argument("--mode", choices=list(MODES), default="hybrid",
                   help="signals used: keyword, semantic (vectors), or hybrid (all; the default)")
    p.add_argument("--json", action="store_true", help="print papers as a JSON array (with each signal's rank)")
    p.set_defaults(run=cmd_similar)

    p = sub.add_parser("eval", parents=[common], help="measure ranking quality on an evaluation set",
                       description="Evaluate paperradar's rankings on a judged set. The database is not used: "
                                   "the set's corpus is imported into a temporary one.")
    sets = p.add_subparsers(dest="eval_set", metavar="SET", required=True)
    e = sets.add_parser("csfcube", parents=[common], help="CSFCube: similar papers judged by experts, per facet",
                        description="Import DIR/corpus.jsonl into a temporary store, rank each query paper's "
                                    "judged pool (DIR/queries.jsonl, DIR/qrels.tsv) with `similar` in each mode, "
                                    "with and without the query's facet, and print NDCG%%20 and MAP (grade >= 2). "
                                    "With a PostgreSQL --db, the temporary database is made on that server "
                                    "(and dropped).")
    e.add_argument("dir", metavar="DIR", help="folder with corpus.jsonl, queries.jsonl and qrels.tsv")
    e.add_argument("--no-facets", action="store_true", help="skip the rankings with facets (faster)")
    e.add_argument("--json", action="store_true", help="print the scores as JSON")
    e.add_argument("--no-progress", action="store_true", help="no progress bars")
    e.set_defaults(run=cmd_eval, uses_db=False)
    from .recommend import register_eval

    register_eval(sets, common)


def cmd_embed(radar: Radar, args: argparse.Namespace) -> int:
    if args.status:
        status = radar.embed_status()
        if args.json:
            emit_json(status)
        else:
            print(f"model: {status['model']}")
            print(f"papers: {status['papers']}, embedded: {status['embedded']}, pending: {status['pending']}"
                  f" (no vector: {status['missing']}, text changed: {status['changed']})")
            print(f"vector index: {status['indexed']} papers")
            print(f"sentence vectors (similar papers): {status['sentences']} papers, pending: {status['sentences_pending']}")
            for model, n in status["other_models"].items():
                print(f"vectors of an earlier model ({model}): {n} (replaced as papers are embedded again)")
        return 0
    progress = not args.no_progress and sys.stderr.isatty()
    cluster: Cluster | None = None
    try:
        if args.ray is None:
            report = radar.refresh(embed=True, progress=progress, limit=args.limit).embedding
        else:
            report, cluster = embed_on_ray(radar, args.ray or None, progress, args.limit)
    except KeyboardInterrupt:
        print("paperradar: embedding interrupted; finished batches are kept: run `paperradar embed` again to go on",
              file=sys.stderr)
        return 130
    except ClusterError as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    assert report is not None
    data = report.as_json()
    if cluster is not None:
        data["ray"] = cluster.as_json()
    if args.json:
        emit_json(data)
        return 0
    rate = f" ({data['papers_per_second']:.0f} papers/s)" if data["papers_per_second"] else ""
    on = f" on Ray ({cluster.cpus} CPU{'s' * (cluster.cpus != 1)} at {cluster.address})" if cluster else ""
    print(f"{report.embedded} papers embedded in {report.seconds:.1f}s{rate}{on}; model {report.model}")
    if report.sentences:
        print(f"sentence vectors for similar papers: {report.sentences} papers in {report.sentence_seconds:.1f}s")
    left = report.pending - report.embedded
    if left:
        print(f"{left} papers still pending: run `paperradar embed` again")
    return 0


def embed_on_ray(radar: Radar, address: str | None, progress: bool, limit: int | None) -> tuple[EmbedReport, Cluster]:
    """``embed --ray``: the same refresh as plain ``embed``, the vectors computed on the cluster."""
    from ..index.embed_ray import on_cluster

    if radar.store.read_only:  # before connecting: every vector made would have to be stored
        raise StorageFault(radar.store.path, radar.store.read_only)
    with on_cluster(address) as (batches, cluster):
        report = radar.refresh(embed=True, progress=progress, limit=limit, batches=batches).embedding
    assert report is not None
    return report, cluster


def cmd_similar(radar: Radar, args: argparse.Namespace) -> int:
    from ..rank.similar import NotEmbedded, UnknownPaper, similar

    radar.refresh()
    try:
        rows = similar(radar, args.id, facet=args.facet, limit=args.limit, mode=args.mode)
    except (UnknownPaper, NotEmbedded) as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    if args.json:
        emit_json([{**paper_json(r), "why": r.get("why", {})} for r in rows])
        return 0
    if not rows:
        print("no similar papers")
    for rank, row in enumerate(rows, start=1):
        print_paper(row, rank)
    return 0


def cmd_eval(radar: Radar | None, args: argparse.Namespace) -> int:
    from ..config import resolve_db
    from ..eval.corpus import EvalError, on_postgres
    from ..eval.csfcube import evaluate, table
    from ..store import StoreError

    try:  # on a PostgreSQL --db, measured in a temporary database made on that server
        result = evaluate(args.dir, facets=not args.no_facets, progress=not args.no_progress and sys.stderr.isatty(),
                          server=on_postgres(resolve_db(getattr(args, "db", None))))
    except (EvalError, StoreError) as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    if args.json:
        emit_json(result)
    else:
        print(table(result))
    return 0
