"""Sweep hybrid ranking settings on an already indexed eval set: fusion, or recency as of each question.

Retrieval only; one process, so each query is embedded once for every setting. Prints one row per
setting (document-level nDCG@10, recall@10, MRR@10), dense and lexical first for reference.

    python3 benchmarks/tune_ranking.py ../shared/eval/clapnq_dev --index /tmp/evalidx/clapnq \\
        [--grid fusion|recency] [--sample-others N] [--title-in-chunk] [--chunk-size 1000 --chunk-overlap 150]

``--grid recency`` ranks as of each question's date (news sets) with weighted fusion at
``--fusion-weight`` and sweeps the recency bonus's weight and half-life (weight 0: the as-of date
only leaves out later passages).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.embedding import RememberingEmbedder
from rag.eval.data import read_eval_set
from rag.eval.harness import EvalOptions, prepare_engine, run_queries, summarize
from rag.pipeline import build_pipeline
from rag.retrieve.recency import Recency
from rag.retrieve.retrievers import make_retriever
from rag.settings import Settings

# (retriever, fusion, dense weight (None: --fusion-weight), depth, recency weight, half-life days,
#  ranked as of the question's date)
REFERENCE = [("dense", "-", None, 50, 0.0, 0.0, False), ("lexical", "-", None, 50, 0.0, 0.0, False)]
GRIDS = {
    "fusion": REFERENCE + [("hybrid", "weighted", w, 50, 0.0, 0.0, False)
                           for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)] + [
        ("hybrid", "rrf", None, 50, 0.0, 0.0, False), ("hybrid", "weighted", 0.5, 100, 0.0, 0.0, False),
        ("hybrid", "rrf", None, 100, 0.0, 0.0, False)],
    "recency": REFERENCE + [("hybrid", "weighted", None, 50, 0.0, 0.0, False),
                            ("hybrid", "weighted", None, 50, 0.0, 0.0, True)] + [
        ("hybrid", "weighted", None, 50, w, h, True) for w in (0.05, 0.1, 0.2, 0.3)
        for h in (3.0, 7.0, 14.0, 30.0)],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--grid", choices=sorted(GRIDS), default="fusion")
    parser.add_argument("--fusion-weight", type=float, default=0.7)
    parser.add_argument("--sample-others", type=int)
    parser.add_argument("--title-in-chunk", action="store_true")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--chunk-overlap", type=int, default=150)
    args = parser.parse_args()
    eval_set = read_eval_set(args.dataset)
    settings = Settings.load(index_dir=args.index, title_in_chunk=args.title_in_chunk,
                             chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    options = EvalOptions(sample_others=args.sample_others, answers=False)
    engine = prepare_engine(eval_set, settings, options)
    memo = RememberingEmbedder(engine.embedder)
    print(f"{eval_set.name} ({engine.settings.collection}, {engine.store.count()} chunks)")
    print("retriever  fusion    weight  depth  as-of  recency  half-life  ndcg@10  recall@10  mrr@10")
    for kind, method, weight, depth, bonus, half_life, as_of in GRIDS[args.grid]:
        weight = args.fusion_weight if method == "weighted" and weight is None else weight
        retriever = make_retriever(kind, engine.store, memo, method, weight or 0.5,
                                   depth, Recency(half_life, bonus))
        pipeline = build_pipeline(engine.settings, engine.store, memo, retriever)
        results = run_queries(eval_set.queries, pipeline, options.k, options.depth, answers=False,
                              as_of_question_date=as_of)
        r = summarize(eval_set, eval_set.queries, results)["retrieval"]
        print(f"{kind:9}  {method:8}  {weight or '-':>6}  {depth:5}  {'yes' if as_of else 'no':>5}  "
              f"{bonus or '-':>7}  {half_life or '-':>9}  {r['ndcg@10']:.4f}  {r['recall@10']:9.4f}  "
              f"{r['mrr@10']:.4f}", flush=True)
    engine.close()


if __name__ == "__main__":
    main()
